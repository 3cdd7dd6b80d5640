"""A cohort: a spec plus its validated, canonically typed data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._errors import InputFileError
from ..spec import CohortSpec, FeatureSpec
from ..validation import coerce, is_missing

PATIENT_ID = "patient_id"
ARM = "arm"

MSG_MISSING_COLUMNS = "The data for cohort {cohort!r} lacks column(s) {missing}. Available columns: {available}."
MSG_BAD_ROWS = "{n} row(s) of the data for cohort {cohort!r} were refused (nothing is dropped silently):\n{rows}"


@dataclass(frozen=True)
class Cohort:
    """A spec and its data.

    ``frame`` has a ``patient_id`` column, one canonically typed column per feature (numeric and
    binary as float with NaN for missing, categorical/genotype as pandas Categorical with the spec's
    categories), the treatment column ``arm`` for arm cohorts, and the outcome columns named by the spec.
    """

    spec: CohortSpec
    frame: pd.DataFrame
    source: dict = field(default_factory=dict)
    exclusions: tuple[dict, ...] = ()

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def patient_ids(self) -> np.ndarray:
        return self.frame[PATIENT_ID].to_numpy()

    @property
    def features(self) -> pd.DataFrame:
        return self.frame[self.spec.feature_names]

    def summary(self) -> dict:
        out = {
            "name": self.spec.name,
            "title": self.spec.title,
            "design": self.spec.study_design,
            "n": self.n,
            "source": self.spec.source,
            "citation": self.spec.citation,
            "licence": self.spec.licence,
            "sha256": self.source.get("sha256", ""),
            "exclusions": list(self.exclusions),
        }
        if not self.spec.is_dose:
            out["arms"] = {a: int((self.frame[ARM] == a).sum()) for a in self.spec.arms}
        return out


def protected_attributes(spec: CohortSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """One string column per protected attribute (numeric sources are banded); missing -> 'missing'."""
    out = {}
    for attr in spec.protected:
        col = frame[attr.source]
        if attr.bins:
            banded = pd.cut(pd.to_numeric(col), bins=list(attr.bins), labels=list(attr.labels), right=False)
            out[attr.name] = banded.astype(object).where(banded.notna(), "missing").astype(str)
        else:
            values = col.astype(object)
            out[attr.name] = values.where(values.notna(), "missing").map(_category_text)
    return pd.DataFrame(out, index=frame.index)


def _category_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def patient_frame(spec: CohortSpec, records: list[dict]) -> pd.DataFrame:
    """Validated patient records (canonical values) as a typed frame of the spec's features."""
    frame = pd.DataFrame.from_records(records, columns=spec.feature_names)
    return _typed(spec, frame)


def _typed(spec: CohortSpec, frame: pd.DataFrame) -> pd.DataFrame:
    columns = {}
    for f in spec.features:
        if f.type in ("numeric", "binary"):
            columns[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype(float)
        else:
            columns[f.name] = pd.Categorical(frame[f.name], categories=list(f.categories))
    return pd.DataFrame(columns, index=frame.index)


def cohort_from_frame(spec: CohortSpec, raw: pd.DataFrame, *, source: dict | None = None,
                      exclusions: tuple[dict, ...] = ()) -> Cohort:
    """Check and type a raw table whose columns are named as in the spec; refuse bad rows loudly."""
    outcome = spec.outcome
    needed = [spec.patient_id] + spec.feature_names
    needed += [spec.treatment.column] if not spec.is_dose else []
    needed += [c for c in (outcome.column, outcome.time_column, outcome.event_column) if c]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise InputFileError(MSG_MISSING_COLUMNS.format(
            cohort=spec.name, missing=missing, available=", ".join(map(str, raw.columns))))
    raw = raw.reset_index(drop=True)
    problems: list[str] = []
    values = {f.name: _column(f, raw, spec, problems) for f in spec.features}
    frame = _typed(spec, pd.DataFrame(values))
    ids = raw[spec.patient_id].astype(str)
    if ids.duplicated().any():
        dupes = ids[ids.duplicated()].unique()[:5].tolist()
        problems.append(f"patient ID(s) {dupes} occur more than once in column {spec.patient_id!r}")
    frame.insert(0, PATIENT_ID, ids.to_numpy())
    if not spec.is_dose:
        arms = raw[spec.treatment.column].astype(str)
        bad = ~arms.isin(spec.arms)
        problems += [_row(raw, spec, i, f"arm {arms[i]!r} is not one of {spec.arms}") for i in np.flatnonzero(bad)[:5]]
        frame[ARM] = arms.to_numpy()
    frame = frame.join(_outcome(spec, raw, problems))
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InputFileError(MSG_BAD_ROWS.format(n=len(problems), cohort=spec.name, rows=shown + more))
    return Cohort(spec=spec, frame=frame, source=dict(source or {}), exclusions=tuple(exclusions))


def _row(raw: pd.DataFrame, spec: CohortSpec, i: int, message: str) -> str:
    return f"row {i + 1} (patient {raw[spec.patient_id].iloc[i]}): {message}"


def _column(f: FeatureSpec, raw: pd.DataFrame, spec: CohortSpec, problems: list[str]) -> list:
    out = []
    for i, value in enumerate(raw[f.name].tolist()):
        if is_missing(value):
            if f.required:
                problems.append(_row(raw, spec, i, f"the required field {f.name!r} is missing"))
            out.append(None)
            continue
        try:
            out.append(coerce(f, value))
        except ValueError as exc:
            problems.append(_row(raw, spec, i, str(exc)))
            out.append(None)
    return out


def _outcome(spec: CohortSpec, raw: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    o = spec.outcome
    cols = [c for c in (o.column, o.time_column, o.event_column) if c]
    out = raw[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    for c in cols:
        for i in np.flatnonzero(out[c].isna().to_numpy())[:5]:
            problems.append(_row(raw, spec, i, f"outcome column {c!r} has non-numeric or missing value {raw[c].iloc[i]!r}"))
    if o.type == "time_to_event":
        bad = ~(out[o.time_column] > 0) & out[o.time_column].notna()
        problems += [_row(raw, spec, i, f"{o.time_column!r} must be > 0 {o.time_unit}") for i in np.flatnonzero(bad)[:5]]
        bad = ~out[o.event_column].isin([0.0, 1.0]) & out[o.event_column].notna()
        problems += [_row(raw, spec, i, f"{o.event_column!r} must be 0 (censored) or 1 (event)") for i in np.flatnonzero(bad)[:5]]
    elif o.type == "binary":
        bad = ~out[o.column].isin([0.0, 1.0]) & out[o.column].notna()
        problems += [_row(raw, spec, i, f"{o.column!r} must be 0 or 1") for i in np.flatnonzero(bad)[:5]]
    return out

"""Audit any model's predictions from a CSV or Parquet file, with messages that say what is wrong and where."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._errors import InputFileError
from .._format import python_value as _plain
from .._params import check_parameters
from .audit import _CONSTRAINTS, SubgroupAudit, audit_subgroups
from .groups import as_labels as _as_labels

__all__ = ["audit_predictions_file"]

MSG_FILE_NOT_FOUND = "The predictions file {path} does not exist."
MSG_FILE_TYPE = "The predictions file {path} must be a .csv or .parquet file. Got {suffix!r} instead."
MSG_FILE_UNREADABLE = "The predictions file {path} could not be read as {kind}: {error}"
MSG_FILE_EMPTY = "The predictions file {path} has no rows: there is nothing to audit."
MSG_FILE_COLUMN = (
    "The predictions file {path} has no column {column!r} (the {role}). Available columns: {available}."
)
MSG_FILE_MISSING_VALUES = (
    "The {column!r} column (the {role}) of {path} has {count} missing value(s), first in data row "
    "{row}: fill or remove them; the audit never drops patients silently."
)
MSG_FILE_NOT_NUMERIC = (
    "The {column!r} column (the {role}) of {path} must be numeric. Got {value!r} in data row {row} instead."
)
MSG_FILE_NOT_BINARY = (
    "The {column!r} column (the label) of {path} must hold only 0 and 1 for task='binary'. "
    "Got {values} instead."
)
MSG_FILE_NOT_PROBABILITY = (
    "The {column!r} column (the score) of {path} must hold probabilities in [0, 1] for "
    "task='binary'. Got {value!r} in data row {row} instead."
)
MSG_FILE_NEGATIVE_WEIGHT = (
    "The {column!r} column (the weight) of {path} must be >= 0. Got {value!r} in data row {row} instead."
)


def audit_predictions_file(
    path,
    *,
    label: str,
    score: str,
    attributes: Sequence[str],
    task: str = "binary",
    n_boot: int = 200,
    seed: int = 0,
    interval: tuple[str, str] | None = None,
    weight: str | None = None,
    min_group_size=None,
    intersections: bool = True,
    confidence: float = 0.95,
    alpha: float = 0.05,
    correction: str = "holm",
) -> SubgroupAudit:
    """Audit a CSV or Parquet file of test-set predictions (one row per patient).

    ``label``, ``score`` and ``attributes`` name columns; ``interval`` optionally names the
    (low, high) columns of prediction intervals and ``weight`` a sample-weight column. Every problem
    with the file raises :class:`InputFileError` saying what is wrong and where; rows with missing
    values are refused, never silently dropped. ``alpha`` and ``correction`` are those of
    :func:`audit_subgroups` (flags corrected for every test of the audit, Holm by default).
    """
    check_parameters("audit_predictions_file", {"task": _CONSTRAINTS["task"]}, task=task)
    path = Path(path)
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    roles = {label: "label", score: "score"}
    roles.update({a: "attribute" for a in attributes})
    if interval is not None:
        roles.update({interval[0]: "interval low", interval[1]: "interval high"})
    if weight is not None:
        roles[weight] = "weight"

    frame = _read_table(path, attributes)
    for column, role in roles.items():
        if column not in frame.columns:
            raise InputFileError(MSG_FILE_COLUMN.format(path=path, column=column, role=role,
                                                        available=", ".join(map(str, frame.columns))))
    if len(frame) == 0:
        raise InputFileError(MSG_FILE_EMPTY.format(path=path))
    for column, role in roles.items():
        missing = np.flatnonzero(frame[column].isna().to_numpy())
        if missing.size:
            raise InputFileError(MSG_FILE_MISSING_VALUES.format(
                column=column, role=role, path=path, count=missing.size, row=int(missing[0]) + 1))

    y = _file_labels(frame[label], label, path, task)
    pred = _file_numeric(frame[score], score, "score", path)
    if task == "binary":
        bad = np.flatnonzero((pred < 0) | (pred > 1))
        if bad.size:
            raise InputFileError(MSG_FILE_NOT_PROBABILITY.format(
                column=score, path=path, value=pred[bad[0]].item(), row=int(bad[0]) + 1))
    bounds = None
    if interval is not None:
        bounds = np.column_stack([_file_numeric(frame[c], c, roles[c], path) for c in interval])
    w = None
    if weight is not None:
        w = _file_numeric(frame[weight], weight, "weight", path)
        bad = np.flatnonzero(w < 0)
        if bad.size:
            raise InputFileError(MSG_FILE_NEGATIVE_WEIGHT.format(
                column=weight, path=path, value=w[bad[0]].item(), row=int(bad[0]) + 1))
    groups = pd.DataFrame({a: _as_labels(frame[a]) for a in attributes})
    return audit_subgroups(y, pred, groups, task=task, sample_weight=w, interval=bounds,
                           n_boot=n_boot, seed=seed, min_group_size=min_group_size,
                           intersections=intersections, confidence=confidence, alpha=alpha,
                           correction=correction)


def _read_table(path: Path, attributes: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(MSG_FILE_NOT_FOUND.format(path=path))
    from ..data.limits import MAX_PREDICTIONS_BYTES, regular_file

    if regular_file(path, "Predictions file").stat().st_size > MAX_PREDICTIONS_BYTES:  # no directory, device, FIFO
        raise InputFileError(f"Predictions file {str(path)!r} is {path.stat().st_size / 2**20:.1f} MB; "
                             f"the limit is {MAX_PREDICTIONS_BYTES / 2**20:.0f} MB.")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InputFileError(MSG_FILE_TYPE.format(path=path, suffix=path.suffix))
    kind = "CSV" if suffix == ".csv" else "Parquet"
    try:
        if kind == "CSV":
            header = pd.read_csv(path, nrows=0).columns
            return pd.read_csv(path, dtype={a: str for a in attributes if a in header})
        return pd.read_parquet(path)
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InputFileError(MSG_FILE_UNREADABLE.format(path=path, kind=kind,
                                                        error=f"{type(exc).__name__}: {exc}")) from exc


def _file_numeric(series: pd.Series, column: str, role: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if bad.size:
        raise InputFileError(MSG_FILE_NOT_NUMERIC.format(column=column, role=role, path=path,
                                                         value=_plain(series.iloc[bad[0]]),
                                                         row=int(bad[0]) + 1))
    values = values.to_numpy(dtype=np.float64)
    infinite = np.flatnonzero(~np.isfinite(values))
    if infinite.size:
        raise InputFileError(MSG_FILE_NOT_NUMERIC.format(column=column, role=role, path=path,
                                                         value=_plain(series.iloc[infinite[0]]),
                                                         row=int(infinite[0]) + 1))
    return values


def _file_labels(series: pd.Series, column: str, path: Path, task: str) -> np.ndarray:
    if task != "binary":
        return _file_numeric(series, column, "label", path)
    values = pd.to_numeric(series.astype(object) if series.dtype == bool else series, errors="coerce")
    ok = values.isin([0, 1]).to_numpy()
    if not ok.all():
        bad = pd.unique(series[~ok])[:5]
        raise InputFileError(MSG_FILE_NOT_BINARY.format(column=column, path=path,
                                                        values=", ".join(repr(_plain(v)) for v in bad)))
    return values.to_numpy(dtype=np.float64)

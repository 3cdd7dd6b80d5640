"""Declarative cohort specs: what each column means, its unit, its limits, and who may change it.

A spec is plain JSON (the bundled cohorts' specs live beside this module in ``cohorts/``;
a user brings their own with ``equipoise train --csv FILE --spec SPEC.json``). Allowed values are
declared in the tables below and checked in one place, :func:`CohortSpec.from_dict`.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._format import exact_number
from .._json import jsonable
from .caveats import Caveat, parse_caveats
from .._errors import SpecError

FEATURE_TYPES = ("numeric", "categorical", "binary", "genotype")
FEATURE_ROLES = ("demographic", "genomic", "biomarker", "clinical", "history", "medication")
OUTCOME_TYPES = ("time_to_event", "binary", "continuous")
TREATMENT_TYPES = ("arms", "dose")

# Which changes a clinician can make to a feature, per feature type (``"actionable"`` in the spec).
# ``stop``: a binary exposure may go from yes to no only (a co-medication may be stopped, never started to reach
# a target); ``start``: no to yes only; ``start_or_stop``: either way. ``decrease`` / ``increase``: a number (or an
# ordered category, in the listed order) may only go down / up; ``any``: either way. A genotype never changes.
# ``false``, ``null`` or absent: not actionable (immutable for the decision).
ACTIONABILITY = {
    "binary": ("stop", "start", "start_or_stop"),
    "numeric": ("decrease", "increase", "any"),
    "categorical": ("decrease", "increase", "any"),
    "genotype": (),
}
# Backwards compatibility: ``"actionable": true`` in a user's spec. For a binary feature it means ``stop`` (the
# safe reading: the search may remove an exposure but never add a drug or a habit to hit a target; write
# ``"start_or_stop"`` to allow starting); for a number or a category it means ``any`` (as before).
ACTIONABLE_TRUE = {"binary": "stop", "numeric": "any", "categorical": "any"}
MSG_ACTIONABLE = ("The 'actionable' field of feature {name!r} (type {type!r}) must be one of {allowed}. "
                  "Got {got!r} instead.")
MSG_ACTIONABLE_GENOTYPE = ("The 'actionable' field of feature {name!r} must be false or absent: a genotype "
                           "cannot change. Got {got!r} instead.")


@dataclass(frozen=True)
class FeatureSpec:
    """One baseline feature.

    ``limits`` are hard (a value outside is impossible and refused); ``plausible`` is the range
    outside which a value is possible but unusual (it is used, with an ``implausible_value`` warning).
    ``actionable`` says which changes a clinician can make (one of :data:`ACTIONABILITY` for the type, e.g.
    ``"stop"`` for a co-medication); ``""`` (falsy) means immutable for the decision (a genotype).
    """

    name: str
    label: str
    type: str
    role: str
    unit: str = ""
    limits: tuple[float, float] | None = None
    plausible: tuple[float, float] | None = None
    categories: tuple[str, ...] = ()
    actionable: str = ""
    required: bool = True
    integer: bool = False
    description: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.type == "numeric"

    def allows_change(self, old, new) -> bool:
        """Whether a clinician could move this feature from ``old`` to ``new``; an unknown value never moves."""
        if not self.actionable or old is None or new is None or old == new:
            return False
        how = self.actionable
        if how in ("any", "start_or_stop"):
            return True
        if self.type == "binary":
            return (int(old), int(new)) == ((1, 0) if how == "stop" else (0, 1))
        if self.is_numeric:
            a, b = float(old), float(new)
        else:
            a, b = self.categories.index(str(old)), self.categories.index(str(new))
        return b < a if how == "decrease" else b > a

    def describe_actionable(self) -> str:
        """The allowed changes in words ('may be stopped, not started'), or '' when immutable."""
        return {"stop": "may be stopped, not started", "start": "may be started, not stopped",
                "start_or_stop": "may be started or stopped", "decrease": "may only be lowered",
                "increase": "may only be raised", "any": "may be raised or lowered"}.get(self.actionable, "")

    def describe_range(self) -> str:
        """The allowed values in clinical words: ``a number from 20 to 300 kg``, ``a whole number from 12 to 100
        years``, ``yes or no``, ``female or male``, ``naive, 1-52 weeks or >52 weeks``."""
        if self.is_numeric:
            lo, hi = self.limits
            unit = f" {self.unit}" if self.unit else ""
            kind = "a whole number" if self.integer else "a number"
            return f"{kind} from {exact_number(lo)} to {exact_number(hi)}{unit}"
        if self.type == "binary":
            return "yes or no"
        return either(self.categories)

    def value_words(self, value) -> str:
        """One value as a person reads it: ``yes``/``no`` for a binary feature, ``unknown`` for a missing one, the
        number with its unit, the category as written."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "unknown"
        if self.type == "binary":
            text = str(value).strip().lower()
            return "yes" if text in ("1", "1.0", "true", "yes") else "no" if text in ("0", "0.0", "false", "no") \
                else str(value)
        if self.is_numeric:
            return f"{exact_number(value)} {self.unit}".rstrip() if self.unit else exact_number(value)
        return str(value)


def either(options) -> str:
    """``a``, ``a or b``, ``a, b or c``: a short list of choices in words."""
    options = [str(o) for o in options]
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


@dataclass(frozen=True)
class TreatmentSpec:
    """Named arms with a reference arm, or a dose (then the dose is the outcome to predict)."""

    type: str
    column: str = "arm"
    arms: tuple[str, ...] = ()
    reference: str | None = None
    unit: str = ""
    randomized: bool = False


@dataclass(frozen=True)
class OutcomeSpec:
    """What is predicted.

    ``time_to_event``: the event by ``horizon`` (in ``time_unit``); censoring before the horizon is
    handled with inverse-probability-of-censoring weights, never by calling censored patients non-events.
    ``binary``: a fully observed 0/1 column. ``continuous``: a number in ``unit`` (e.g. mg/week).
    """

    type: str
    label: str
    column: str = ""
    time_column: str = ""
    event_column: str = ""
    horizon: float | None = None
    time_unit: str = ""
    unit: str = ""
    higher_is_worse: bool = True


@dataclass(frozen=True)
class ProtectedAttribute:
    """A protected attribute audited by subgroup; ``bins``/``labels`` derive a band from a numeric feature."""

    name: str
    source: str
    bins: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class CohortSpec:
    name: str
    title: str
    description: str
    patient_id: str
    features: tuple[FeatureSpec, ...]
    treatment: TreatmentSpec
    outcome: OutcomeSpec
    protected: tuple[ProtectedAttribute, ...]
    excluded_columns: tuple[str, ...] = ()
    study_design: str = ""
    source: str = ""
    citation: str = ""
    licence: str = ""
    test_fraction: float = 0.25
    seed: int = 20261123
    notes: tuple[str, ...] = ()
    caveats: tuple[Caveat, ...] = ()
    fhir: dict = field(default_factory=dict)  # feature -> where its value lives in a FHIR chart (core.fhir)

    # --- queries -------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def is_dose(self) -> bool:
        return self.treatment.type == "dose"

    @property
    def arms(self) -> list[str]:
        return list(self.treatment.arms)

    def feature(self, name: str) -> FeatureSpec:
        found = self._features_by_name.get(name)
        if found is None:
            raise KeyError(f"Cohort {self.name!r} has no feature {name!r}.")
        return found

    @functools.cached_property
    def _features_by_name(self) -> dict[str, FeatureSpec]:
        """Name to feature, the first of a name (looked up for every explanation row of a batch)."""
        out: dict[str, FeatureSpec] = {}
        for f in self.features:
            out.setdefault(f.name, f)
        return out

    def to_dict(self) -> dict:
        return jsonable(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    # --- construction (all checking happens here) ----------------------------------------
    @classmethod
    def from_dict(cls, raw: dict) -> "CohortSpec":
        if not isinstance(raw, dict):
            raise SpecError("A cohort spec must be a JSON object.")
        _require(raw, ("name", "patient_id", "features", "treatment", "outcome"), "cohort spec")
        features = tuple(_feature(f, i) for i, f in enumerate(raw["features"]))
        names = [f.name for f in features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"The cohort spec lists feature(s) {dupes} more than once.")
        treatment = _treatment(raw["treatment"])
        outcome = _outcome(raw["outcome"])
        protected = tuple(_protected(p, names) for p in raw.get("protected", ()))
        excluded = tuple(raw.get("excluded_columns", ()))
        leaked = sorted(set(excluded) & set(names))
        if leaked:
            raise SpecError(
                f"Feature(s) {leaked} are listed as excluded post-baseline columns: "
                "a post-treatment variable must never be a model input."
            )
        outcome_cols = {outcome.column, outcome.time_column, outcome.event_column} - {""}
        if outcome_cols & set(names) or treatment.column in names:
            raise SpecError("The outcome and treatment columns must not also be features.")
        spec = cls(
            name=str(raw["name"]),
            title=str(raw.get("title", raw["name"])),
            description=str(raw.get("description", "")),
            patient_id=str(raw["patient_id"]),
            features=features,
            treatment=treatment,
            outcome=outcome,
            protected=protected,
            excluded_columns=excluded,
            study_design=str(raw.get("study_design", "")),
            source=str(raw.get("source", "")),
            citation=str(raw.get("citation", "")),
            licence=str(raw.get("licence", "")),
            test_fraction=float(raw.get("test_fraction", 0.25)),
            seed=int(raw.get("seed", 20261123)),
            notes=tuple(raw.get("notes", ())),
            caveats=parse_caveats(raw.get("caveats"), names),
            fhir=_fhir_mapping(raw.get("fhir"), names),
        )
        if not 0.05 <= spec.test_fraction <= 0.5:
            raise SpecError(f"test_fraction must be in [0.05, 0.5]. Got {spec.test_fraction}.")
        if spec.is_dose != (outcome.type == "continuous"):
            raise SpecError("A dose cohort predicts a continuous outcome; an arm cohort a binary or time-to-event one.")
        return spec

    @classmethod
    def from_json(cls, path: str | Path) -> "CohortSpec":
        from .limits import MAX_SPEC_JSON_BYTES, parse_json, read_bounded

        what = f"Cohort spec file {str(path)!r}"
        raw = parse_json(read_bounded(path, "Cohort spec file", MAX_SPEC_JSON_BYTES, error=SpecError), what, error=SpecError)
        if not isinstance(raw, dict):
            raise SpecError(f"{what} must hold one JSON object (see README). Got a {type(raw).__name__} instead.")
        return cls.from_dict(raw)


# --- one-line helpers for from_dict ------------------------------------------------------------
def _fhir_mapping(raw, names: list[str]) -> dict:
    from ..fhir.mapping import parse_mapping  # the FHIR rules live with the FHIR reader

    return parse_mapping(raw, names)




def _require(raw: dict, keys, where: str) -> None:
    missing = [k for k in keys if k not in raw]
    if missing:
        raise SpecError(f"The {where} is missing required key(s) {missing}.")


def _choice(value, allowed, what: str):
    if value not in allowed:
        raise SpecError(f"The {what} must be one of {list(allowed)}. Got {value!r} instead.")
    return value


def _pair(value, what: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise SpecError(f"The {what} must be a [low, high] pair. Got {value!r} instead.")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise SpecError(f"The {what} must satisfy low <= high. Got {value!r} instead.")
    return (lo, hi)


def _feature(raw: dict, i: int) -> FeatureSpec:
    _require(raw, ("name", "type"), f"feature #{i}")
    name = str(raw["name"])
    ftype = _choice(raw["type"], FEATURE_TYPES, f"type of feature {name!r}")
    role = _choice(raw.get("role", "clinical"), FEATURE_ROLES, f"role of feature {name!r}")
    limits = _pair(raw.get("limits"), f"limits of feature {name!r}")
    plausible = _pair(raw.get("plausible"), f"plausible range of feature {name!r}")
    categories = tuple(str(c) for c in raw.get("categories", ()))
    if ftype == "binary" and not categories:
        categories = ("0", "1")
    if ftype == "numeric":
        if limits is None:
            raise SpecError(f"Numeric feature {name!r} needs hard 'limits' [low, high].")
        if plausible is None:
            plausible = limits
        if not (limits[0] <= plausible[0] <= plausible[1] <= limits[1]):
            raise SpecError(f"The plausible range of {name!r} must lie inside its limits.")
    elif len(categories) < 2:
        raise SpecError(f"Feature {name!r} of type {ftype!r} needs at least two 'categories'.")
    return FeatureSpec(
        name=name,
        label=str(raw.get("label", name)),
        type=ftype,
        role=role,
        unit=str(raw.get("unit", "")),
        limits=limits,
        plausible=plausible,
        categories=categories,
        actionable=_actionable(raw.get("actionable"), name, ftype),
        required=bool(raw.get("required", True)),
        integer=bool(raw.get("integer", False)),
        description=str(raw.get("description", "")),
    )


def _actionable(value, name: str, ftype: str) -> str:
    """The spec's ``actionable`` entry as one of :data:`ACTIONABILITY` for the type, or ``""``."""
    if value is None or value is False or value == "":
        return ""
    if ftype == "genotype":
        raise SpecError(MSG_ACTIONABLE_GENOTYPE.format(name=name, got=value))
    if value is True:
        return ACTIONABLE_TRUE[ftype]
    allowed = ACTIONABILITY[ftype]
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(MSG_ACTIONABLE.format(name=name, type=ftype, allowed=[*allowed, True, False], got=value))
    return value


def _treatment(raw: dict) -> TreatmentSpec:
    _require(raw, ("type",), "treatment spec")
    ttype = _choice(raw["type"], TREATMENT_TYPES, "treatment type")
    arms = tuple(str(a) for a in raw.get("arms", ()))
    reference = raw.get("reference")
    if ttype == "arms":
        if len(arms) < 2:
            raise SpecError("A treatment of type 'arms' needs at least two named arms.")
        if reference not in arms:
            raise SpecError(f"The reference arm must be one of {list(arms)}. Got {reference!r} instead.")
    return TreatmentSpec(
        type=ttype,
        column=str(raw.get("column", "arm")),
        arms=arms,
        reference=reference,
        unit=str(raw.get("unit", "")),
        randomized=bool(raw.get("randomized", False)),
    )


def _outcome(raw: dict) -> OutcomeSpec:
    _require(raw, ("type",), "outcome spec")
    otype = _choice(raw["type"], OUTCOME_TYPES, "outcome type")
    if otype == "time_to_event":
        _require(raw, ("time_column", "event_column", "horizon"), "time-to-event outcome")
        if not float(raw["horizon"]) > 0:
            raise SpecError(f"The outcome horizon must be positive. Got {raw['horizon']!r} instead.")
    else:
        _require(raw, ("column",), f"{otype} outcome")
    return OutcomeSpec(
        type=otype,
        label=str(raw.get("label", "outcome")),
        column=str(raw.get("column", "")),
        time_column=str(raw.get("time_column", "")),
        event_column=str(raw.get("event_column", "")),
        horizon=float(raw["horizon"]) if raw.get("horizon") is not None else None,
        time_unit=str(raw.get("time_unit", "")),
        unit=str(raw.get("unit", "")),
        higher_is_worse=bool(raw.get("higher_is_worse", True)),
    )


def _protected(raw: dict, feature_names: list[str]) -> ProtectedAttribute:
    _require(raw, ("name", "source"), "protected attribute")
    if raw["source"] not in feature_names:
        raise SpecError(f"Protected attribute {raw['name']!r} derives from unknown feature {raw['source']!r}.")
    bins = tuple(float(b) for b in raw.get("bins", ()))
    labels = tuple(str(lab) for lab in raw.get("labels", ()))
    if bins and len(labels) != len(bins) - 1:
        raise SpecError(f"Protected attribute {raw['name']!r} needs one label per band ({len(bins) - 1}).")
    return ProtectedAttribute(name=str(raw["name"]), source=str(raw["source"]), bins=bins, labels=labels)

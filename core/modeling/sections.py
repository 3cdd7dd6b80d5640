"""Typed sections of a model bundle (training record, uncertainty, representation), each JSON round-trip.

Each section is a frozen dataclass with ``to_dict`` (exactly what the bundle file holds) and
``from_dict``, which raises :class:`BundleIntegrityError` naming the file and what is wrong, like every
other part of a bundle that fails to parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .._errors import BundleIntegrityError

MSG_BAD_SECTION = "Bundle file {file!r} is not a valid {section}: {problem}. Refusing to load it."


def _from_dict(cls, doc: Any, file: str, *, optional: tuple[str, ...] = ()):
    if not isinstance(doc, dict):
        raise BundleIntegrityError(MSG_BAD_SECTION.format(file=file, section=cls.__name__,
                                                          problem=f"expected a JSON object, got {type(doc).__name__}"))
    names = {f.name for f in fields(cls)}
    missing = sorted(names - set(doc) - set(optional))
    unknown = sorted(set(doc) - names)
    if missing or unknown:
        problem = "; ".join(p for p in (f"missing {missing}" if missing else "",
                                        f"unknown {unknown}" if unknown else "") if p)
        raise BundleIntegrityError(MSG_BAD_SECTION.format(file=file, section=cls.__name__, problem=problem))
    return cls(**doc)


@dataclass(frozen=True)
class TrainingRecord:
    """``training.json``: how the model was trained — split sizes, the test patients, CV, data and versions."""

    n_total: int
    n_train: int
    n_test: int
    n_censored_before_horizon_train: int
    test_patient_ids: list[str]
    cv: list[dict]
    chosen: dict
    folds: int
    data_sha256: str
    source: dict
    exclusions: list
    versions: dict
    n_fit: int  # training-split patients the model was fitted and tuned on
    n_calibration: int  # dose cohorts: training-split patients kept for conformal calibration only
    calibration_split: dict | None  # how that calibration part was drawn (None for arm cohorts)
    recalibration: dict | None  # arm cohorts: whether the recalibration map is used, and the CV numbers behind it
    iwpc_impute: dict = field(default_factory=dict)
    calibration_method: dict | None = None  # arm cohorts: as fitted / recalibrated / blended, chosen by CV (blend.py)
    race_gap: dict | None = None  # dose cohort: race-gap mitigations cross-validated on the training split (race_gap.py)
    heterogeneity: dict | None = None  # trials: risk or effect modelling, and the validation behind it (heterogeneity.py)
    modelling: str | None = None  # trials: "risk modelling" or "effect modelling"

    FILE = "training.json"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, doc: Any) -> "TrainingRecord":
        return _from_dict(cls, doc, cls.FILE, optional=("calibration_method", "race_gap", "heterogeneity",
                                                                   "modelling"))


@dataclass(frozen=True)
class UncertaintySection:
    """``uncertainty.json``: the ensemble (arm cohorts) or the conformal regressor (dose), their held-out
    checks, and the plausible values tried for each optional input that is missing."""

    missing_scenarios: dict[str, list]
    ensemble: dict | None = None
    test_check: dict | None = None
    conformal: dict | None = None
    test_coverage: dict | None = None
    evidence_limits: dict | None = None  # arm cohorts: when intervals are too wide for a number (training split)
    interval_method: dict | None = None  # {"kind", "method", "guarantee", ...}: how the intervals are made
    stability: dict | None = None  # arm cohorts: two halves of the ensemble compared on the test split
    average_effect: list | None = None  # trials: the model's average effect beside the trial's KM estimate

    FILE = "uncertainty.json"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, doc: Any) -> "UncertaintySection":
        return _from_dict(cls, doc, cls.FILE, optional=("ensemble", "test_check", "conformal", "test_coverage",
                                                         "stability", "evidence_limits", "average_effect"))


@dataclass(frozen=True)
class RepresentationSection:
    """``representation.json``: when a group counts as underrepresented, and how often the novelty
    detector flagged held-out test patients."""

    policy: dict
    test_share_flagged_novel: float
    target_rate: float
    n_train: int

    FILE = "representation.json"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, doc: Any) -> "RepresentationSection":
        return _from_dict(cls, doc, cls.FILE)

"""The numeric fast path: the full patient report from numpy arrays, one patient or a chunk of many at once.

:func:`~.patient_report.predict_patient` builds pandas frames for one patient (typed columns, categories,
``astype``), which costs several times more than the model's own LightGBM calls. :class:`ReportEngine`
is built once per bundle with pre-built encoders (:class:`~core.modeling.encoder.Encoder`) and computes
the same numbers from arrays: the main model's contributions under every arm, the ensemble members'
risks, the missing-input scenarios, the protected groups and the novelty row, for a whole chunk of
patients in one pass of each model. Each patient's report is then assembled by the same functions as the
reference path (:func:`~.patient_report.arm_report`, :func:`~.patient_report.dose_report`), so the two
give the same reports (``tests/test_fast_reports.py`` compares them on held-out patients of every cohort).
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from .._errors import PatientValidationError
from ..data.cohorts._frame import _category_text
from ..data.validation import ValidatedPatient, validate_patient
from ..evaluation.baselines import iwpc_dose
from ..fairness.patient_warnings import representation_warnings_many
from ..modeling.bundle import ModelBundle
from ..modeling.encoder import Encoder
from ..uncertainty.arm_comparison import uncertainties_from_risks
from ..uncertainty.missing import scenario_ranges
from .patient_report import PatientReport, _policy, arm_report, dose_report, error_report

IWPC_INPUTS = ("age_decade", "height_cm", "weight_kg", "vkorc1_1639", "cyp2c9", "race", "enzyme_inducer",
               "amiodarone")


@dataclass(frozen=True)
class Refused:
    """A record that failed validation: its error report (the same as :func:`~.patient_report.error_report`)."""

    error: PatientValidationError
    report: dict


class ReportEngine:
    """Everything about a bundle that does not depend on the patient, built once; then reports from arrays.

    >>> engine = ReportEngine.of(bundle)
    >>> engine.report(record).to_dict() == predict_patient(bundle, record).to_dict()   # up to rounding
    """

    _cache: "OrderedDict[int, ReportEngine]" = OrderedDict()  # id(bundle) -> engine, the last few bundles
    CACHED = 8

    @classmethod
    def of(cls, bundle: ModelBundle) -> "ReportEngine":
        """The bundle's engine (built on first use; the engines of the last few bundles are kept)."""
        key = id(bundle)
        engine = cls._cache.get(key)
        if engine is None or engine.bundle is not bundle:  # the engine holds its bundle, so ids are not reused
            engine = cls._cache[key] = cls(bundle)
            while len(cls._cache) > cls.CACHED:
                cls._cache.popitem(last=False)
        cls._cache.move_to_end(key)
        return engine

    def __init__(self, bundle: ModelBundle):
        self.bundle, self.spec = bundle, bundle.spec
        self.encoder = Encoder.from_design(bundle.model.design)
        self.arms = list(self.spec.arms) if not self.spec.is_dose else None
        self.numeric = {f.name: f.type in ("numeric", "binary") for f in self.spec.features}
        self.policy = _policy(bundle)
        self.train_total = int(bundle.training.n_train)
        self.has_iwpc = {"height_cm", "weight_kg"} <= set(self.spec.feature_names)
        self.novelty_slots = [(f.name, None) if f.type in ("numeric", "binary") else (f.name, tuple(f.categories))
                              for f in self.spec.features]

    # --- one patient -------------------------------------------------------------------------------
    def report(self, record: Mapping[str, Any], *, patient_id: str | None = None,
               ignore: tuple[str, ...] = ()) -> PatientReport:
        """The full report for one record; raises PatientValidationError naming every bad field."""
        patient = validate_patient(self.spec, dict(record), ignore=ignore)
        return self.reports([patient], [patient_id])[0]

    # --- many patients -----------------------------------------------------------------------------
    def validate(self, records: Iterable[Mapping[str, Any]], *, ignore: tuple[str, ...] = (),
                 id_column: str | None = None, first_row: int = 1) -> list[ValidatedPatient | Refused]:
        """Each record validated, or its refusal (its error report, numbered by its 1-based row)."""
        out = []
        for i, record in enumerate(records, start=first_row):
            try:
                out.append(validate_patient(self.spec, dict(record), ignore=ignore))
            except PatientValidationError as exc:
                pid = _patient_id(record, id_column)
                out.append(Refused(exc, error_report(self.bundle, exc, row=i, patient_id=pid)))
        return out

    def reports(self, patients: list[ValidatedPatient], patient_ids: list[str | None] | None = None, *,
                explanations: bool = True) -> list[PatientReport]:
        """Reports for validated patients, computed together (each model called once for the chunk).
        ``explanations=False`` skips the main model's TreeSHAP (then the report has no explanations)."""
        if not patients:
            return []
        ids = patient_ids or [None] * len(patients)
        typed = [self._typed(p.values) for p in patients]
        codes = self.encoder.codes(typed)
        representation = self._representation(typed, codes)
        missing = self._missing(patients, typed)
        if self.spec.is_dose:
            return self._dose_reports(patients, ids, typed, codes, representation, missing)
        return self._arm_reports(patients, ids, typed, codes, representation, missing, explanations)

    def _arm_reports(self, patients, ids, typed, codes, representation, missing, explanations):
        bundle, k = self.bundle, len(self.arms)
        x = self.encoder.with_arms(codes, self.arms)
        z = self.encoder.linear(x)
        if explanations:
            base, contrib = bundle.model.contributions_from(z, self.encoder.groups, x)
        else:
            raw = bundle.model.raw_from(z, x)
            base, contrib = raw, np.zeros((len(raw), 1))  # the logit as the base, no split
        risks = bundle.ensemble.risks_from(z, x) if bundle.ensemble is not None else None
        unc = [None] * len(patients) if risks is None else uncertainties_from_risks(
            bundle.ensemble, risks, self.arms, higher_is_worse=self.spec.outcome.higher_is_worse)
        logit = base + contrib.sum(axis=1)  # row by row, as for one patient: the same sums
        out = []
        for i, patient in enumerate(patients):
            rows = slice(i * k, (i + 1) * k)
            out.append(arm_report(bundle, patient, self._values(typed[i]), base[rows], contrib[rows],
                                  None if risks is None else risks[:, rows], representation[i], missing[i],
                                  patient_id=ids[i], explanations=explanations, uncertainty=unc[i],
                                  logit=logit[rows]))
        return out

    def _dose_reports(self, patients, ids, typed, codes, representation, missing):
        bundle = self.bundle
        base, contrib = bundle.model.contributions_from(self.encoder.linear(codes), self.encoder.groups, codes)
        race = self.spec.protected[0].name
        out = []
        for i, patient in enumerate(patients):
            formula = self._iwpc(typed[i]) if self.has_iwpc else float("nan")
            groups = np.array([self._attrs(typed[i])[race]]) if bundle.conformal is not None else None
            out.append(dose_report(bundle, patient, self._values(typed[i]), base[i:i + 1], contrib[i:i + 1], formula,
                                   groups, representation[i], missing[i], patient_id=ids[i]))
        return out

    # --- the per-patient inputs, as the pandas path types them ------------------------------------
    def _typed(self, values: Mapping[str, Any]) -> dict:
        """A patient's values as a typed frame holds them: numbers as floats, NaN when missing."""
        out = {}
        for name, numeric in self.numeric.items():
            v = values.get(name)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                out[name] = float("nan")
            else:
                out[name] = float(v) if numeric else v
        return out

    def _values(self, typed: dict) -> tuple:
        return tuple(typed.values())

    def _attrs(self, typed: dict) -> dict:
        """The patient's protected groups (as :func:`~core.data.cohorts.protected_attributes`)."""
        out = {}
        for attr in self.spec.protected:
            v = typed[attr.source]
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            if attr.bins:
                i = -1 if missing else bisect.bisect_right(list(attr.bins), float(v)) - 1
                out[attr.name] = str(attr.labels[i]) if 0 <= i < len(attr.labels) else "missing"
            else:
                out[attr.name] = "missing" if missing else _category_text(v)
        return out

    def _representation(self, typed: list[dict], codes: np.ndarray) -> list[list[dict]]:
        bundle = self.bundle
        novelty = self._novelty(codes) if bundle.novelty is not None else [None] * len(typed)
        return representation_warnings_many(self.spec, [self._attrs(t) for t in typed], novelty, audit=bundle.audit,
                                            detector=bundle.novelty, train_total=self.train_total, policy=self.policy)

    def _novelty(self, codes: np.ndarray) -> np.ndarray:
        """Rows of :func:`~core.uncertainty.novelty.novelty_matrix`: numbers as they are, one 0/1 per category."""
        cols = []
        for j, (_name, cats) in enumerate(self.novelty_slots):
            col = codes[:, j]
            if cats is None:
                cols.append(col)
            else:
                cols += [np.where(np.isnan(col), np.nan, (col == k).astype(float)) for k in range(len(cats))]
        return np.column_stack(cols)

    def _missing(self, patients: list[ValidatedPatient], typed: list[dict]) -> list[tuple]:
        bundle, out = self.bundle, []
        for patient, t in zip(patients, typed):
            base = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in t.items()}
            out.append(tuple(scenario_ranges(self.spec, base, patient.missing, bundle.missing_scenarios,
                                             self._scenario_predictions)))
        return out

    def _scenario_predictions(self, records: list[dict]) -> np.ndarray:
        codes = self.encoder.codes([self._typed(r) for r in records])
        x = self.encoder.with_arms(codes, self.arms)
        model = self.bundle.model
        return model.output(model.raw_from(self.encoder.linear(x), x))

    def _iwpc(self, typed: dict) -> float:
        args = {c: (None if isinstance(typed[c], float) and math.isnan(typed[c]) else typed[c]) for c in IWPC_INPUTS}
        return float(iwpc_dose(**args))


def _patient_id(record: Mapping[str, Any], id_column: str | None) -> str | None:
    if id_column is None:
        return None
    pid = record.get(id_column)
    return None if pid is None or (isinstance(pid, float) and pid != pid) else str(pid)

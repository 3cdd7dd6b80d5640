"""Build a session's cases from a bundle: held-out test patients, their truth, the model's advice, and the
seeded manipulation of a share of it.

The model's report is computed here directly (not through :func:`core.service.predict`), so a training
case never produces a clinical ``patient_report`` entry; the shown advice exists only in the training tables
and in the training kinds of the audit log.
"""

from __future__ import annotations

import warnings as _warnings

from .cases import SessionSettings, TrainingCase
from .sampling import manipulated_positions, sample_cases, shown_advice
from .truth import DOSE, case_truths, kind_of
from .._kinds import WarningKind

N_EXPLANATION = 3


def build_cases(bundle, settings: SessionSettings) -> list[TrainingCase]:
    """The session's cases, in order (case ids 1..n)."""
    from ..modeling.heldout import held_out_records, held_out_split
    from ..reporting.patient_report import predict_patient

    kind = kind_of(bundle.spec)
    split = held_out_split(bundle)
    picked = sample_cases(case_truths(bundle.spec, split.frame), test_ids=bundle.test_patient_ids,
                          n_cases=settings.n_cases, seed=settings.seed)
    records = {r["patient_id"]: r for r in held_out_records(bundle)}
    reports = []
    for truth in picked:
        record = {k: v for k, v in records[truth.patient_id].items() if k != "patient_id"}
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # plausibility warnings are data in the report
            reports.append((record, predict_patient(bundle, record)))
    model = [_advice(kind, report, truth.arm) for (_, report), truth in zip(reports, picked)]
    positions = manipulated_positions(len(picked), settings.manipulated_share, seed=settings.seed)
    shown = shown_advice(kind, [m[0] for m in model], [t.truth for t in picked], positions, seed=settings.seed)
    cases = []
    for i, ((record, report), truth, (advice, interval, baseline), value) in enumerate(zip(reports, picked, model, shown)):
        warns = tuple({"kind": w.get("kind"), "severity": w.get("severity"), "message": w.get("message")}
                      for w in report.warnings if w.get("severity") in ("high", "medium"))
        cases.append(TrainingCase(
            case=i + 1, kind=kind, patient_id=truth.patient_id, inputs=record, truth=truth.truth,
            model_advice=advice, advice=value, manipulated=i in positions, arm=truth.arm,
            interval=_moved(kind, interval, advice, value), baseline=baseline, warnings=warns,
            explanation=_phrases(kind, report, truth.arm),
            out_of_distribution=any(w.get("kind") == WarningKind.OUT_OF_DISTRIBUTION for w in report.warnings)))
    return cases


def _advice(kind: str, report, arm: str | None):
    """(the model's advice, its interval, the baseline shown beside it) for one report."""
    if kind == DOSE:
        dose = report.dose
        interval = tuple(dose["interval"]) if dose.get("interval") else None
        return float(dose["mg_per_week"]), interval, dose.get("iwpc_formula_mg_per_week")
    estimate = next(a for a in report.arms if a.arm == arm)
    return float(estimate.probability), tuple(estimate.interval) if estimate.interval else None, None


def _moved(kind: str, interval, model: float, shown: float):
    """The interval moved with the advice (scaled for a dose, shifted for a risk), so the display stays
    consistent and does not give the manipulation away by itself."""
    if interval is None or shown == model:
        return interval
    if kind == DOSE:
        ratio = shown / model
        return (round(interval[0] * ratio, 1), round(interval[1] * ratio, 1))
    shift = shown - model
    return (round(min(max(interval[0] + shift, 0.0), shown), 3), round(max(min(interval[1] + shift, 1.0), shown), 3))


def _phrases(kind: str, report, arm: str | None) -> tuple[str, ...]:
    """The three features that move the model's answer most, in words (no numbers)."""
    expl = report.explanation if kind == DOSE else report.arm_explanations.get(arm, report.explanation)
    what = "the dose" if kind == DOSE else "the risk"
    rows = expl.to_dict()["contributions"][:N_EXPLANATION]
    return tuple(f"{r.get('phrase') or r['label']}: {'raises' if r['shap'] > 0 else 'lowers'} {what}"
                 for r in rows if r["shap"] != 0)

"""The model card: what a bundle is for, what it was trained on, how well it does, and where it falls short.

Everything here is computed from a verified bundle and the verified data it was trained on, on the
bundle's **held-out test split** only (the patients listed in ``training.json``; fitting, tuning and
calibration never saw them). Pure numpy/pandas: a separate module draws the curves.

* :func:`calibration_curve` — predicted vs observed per quantile bin of the prediction. Arm cohorts:
  the predicted risk under each patient's *observed* arm vs the IPCW-weighted event rate (a patient
  censored before the horizon has weight 0, never counts as a non-event); dose cohort: mean predicted
  vs mean observed dose in mg/week. Bins follow ``sklearn.calibration.calibration_curve(...,
  strategy="quantile")`` (empty bins are dropped); the predicted value of a bin is the plain mean over
  all its patients, the observed value the weighted mean over those with a known outcome.
* :func:`decision_curve` — net benefit of "flag the patient if the predicted risk ≥ threshold"
  (Vickers & Elkin 2006), IPCW-weighted: ``TP/n − FP/n · pt/(1 − pt)`` with weighted counts.
* :func:`model_card` — a :class:`ModelCard`: intended use, out-of-scope uses, provenance, the training
  population by group, test-split performance beside the baselines, the curves above, interval
  checks, limitations generated from these facts, and the model's version. Phrased as facts and
  options, never as orders.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._json import jsonable
from .._errors import DataIntegrityError, SmallSubgroupWarning
from ..modeling.bundle import MANIFEST, ModelBundle
from ..data.cohorts import ARM, PATIENT_ID, Cohort, protected_attributes
from ..data.cohorts._sources import sha256_file
from ..data.spec import CohortSpec
from ..modeling.training import labels_for

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Limitation",
    "ModelCard",
    "PopulationGroup",
    "calibration_curve",
    "decision_curve",
    "model_card",
]

DEFAULT_THRESHOLDS = np.round(np.arange(0.05, 0.61, 0.01), 10)
MIN_GROUP_N = 30      # a group's calibration curve needs at least this many patients with a known outcome
MIN_PER_BIN = 20      # ... and gets at most one bin per this many of them
DEFAULT_POLICY = {"min_train_n": 50, "min_train_share": 0.05}  # as core.representation.RepresentationPolicy
MAX_LISTED = 10       # intersectional groups listed by name in one limitation
IWPC_COLUMNS = ("age_decade", "height_cm", "weight_kg", "vkorc1_1639", "cyp2c9", "race", "enzyme_inducer",
                "amiodarone")

# --- messages -----------------------------------------------------------------------------------

MSG_N_BINS = "The 'n_bins' parameter of calibration_curve must be an int in the range [2, 100]. Got {got!r} instead."
MSG_BY = ("The 'by' parameter of calibration_curve must be None or one of the cohort's protected attributes "
          "{allowed}. Got {got!r} instead.")
MSG_THRESHOLDS = ("The 'thresholds' parameter of decision_curve must be a non-empty 1-D sequence of numbers "
                  "strictly between 0 and 1. Got {got} instead.")
MSG_TEST_SPLIT = ("Bundle {bundle} lists {expected} test patients, but {found} of them were found in the data of "
                  "cohort {cohort!r}: the held-out test split cannot be rebuilt.")
MSG_SMALL_GROUP = ("{attribute} = {group}: {n} test patient(s) with a known outcome, fewer than the {minimum} a "
                   "calibration curve needs; no curve is shown.")
MSG_SMALL_GROUPS = "{count} group(s) are too small for a calibration curve: {details}"
MSG_NO_KNOWN = "no patient in this bin has a known outcome (all censored before the horizon)"

MODEL_NAME = "equipoise (linear + boosted trees)"  # fallbacks when an evaluation has no row names
BASELINE_NAME = "logistic regression"
IWPC_NAME = "IWPC pharmacogenetic formula"

# metric -> how "better" is judged: "higher", "lower", or the ideal value of |x − ideal|
_BETTER = {"auc": "higher", "c_for_benefit": "higher", "within_20": "higher", "brier": "lower", "mae": "lower",
           "calibration_intercept": 0.0, "calibration_slope": 1.0, "mean_error": 0.0}
_METRIC_LABEL = {"auc": "AUC", "brier": "Brier score", "calibration_intercept": "calibration intercept",
                 "calibration_slope": "calibration slope", "mae": "mean absolute error (mg/week)",
                 "mean_error": "mean error (mg/week)", "within_20": "share within 20% of the actual dose",
                 "coverage": "interval coverage", "c_for_benefit": "c-for-benefit", "outcome_rate": "outcome rate",
                 "mean_predicted": "mean predicted risk", "mean_outcome": "mean dose (mg/week)"}


# --- result objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationGroup:
    """One value of one protected attribute: how many training (and test) patients had it."""

    attribute: str
    group: str
    n: int
    share: float
    test_n: int
    test_share: float
    underrepresented: bool

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "group": self.group, "n": self.n, "share": self.share,
                "test_n": self.test_n, "test_share": self.test_share, "underrepresented": self.underrepresented}


@dataclass(frozen=True)
class Limitation:
    """A known limitation, stated as a fact: ``kind`` (for filtering) and a plain-language ``message``.

    Kinds: ``test_split_size``, ``censoring``, ``optimistic_baseline``, ``flagged_group``,
    ``underrepresented``, ``c_for_benefit_noise``, ``baseline_better``, ``calibration``,
    ``interval_check``, ``observational``.
    """

    kind: str
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class ModelCard:
    """Everything a reader needs to judge one model bundle; query it, or store it with :meth:`to_dict`.

    Curves and tables are plain dicts and lists (the shapes documented in :func:`calibration_curve` and
    :func:`decision_curve`); ``decision_curve`` is ``None`` for the dose cohort.
    """

    cohort: str
    title: str
    bundle_id: str
    sha256: str
    intended_use: tuple[str, ...]
    intended_users: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    provenance: dict
    study_design: dict
    training_population: tuple[PopulationGroup, ...]
    feature_ranges: tuple[dict, ...]
    performance: dict
    calibration: tuple[dict, ...]
    calibration_by_group: dict
    decision_curve: dict | None
    interval_coverage: dict
    limitations: tuple[Limitation, ...]
    version: dict = field(default_factory=dict)

    def population(self, attribute: str) -> list[PopulationGroup]:
        """The training population's groups of one protected attribute."""
        return [g for g in self.training_population if g.attribute == attribute]

    def underrepresented(self) -> list[PopulationGroup]:
        return [g for g in self.training_population if g.underrepresented]

    def limitations_of(self, kind: str) -> list[Limitation]:
        return [lim for lim in self.limitations if lim.kind == kind]

    def to_dict(self) -> dict:
        """Plain JSON (non-finite numbers become ``None``): ``json.dumps(card.to_dict(), allow_nan=False)`` works."""
        return jsonable({
            "cohort": self.cohort, "title": self.title, "bundle_id": self.bundle_id, "sha256": self.sha256,
            "intended_use": list(self.intended_use), "intended_users": list(self.intended_users),
            "out_of_scope": list(self.out_of_scope), "provenance": self.provenance,
            "study_design": self.study_design,
            "training_population": [g.to_dict() for g in self.training_population],
            "feature_ranges": list(self.feature_ranges), "performance": self.performance,
            "calibration": list(self.calibration), "calibration_by_group": self.calibration_by_group,
            "decision_curve": self.decision_curve, "interval_coverage": self.interval_coverage,
            "limitations": [lim.to_dict() for lim in self.limitations], "version": self.version,
        })


# --- the held-out test split, rebuilt from the verified data ----------------------------------------


@dataclass(frozen=True)
class _Split:
    cohort: Cohort
    test_mask: np.ndarray
    frame: pd.DataFrame   # test rows, in cohort order (as at training time)
    y: np.ndarray
    weight: np.ndarray    # IPCW for censored outcomes (0 = unknown), else 1
    n_censored: int

    @property
    def train_frame(self) -> pd.DataFrame:
        return self.cohort.frame[~self.test_mask].reset_index(drop=True)


def _split(bundle: ModelBundle) -> _Split:
    from ..modeling.heldout import bundle_cohort

    cohort = bundle_cohort(bundle)
    ids = bundle.test_patient_ids
    mask = cohort.frame[PATIENT_ID].astype(str).isin(set(ids)).to_numpy()
    if int(mask.sum()) != len(ids):
        raise DataIntegrityError(MSG_TEST_SPLIT.format(bundle=bundle.bundle_id, expected=len(ids),
                                                       found=int(mask.sum()), cohort=bundle.spec.name))
    labels = labels_for(cohort, mask)  # IPCW from the test split's own censoring, as at training time
    return _Split(cohort=cohort, test_mask=mask, frame=cohort.frame[mask].reset_index(drop=True), y=labels.y,
                  weight=labels.weight, n_censored=labels.n_censored_before_horizon)


def _row_names(bundle: ModelBundle) -> list[str]:
    names = [r.get("name") for r in bundle.evaluation.rows]
    default = [MODEL_NAME, IWPC_NAME if bundle.spec.is_dose else BASELINE_NAME]
    return [names[i] if i < len(names) and names[i] else default[i] for i in range(2)]


# --- calibration ---------------------------------------------------------------------------------


def calibration_curve(bundle: ModelBundle, *, n_bins: int = 10, by: str | None = None) -> list[dict]:
    """Predicted vs observed on the test split, per quantile bin of the prediction.

    Returns a list of curves ``{"name", "group", "predicted": [...], "observed": [...], "n": [...],
    "n_known": [...], "note"}`` (one entry per non-empty bin; ``n`` patients, ``n_known`` of them with a
    known outcome; ``observed`` is ``nan`` where no patient of the bin has a known outcome).

    * ``by=None``: arm cohorts, the model and the logistic baseline (risk under the observed arm vs the
      IPCW-weighted event rate); dose cohort, the model and the IWPC formula (mg/week). ``group`` is None.
    * ``by="race"`` (a protected attribute of ``bundle.spec.protected``): one curve of the model per group,
      named ``"race = Black"``, with ``min(n_bins, n_known // 20)`` bins (at least 2). A group with fewer
      than 30 patients of known outcome gets empty lists and a ``note``, and a ``SmallSubgroupWarning``.
    """
    _check_calibration_args(bundle.spec, n_bins, by)
    return _calibration(bundle, _split(bundle), n_bins=n_bins, by=by)


def _check_calibration_args(spec: CohortSpec, n_bins, by) -> None:
    if not (isinstance(n_bins, numbers.Integral) and not isinstance(n_bins, bool) and 2 <= n_bins <= 100):
        raise ValueError(MSG_N_BINS.format(got=n_bins))
    allowed = [p.name for p in spec.protected]
    if by is not None and by not in allowed:
        raise ValueError(MSG_BY.format(allowed=allowed, got=by))


def _calibration(bundle: ModelBundle, split: _Split, *, n_bins: int, by: str | None) -> list[dict]:
    model_name, baseline_name = _row_names(bundle)
    pred = bundle.model.predict(split.frame)
    if by is None:
        curves = [_curve(model_name, None, pred, split.y, split.weight, n_bins)]
        other = _baseline_prediction(bundle, split.frame)
        if other is not None:
            curves.append(_curve(baseline_name, None, other, split.y, split.weight, n_bins))
        return curves
    labels = protected_attributes(bundle.spec, split.frame)[by].astype(str)
    curves, small = [], []
    for group in _group_order(bundle.spec, by, labels.unique()):
        rows = (labels == group).to_numpy()
        n_known = int((split.weight[rows] > 0).sum())
        if n_known < MIN_GROUP_N:
            note = MSG_SMALL_GROUP.format(attribute=by, group=group, n=n_known, minimum=MIN_GROUP_N)
            small.append(note)
            curves.append({"name": f"{by} = {group}", "group": group, "predicted": [], "observed": [], "n": [],
                           "n_known": [], "note": note})
            continue
        bins = max(2, min(n_bins, n_known // MIN_PER_BIN))
        curves.append(_curve(f"{by} = {group}", group, pred[rows], split.y[rows], split.weight[rows], bins))
    if small:
        warnings.warn(MSG_SMALL_GROUPS.format(count=len(small), details=" ".join(small)), SmallSubgroupWarning,
                      stacklevel=3)
    return curves


def _baseline_prediction(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray | None:
    if not bundle.spec.is_dose:
        return None if bundle.baseline is None else bundle.baseline.predict(frame)
    if not set(IWPC_COLUMNS) <= set(frame.columns):
        return None
    from ..evaluation.baselines import iwpc_doses

    return iwpc_doses(frame, impute=bundle.training.get("iwpc_impute") or {})


def _curve(name: str, group: str | None, pred, y, w, n_bins: int) -> dict:
    ok = np.isfinite(pred)
    predicted, observed, n, n_known = _quantile_bins(pred[ok], y[ok], w[ok], n_bins)
    note = MSG_NO_KNOWN if np.isnan(observed).any() else None
    return {"name": name, "group": group, "predicted": predicted.tolist(), "observed": observed.tolist(),
            "n": n.tolist(), "n_known": n_known.tolist(), "note": note}


def _quantile_bins(pred: np.ndarray, y: np.ndarray, w: np.ndarray, n_bins: int):
    """(mean prediction, weighted mean outcome, n, n with weight > 0) per non-empty quantile bin.

    Binning as in ``sklearn.calibration.calibration_curve(strategy="quantile")``.
    """
    edges = np.percentile(pred, np.linspace(0, 100, n_bins + 1))
    ids = np.searchsorted(edges[1:-1], pred)
    n = np.bincount(ids, minlength=n_bins)
    known = np.bincount(ids, weights=(w > 0).astype(float), minlength=n_bins).astype(int)
    sum_pred = np.bincount(ids, weights=pred, minlength=n_bins)
    sum_wy = np.bincount(ids, weights=w * y, minlength=n_bins)
    sum_w = np.bincount(ids, weights=w, minlength=n_bins)
    keep = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(sum_w[keep] > 0, sum_wy[keep] / sum_w[keep], np.nan)
    return sum_pred[keep] / n[keep], observed, n[keep], known[keep]


def _group_order(spec: CohortSpec, attribute: str, present) -> list[str]:
    """Groups in the spec's order (band labels, or the feature's categories), then any others sorted."""
    present = [str(v) for v in present]
    attr = next(p for p in spec.protected if p.name == attribute)
    declared = list(attr.labels) if attr.bins else list(spec.feature(attr.source).categories)
    return [g for g in declared if g in present] + sorted(g for g in present if g not in declared)


# --- decision curve ------------------------------------------------------------------------------


def decision_curve(bundle: ModelBundle, *, thresholds=DEFAULT_THRESHOLDS) -> dict | None:
    """Net benefit on the test split of "flag the patient if the predicted risk ≥ threshold".

    Returns ``None`` for a dose cohort (no risk threshold applies), else ``{"thresholds": [...],
    "prevalence", "n", "n_known", "curves": [{"name", "net_benefit": [...]}], "note"}`` with curves for
    the model, the logistic baseline, ``"treat all"`` and ``"treat none"`` (always 0); the same lists
    also sit under flat keys ``model``, ``baseline``, ``treat_all``, ``treat_none`` (with ``model_name``
    and ``baseline_name``), the shape ``core.figures.decision_curve_figure`` reads. With IPCW weights
    ``w``: ``NB(pt) = Σ w·y·flag / Σ w − Σ w·(1−y)·flag / Σ w · pt / (1 − pt)``.
    """
    pts = _check_thresholds(thresholds)
    if bundle.spec.is_dose:
        return None
    return _decision(bundle, _split(bundle), pts)


def _check_thresholds(thresholds) -> np.ndarray:
    try:
        pts = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(MSG_THRESHOLDS.format(got=repr(thresholds))) from None
    if pts.ndim != 1 or pts.size == 0 or not np.all(np.isfinite(pts)) or np.any(pts <= 0) or np.any(pts >= 1):
        raise ValueError(MSG_THRESHOLDS.format(got=repr(thresholds)))
    return pts


def _decision(bundle: ModelBundle, split: _Split, pts: np.ndarray) -> dict:
    model_name, baseline_name = _row_names(bundle)
    y, w = split.y, split.weight
    total = float(w.sum())
    prevalence = float((w * y).sum() / total)
    odds = pts / (1 - pts)
    curves = [{"name": model_name, "net_benefit": _net_benefit(bundle.model.predict(split.frame), y, w, pts).tolist()}]
    if bundle.baseline is not None:
        curves.append({"name": baseline_name,
                       "net_benefit": _net_benefit(bundle.baseline.predict(split.frame), y, w, pts).tolist()})
    curves += [{"name": "treat all", "net_benefit": (prevalence - (1 - prevalence) * odds).tolist()},
               {"name": "treat none", "net_benefit": np.zeros(len(pts)).tolist()}]
    flat = {"model_name": model_name, "model": curves[0]["net_benefit"], "treat_all": curves[-2]["net_benefit"],
            "treat_none": curves[-1]["net_benefit"]}
    if bundle.baseline is not None:
        flat.update(baseline_name=baseline_name, baseline=curves[1]["net_benefit"])
    return {"thresholds": pts.tolist(), "prevalence": prevalence, "n": int(len(y)), "n_known": int((w > 0).sum()),
            "curves": curves, **flat,
            "note": ("Net benefit of flagging a patient when the predicted risk (under the arm actually received) is "
                     "at "
                     "or above the threshold, in true positives per patient net of false positives weighted by "
                     "pt/(1 − pt); IPCW-weighted, so patients censored before the horizon count through the "
                     "weights, never as non-events.")}


def _net_benefit(p: np.ndarray, y: np.ndarray, w: np.ndarray, pts: np.ndarray) -> np.ndarray:
    flag = p[None, :] >= pts[:, None]
    total = w.sum()
    tp = (flag * (w * y)[None, :]).sum(axis=1) / total
    fp = (flag * (w * (1 - y))[None, :]).sum(axis=1) / total
    return tp - fp * pts / (1 - pts)


# --- the card ------------------------------------------------------------------------------------


def model_card(bundle: ModelBundle) -> ModelCard:
    """The model card of a bundle (computed on its held-out test split and training rows)."""
    spec, split = bundle.spec, _split(bundle)
    model_name, baseline_name = _row_names(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSubgroupWarning)  # small groups are notes in the curves
        calibration = _calibration(bundle, split, n_bins=10, by=None)
        by_group = {p.name: _calibration(bundle, split, n_bins=10, by=p.name) for p in spec.protected}
    decision = None if spec.is_dose else _decision(bundle, split, DEFAULT_THRESHOLDS)
    population = _population(bundle, split)
    audit = bundle.extras.get("audit") or {}
    performance = {**bundle.evaluation.to_dict(), "split": "test",
                   "bootstrap": (audit.get("overall") or {}).get("metrics", {})}
    uncertainty = bundle.extras.get("uncertainty") or {}
    coverage = dict(uncertainty.get("test_coverage") or uncertainty.get("test_check") or {})
    facts = _Facts(bundle=bundle, split=split, population=population, audit=audit, coverage=coverage,
                   decision=decision, model_name=model_name, baseline_name=baseline_name)
    return ModelCard(
        cohort=spec.name, title=spec.title, bundle_id=bundle.bundle_id, sha256=bundle.sha256,
        intended_use=_intended_use(spec), intended_users=INTENDED_USERS, out_of_scope=_out_of_scope(spec, split),
        provenance=_provenance(bundle), study_design=_study_design(bundle, split),
        training_population=population, feature_ranges=_feature_ranges(spec, split.train_frame),
        performance=performance, calibration=tuple(calibration), calibration_by_group=by_group,
        decision_curve=decision, interval_coverage={"split": "test", **coverage} if coverage else {},
        limitations=_limitations(facts), version=_version(bundle),
    )


INTENDED_USERS = (
    "Clinicians exploring one patient's treatment options.",
    "Tumour boards and other multidisciplinary teams weighing options for a patient.",
    "Trainees learning how prediction models can mislead (automation bias) and where they are uncertain.",
)
SUPPORT_NOT_DECIDE = "Equipoise supports a decision; it never makes it. Its outputs are options with evidence."


def _intended_use(spec: CohortSpec) -> tuple[str, ...]:
    o = spec.outcome
    if spec.is_dose:
        first = (f"Exploring one patient's predicted {o.label.lower()} ({o.unit or spec.treatment.unit}) beside the "
                 "IWPC formula and a fixed starting dose, with an explanation of each input's contribution, "
                 "what-if changes, a prediction interval and evidence on how the model does for similar groups.")
    else:
        first = (f"Exploring one patient's predicted risk of {_lower_first(o.label)} under each candidate arm "
                 f"({', '.join(spec.arms)}), with an explanation of each input's contribution, what-if changes, "
                 "uncertainty intervals and evidence on how the model does for similar groups.")
    return (first,
            "Discussing a patient's options in a multidisciplinary meeting, as one input beside the trial evidence, "
            "guidelines and the patient's preferences.",
            "Teaching: comparing one's own judgement with the model's, including where it is uncertain or "
            "performs worse.",
            SUPPORT_NOT_DECIDE)


def _out_of_scope(spec: CohortSpec, split: _Split) -> tuple[str, ...]:
    o = spec.outcome
    items = [f"Patients unlike the training population. The cohort: {_strip_period(spec.description)}. Numeric "
             "inputs outside the training ranges (feature_ranges) are extrapolations."]
    if spec.is_dose:
        items.append(f"Drugs other than the one studied, doses other than the stable maintenance dose (such as "
                     f"loading doses), and outcomes other than the {o.label.lower()}.")
    else:
        horizon = f"; horizon {_fmt(o.horizon)} {o.time_unit}".rstrip() if o.horizon else ""
        items.append(f"Treatments other than the {len(spec.arms)} arms studied ({', '.join(spec.arms)}), other doses "
                     f"or schedules of them, and outcomes other than the one modelled ({o.label}{horizon}).")
    items.append(_paediatric(spec, split.train_frame))
    items.append("Replacing clinical judgement: the model has not been evaluated as an autonomous decision-maker; "
                 "a clinician and the patient weigh its options with everything it does not see.")
    if spec.is_dose or not spec.treatment.randomized:
        items.append("Causal readings of associations in these observational data: no input was randomized, so the "
                     "effect of changing an input (such as a co-medication) is not identified.")
    else:
        items.append("Causal readings of comparisons the trial did not randomize (between subgroups, or of "
                     "features such as age or laboratory values): only the arm assignment was randomized.")
    return tuple(items)


def _paediatric(spec: CohortSpec, train: pd.DataFrame) -> str:
    age = next((f for f in spec.features if f.is_numeric and f.name.startswith("age")
                and f.unit in ("years", "decades")), None)
    if age is None:
        return "Paediatric use: the cohort records no age in years, so its age coverage is unknown."
    values = train[age.name].dropna().astype(float)
    n = len(values)
    if age.unit == "decades":
        young = int((values < 2).sum())  # decade 1 = 10–19 years
        if young == 0:
            return (f"Paediatric use: every training patient with a recorded age was aged 20 years or more "
                    f"(youngest decade: {int(values.min()) * 10}–{int(values.min()) * 10 + 9} years).")
        return (f"Paediatric use: {young} of {n:,} training patients were in the 10–19 year age decade (age is "
                "recorded by decade only) and none was younger than 10.")
    young = int((values < 18).sum())
    if young == 0:
        return ("Paediatric use: every training patient was at least 18 years old "
                f"(youngest {_fmt(values.min())} years).")
    return (f"Paediatric use below the ages studied: {young} of {n:,} training patients were under 18 years "
            f"(youngest {_fmt(values.min())} years).")


def _provenance(bundle: ModelBundle) -> dict:
    spec, source = bundle.spec, bundle.training.get("source") or {}
    return {"source": spec.source, "citation": spec.citation, "licence": spec.licence,
            "data_sha256": bundle.training.get("data_sha256", ""), "package": source.get("package"),
            "package_version": source.get("package_version"),
            "exclusions": [dict(e) for e in bundle.training.get("exclusions", [])],
            "excluded_columns": list(spec.excluded_columns), "notes": list(spec.notes),
            "description": spec.description}


def _study_design(bundle: ModelBundle, split: _Split) -> dict:
    spec, t, o = bundle.spec, bundle.spec.treatment, bundle.spec.outcome
    treatment = ({"type": "dose", "unit": t.unit} if spec.is_dose else
                 {"type": "arms", "arms": list(t.arms), "reference": t.reference, "randomized": t.randomized})
    out = {"design": spec.study_design, "randomized": bool(t.randomized and not spec.is_dose),
           "treatment": treatment,
           "outcome": {"type": o.type, "label": o.label, "horizon": o.horizon, "time_unit": o.time_unit or None,
                       "unit": o.unit or None},
           "n_total": int(split.cohort.n), "n_train": int((~split.test_mask).sum()),
           "n_test": int(split.test_mask.sum()),
           "test_split": (f"{spec.test_fraction:.0%} of patients held out, fixed by seed {spec.seed} and stratified by "
                          f"{'outcome quintile' if spec.is_dose else 'arm and outcome'}; never used for fitting, "
                          "tuning or calibration.")}
    if not spec.is_dose:
        out["arms_train"] = _counts(split.train_frame[ARM], spec.arms)
        out["arms_test"] = _counts(split.frame[ARM], spec.arms)
    return out


def _counts(values: pd.Series, order) -> dict:
    return {a: int((values == a).sum()) for a in order}


def _population(bundle: ModelBundle, split: _Split) -> tuple[PopulationGroup, ...]:
    spec = bundle.spec
    policy = {**DEFAULT_POLICY, **((bundle.extras.get("representation") or {}).get("policy") or {})}
    train = protected_attributes(spec, split.train_frame)
    test = protected_attributes(spec, split.frame)
    out = []
    for attr in spec.protected:
        tr, te = train[attr.name].astype(str), test[attr.name].astype(str)
        for group in _group_order(spec, attr.name, set(tr.unique()) | set(te.unique())):
            n, share = int((tr == group).sum()), float((tr == group).mean())
            out.append(PopulationGroup(
                attribute=attr.name, group=group, n=n, share=share, test_n=int((te == group).sum()),
                test_share=float((te == group).mean()),
                underrepresented=n < policy["min_train_n"] or share < policy["min_train_share"]))
    return tuple(out)


def _feature_ranges(spec: CohortSpec, train: pd.DataFrame) -> tuple[dict, ...]:
    out = []
    for f in spec.features:
        if not f.is_numeric:
            continue
        col = train[f.name].astype(float)
        out.append({"feature": f.name, "label": f.label, "unit": f.unit, "min": _finite(col.min()),
                    "max": _finite(col.max()), "n_missing": int(col.isna().sum())})
    return tuple(out)


def _version(bundle: ModelBundle) -> dict:
    return {"bundle_id": bundle.bundle_id, "sha256": bundle.sha256, "created_utc": _created(bundle),
            "versions": dict(bundle.training.get("versions") or {}),
            "data_sha256": bundle.training.get("data_sha256", ""), "chosen": dict(bundle.training.get("chosen") or {}),
            "cv_folds": bundle.training.get("folds")}


def _created(bundle: ModelBundle) -> str | None:
    """The manifest's creation time, read only if the manifest is still the one whose sha256 the bundle holds."""
    path = bundle.path / MANIFEST
    try:
        if sha256_file(path) != bundle.sha256:
            return None
        return json.loads(path.read_text(encoding="utf-8")).get("created_utc")
    except (OSError, ValueError):
        return None


# --- limitations, generated from facts -------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    bundle: ModelBundle
    split: _Split
    population: tuple[PopulationGroup, ...]
    audit: dict
    coverage: dict
    decision: dict | None
    model_name: str
    baseline_name: str


def _limitations(f: _Facts) -> tuple[Limitation, ...]:
    out: list[Limitation] = []
    for make in (_test_size, _censoring, _observational, _optimistic_iwpc, _baseline_better, _calibration_slope,
                 _c_for_benefit, _flagged_groups, _underrepresented, _interval_check):
        out += make(f)
    return tuple(out)


def _test_size(f: _Facts) -> list[Limitation]:
    spec, ev = f.bundle.spec, f.bundle.evaluation
    n = int(f.split.test_mask.sum())
    text = f"The held-out test split holds {n:,} patients"
    if not spec.is_dose:
        arms = _counts(f.split.frame[ARM], spec.arms)
        text += " (" + ", ".join(f"{a} {k}" for a, k in arms.items()) + ")"
    text += "."
    metric = "mae" if spec.is_dose else "auc"
    ci = (f.audit.get("overall") or {}).get("metrics", {}).get(metric) or {}
    if ci.get("ci_low") is not None and ci.get("ci_high") is not None and ci.get("value") is not None:
        digits = 2 if spec.is_dose else 3
        text += (f" The model's test {_METRIC_LABEL[metric]} is {ci['value']:.{digits}f} with a 95% bootstrap interval "
                 f"of {ci['ci_low']:.{digits}f} to {ci['ci_high']:.{digits}f}")
        inside = [f"{r['name']} ({r[metric]:.{digits}f})" for r in ev.rows[1:] if _is_number(r.get(metric))
                  and ci["ci_low"] <= r[metric] <= ci["ci_high"]]
        text += (f"; the {metric.upper()} of {_join(inside)} lies inside this interval, so differences of that size "
                 "are within sampling variation." if inside else ".")
    return [Limitation("test_split_size", text)]


def _censoring(f: _Facts) -> list[Limitation]:
    o = f.bundle.spec.outcome
    if o.type != "time_to_event":
        return []
    n_train = f.bundle.training.get("n_censored_before_horizon_train")
    n_tr, n_te = int((~f.split.test_mask).sum()), int(f.split.test_mask.sum())
    train_text = f"{n_train:,} of {n_tr:,} training patients and " if n_train is not None else ""
    return [Limitation("censoring", (
        f"{train_text}{f.split.n_censored:,} of {n_te:,} test patients were censored before the "
        f"{_fmt(o.horizon)}-{o.time_unit.rstrip('s') or 'unit'} horizon, so their outcome is unknown. They are "
        "handled by inverse-probability-of-censoring weights (estimated within each arm), which assume that "
        "censoring is unrelated to the outcome given the arm; they are never counted as non-events."))]


def _observational(f: _Facts) -> list[Limitation]:
    spec = f.bundle.spec
    if not spec.is_dose and spec.treatment.randomized:
        return []
    return [Limitation("observational", (
        f"Study design: {_strip_period(spec.study_design)}. In these observational data the model describes which "
        f"{'doses' if spec.is_dose else 'outcomes'} were reached for which patients; the effect of changing an input "
        "is not identified from them."))]


def _optimistic_iwpc(f: _Facts) -> list[Limitation]:
    if not any(IWPC_NAME.split()[0] in str(r.get("name", "")) for r in f.bundle.evaluation.rows):
        return []
    return [Limitation("optimistic_baseline", (
        "The IWPC formula was derived on most of the IWPC patients, including many in this test split, so its "
        "test-split accuracy is optimistic and the comparison with it favours the formula."))]


def _baseline_better(f: _Facts) -> list[Limitation]:
    rows = f.bundle.evaluation.rows
    model, out = rows[0], []
    for base in rows[1:]:
        better = []
        for key, mv in model.items():
            bv, rule = base.get(key), _BETTER.get(key.split("[")[0])
            if rule is None or not (_is_number(mv) and _is_number(bv)):
                continue
            wins = (bv > mv if rule == "higher" else bv < mv if rule == "lower"
                    else abs(bv - rule) < abs(mv - rule))
            if wins:
                base_key = key.split("[")[0]
                label = _METRIC_LABEL.get(base_key, key) + (key[key.index("["):] if "[" in key else "")
                ideal = f"; {_fmt(rule)} is ideal" if not isinstance(rule, str) else ""
                better.append(f"{label} ({_num(bv)} vs {_num(mv)}{ideal})")
        if better:
            out.append(Limitation("baseline_better", f"On the test split, {base['name']} does better than the model on "
                                                     f"{_join(better)}."))
    if not f.bundle.evaluation.model_beats_baselines:
        out.append(Limitation("baseline_better", f.bundle.evaluation.verdict))
    return out


def _calibration_slope(f: _Facts) -> list[Limitation]:
    slope = f.bundle.evaluation.rows[0].get("calibration_slope")
    if not _is_number(slope) or abs(slope - 1) <= 0.2:
        return []
    spread = "less" if slope > 1 else "more"
    return [Limitation("calibration", (
        f"The model's calibration slope on the test split is {slope:.2f} (1 is ideal): its predicted risks are "
        f"{spread} spread out than the observed event rates. The calibration curve shows where."))]


def _c_for_benefit(f: _Facts) -> list[Limitation]:
    spec = f.bundle.spec
    if spec.is_dose:
        return []
    rows = f.bundle.evaluation.rows
    keys = [k for k in rows[0] if k.startswith("c_for_benefit")]
    if not keys:
        return []
    per_arm = min(_counts(f.split.frame[ARM], spec.arms).values())
    ranges = []
    for r in rows:
        vals = [r[k] for k in keys if _is_number(r.get(k))]
        if vals:
            ranges.append(f"{min(vals):.2f}–{max(vals):.2f} for {r['name']}" if len(vals) > 1
                          else f"{vals[0]:.2f} for {r['name']}")
    pooled = (f.audit.get("overall") or {}).get("metrics", {}).get("c_for_benefit") or {}
    ci = (f" Pooled over the active arms the model's value is {pooled['value']:.2f} (95% bootstrap interval "
          f"{pooled['ci_low']:.2f} to {pooled['ci_high']:.2f})." if _is_number(pooled.get("value"))
          and _is_number(pooled.get("ci_low")) and _is_number(pooled.get("ci_high")) else "")
    return [Limitation("c_for_benefit_noise", (
        f"c-for-benefit (how well predicted benefit ranks observed benefit; 0.5 is chance) on the test split ranges "
        f"{_join(ranges)} across {len(keys)} arm comparison(s). With as few as {per_arm} test patients in an arm "
        f"it is very noisy.{ci} Per-patient differences between arms are best read with their intervals."))]


def _flagged_groups(f: _Facts) -> list[Limitation]:
    groups = f.audit.get("groups") or []
    overall = (f.audit.get("overall") or {}).get("metrics", {})
    out = []
    for g in groups:
        flagged = [(k, m) for k, m in g.get("metrics", {}).items()
                   if m.get("flagged") and not m.get("insufficient_data")]
        if not flagged:
            continue
        parts = []
        for k, m in flagged:
            ov = (overall.get(k) or {}).get("value")
            lo, hi = _num(m.get("difference_ci_low"), sign=True), _num(m.get("difference_ci_high"), sign=True)
            parts.append(f"{_METRIC_LABEL.get(k, k)} {_num(m.get('value'))} vs {_num(ov)} overall (difference "
                         f"{_num(m.get('difference'), sign=True)}, 95% CI {lo} to {hi})")
        out.append(Limitation("flagged_group", (
            f"For {g['attribute']} = {g['group']} (n={g['n']} test patients) the subgroup audit finds the model worse "
            f"than overall on {_join(parts)}.")))
    if out:
        n_groups = len(groups)
        out.append(Limitation("flagged_group", (
            f"The subgroup audit's intervals are not corrected for the {n_groups} groups audited, so some of these "
            "flags can arise by chance; the subgroups page shows every group with its interval.")))
    return out


def _underrepresented(f: _Facts) -> list[Limitation]:
    policy = {**DEFAULT_POLICY, **((f.bundle.extras.get("representation") or {}).get("policy") or {})}
    n_train = int((~f.split.test_mask).sum())
    rule = (f"fewer than {policy['min_train_n']} training patients or under {policy['min_train_share']:.0%} of the "
            f"{n_train:,}")
    out = []
    singles = [g for g in f.population if g.underrepresented]
    if singles:
        listed = _join([f"{g.attribute} = {g.group} ({g.n}, {g.share:.1%})" for g in singles])
        out.append(Limitation("underrepresented", f"Underrepresented in training ({rule}): {listed}. Estimates for "
                                                  "these patients rest on little data."))
    inter = _small_intersections(f.bundle.spec, f.split.train_frame, policy)
    if inter:
        shown = _join([f"{a} = {g} ({n}, {n / n_train:.1%})" for a, g, n in inter[:MAX_LISTED]])
        more = f", and {len(inter) - MAX_LISTED} more" if len(inter) > MAX_LISTED else ""
        out.append(Limitation("underrepresented", (
            f"{len(inter)} intersectional group(s) have {rule}: {shown}{more}.")))
    return out


def _small_intersections(spec: CohortSpec, train: pd.DataFrame, policy: dict) -> list[tuple[str, str, int]]:
    groups = protected_attributes(spec, train).astype(str)
    out = []
    for a, b in itertools.combinations([p.name for p in spec.protected], 2):
        counts = (groups[a] + " x " + groups[b]).value_counts()
        for label in (f"{x} x {y}" for x in _group_order(spec, a, groups[a].unique())
                      for y in _group_order(spec, b, groups[b].unique())):
            n = int(counts.get(label, 0))
            if 0 < n and (n < policy["min_train_n"] or n / len(groups) < policy["min_train_share"]):
                out.append((f"{a} x {b}", label, n))
    return out


def _interval_check(f: _Facts) -> list[Limitation]:
    c = f.coverage
    if not c:
        return []
    if "bins" in c:  # arm cohorts: the bootstrap ensemble's binned check
        outside = [b for b in c["bins"] if not b.get("observed_inside")]
        if not outside:
            return []
        parts = [f"bin {b['bin']}: observed {_num(b.get('observed_rate'))} vs interval {_num(b['interval'][0])} to "
                 f"{_num(b['interval'][1])}" for b in outside]
        return [Limitation("interval_check", (
            f"In {len(outside)} of {len(c['bins'])} bins of predicted risk on the test split, the observed event rate "
            f"lies outside the ensemble's average {c.get('level', 0.95):.0%} interval ({'; '.join(parts)}).")) ]
    nominal = c.get("nominal")
    overall = (c.get("overall") or {}).get("coverage")
    if not _is_number(nominal):
        return []
    low = [g for g in c.get("by_group", []) if _is_number(g.get("coverage")) and g["coverage"] < nominal - 0.01]
    if not low and not (_is_number(overall) and overall < nominal - 0.01):
        return []
    parts = [f"{c.get('groups_by', 'group')} = {g['group']}: {g['coverage']:.1%} (n={g['n']})" for g in low]
    return [Limitation("interval_check", (
        f"Prediction intervals (nominal {nominal:.0%}) cover {overall:.1%} of test patients overall"
        + (f"; below nominal for {_join(parts)}." if parts else ".")))]


# --- small helpers -----------------------------------------------------------------------------------


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _finite(x) -> float | None:
    return float(x) if _is_number(x) else None


def _num(x, *, sign: bool = False) -> str:
    if not _is_number(x):
        return "n/a"
    return f"{float(x):+.3g}" if sign else f"{float(x):.3g}"


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _strip_period(text: str) -> str:
    return text.rstrip().rstrip(".")



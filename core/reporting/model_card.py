"""The model card: what a bundle is for, what it was trained on, how well it does, and where it falls short.

Everything here is computed from a verified bundle and the verified data it was trained on, on the
bundle's **held-out test split** only (the patients listed in ``training.json``; fitting, tuning and
calibration never saw them). Pure numpy/pandas: a separate module draws the curves.

:func:`model_card` returns a :class:`ModelCard`: intended use, out-of-scope uses, provenance, the
training population by group, test-split performance beside the baselines, the calibration curves
(:mod:`core.reporting.calibration`) and decision curve (:mod:`core.reporting.decision_curve`),
interval checks, limitations generated from these facts (:mod:`core.reporting.limitations`), and the
model's version. Phrased as facts and options, never as orders.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import pandas as pd

from .._errors import SmallSubgroupWarning
from .._format import exact_number, finite_or_none
from .._json import jsonable
from ..data.cohorts import ARM, protected_attributes
from ..data.cohorts._sources import sha256_file
from ..data.spec import CohortSpec
from .calibration import calibration_on_split, group_order
from .decision_curve import DEFAULT_THRESHOLDS, decision_on_split
from ..modeling.bundle import MANIFEST, ModelBundle
from ..modeling.heldout import HeldOutSplit, held_out_split, row_names
from .population import PopulationGroup
from .limitations import DEFAULT_POLICY, CardFacts, Limitation, counts_in_order, find_limitations, strip_period

__all__ = ["ModelCard", "PopulationGroup", "model_card"]

INTENDED_USERS = (
    "Clinicians exploring one patient's treatment options.",
    "Tumour boards and other multidisciplinary teams weighing options for a patient.",
    "Trainees learning how prediction models can mislead (automation bias) and where they are uncertain.",
)
SUPPORT_NOT_DECIDE = "Equipoise supports a decision; it never makes it. Its outputs are options with evidence."


# --- result objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCard:
    """Everything a reader needs to judge one model bundle; query it, or store it with :meth:`to_dict`.

    Curves and tables are plain dicts and lists (the shapes documented in
    :func:`core.reporting.calibration.calibration_curve` and
    :func:`core.reporting.decision_curve.decision_curve`); ``decision_curve`` is ``None`` for the dose cohort.
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
    site_validation: dict | None = None  # "How it does at a site it never saw" (SiteValidation.to_dict()), if run
    race_gap: dict | None = None  # dose cohort: race-gap mitigations (CV on training, scored on test), the rule, the choice
    treatment_effect: dict | None = None  # trials: risk or effect modelling, and the model's average effect vs the trial's

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
            "site_validation": self.site_validation, "race_gap": self.race_gap,
            "treatment_effect": self.treatment_effect,
        })


# --- the card ------------------------------------------------------------------------------------


def model_card(bundle: ModelBundle) -> ModelCard:
    """The model card of a bundle (computed on its held-out test split and training rows)."""
    spec, split = bundle.spec, held_out_split(bundle)
    model_name, baseline_name = row_names(bundle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSubgroupWarning)  # small groups are notes in the curves
        calibration = calibration_on_split(bundle, split, n_bins=10, by=None)
        by_group = {p.name: calibration_on_split(bundle, split, n_bins=10, by=p.name) for p in spec.protected}
    decision = None if spec.is_dose else decision_on_split(bundle, split, DEFAULT_THRESHOLDS)
    population = _population(bundle, split)
    audit = (bundle.audit.to_dict() if bundle.audit else {})
    performance = {**bundle.evaluation.to_dict(), "split": "test",
                   "bootstrap": (audit.get("overall") or {}).get("metrics", {})}
    uncertainty = (bundle.uncertainty.to_dict() if bundle.uncertainty else {})
    coverage = dict(uncertainty.get("test_coverage") or uncertainty.get("test_check") or {})
    facts = CardFacts(bundle=bundle, split=split, population=population, audit=audit, coverage=coverage,
                      decision=decision, model_name=model_name, baseline_name=baseline_name)
    return ModelCard(
        cohort=spec.name, title=spec.title, bundle_id=bundle.bundle_id, sha256=bundle.sha256,
        intended_use=_intended_use(spec), intended_users=INTENDED_USERS, out_of_scope=_out_of_scope(spec, split),
        provenance=_provenance(bundle), study_design=_study_design(bundle, split),
        training_population=population, feature_ranges=_feature_ranges(spec, split.train_frame),
        performance=performance, calibration=tuple(calibration), calibration_by_group=by_group,
        decision_curve=decision, interval_coverage={"split": "test", **coverage} if coverage else {},
        limitations=find_limitations(facts), version=_version(bundle),
        site_validation=bundle.site_validation.to_dict() if bundle.site_validation is not None else None,
        race_gap=bundle.race_gap, treatment_effect=_treatment_effect(bundle),
    )


def _treatment_effect(bundle: ModelBundle) -> dict | None:
    """How the model treats the arms (PATH), and its average effect beside the trial's own estimate."""
    spec = bundle.spec
    if spec.is_dose:
        return None
    training = bundle.training
    het = training.heterogeneity or {}
    effect = bool(bundle.model.design.effect_modelling)
    if effect:
        statement = ("Effect modelling: treatment-covariate interactions were validated on the training split "
                     "(cross-validated c-for-benefit above 0.5 for every arm, and above the risk model's), so a "
                     "patient's benefit may differ from what their baseline risk alone implies.")
    else:
        statement = ("Risk modelling (PATH statement): every patient gets the trial's average relative effect of each "
                     "arm, so the difference in percentage points varies between patients only through their risk "
                     "without treatment. Individual differences in benefit were not validated: "
                     + (het.get("reason") or "the trial is not randomised") + ".")
    rows = (bundle.uncertainty.average_effect if bundle.uncertainty else None) or []
    return {"modelling": "effect modelling" if effect else "risk modelling", "statement": statement,
            "heterogeneity": het or None, "average_effect": rows,
            "note": ("Average effect: the model's mean difference over the training patients (every patient under "
                     "both arms) with its bootstrap interval, beside the trial's own Kaplan–Meier (or proportion) "
                     "difference between the randomised arms. A model cannot know the average effect better than the "
                     "trial: its interval should not be much narrower than the trial's.")}


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


def _out_of_scope(spec: CohortSpec, split: HeldOutSplit) -> tuple[str, ...]:
    o = spec.outcome
    items = [f"Patients unlike the training population. The cohort: {strip_period(spec.description)}. Numeric "
             "inputs outside the ranges seen in training are extrapolations."]
    if spec.is_dose:
        items.append(f"Drugs other than the one studied, doses other than the stable maintenance dose (such as "
                     f"loading doses), and outcomes other than the {o.label.lower()}.")
    else:
        horizon = f"; horizon {exact_number(o.horizon)} {o.time_unit}".rstrip() if o.horizon else ""
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
                f"(youngest {exact_number(values.min())} years).")
    return (f"Paediatric use below the ages studied: {young} of {n:,} training patients were under 18 years "
            f"(youngest {exact_number(values.min())} years).")


def _provenance(bundle: ModelBundle) -> dict:
    spec, source = bundle.spec, bundle.training.source
    return {"source": spec.source, "citation": spec.citation, "licence": spec.licence,
            "data_sha256": bundle.training.data_sha256, "package": source.get("package"),
            "package_version": source.get("package_version"),
            "exclusions": [dict(e) for e in bundle.training.exclusions],
            "excluded_columns": list(spec.excluded_columns), "notes": list(spec.notes),
            "description": spec.description}


def _study_design(bundle: ModelBundle, split: HeldOutSplit) -> dict:
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
    cal = bundle.training.calibration_split
    if cal:
        out["calibration_split"] = (f"{cal['n']:,} training patients ({cal['fraction']:.0%}, stratified by "
                                    f"{cal['stratified_by']}) were set aside before fitting: {cal['used_for']}.")
    if not spec.is_dose:
        out["arms_train"] = counts_in_order(split.train_frame[ARM], spec.arms)
        out["arms_test"] = counts_in_order(split.frame[ARM], spec.arms)
    return out


def _population(bundle: ModelBundle, split: HeldOutSplit) -> tuple[PopulationGroup, ...]:
    spec = bundle.spec
    policy = {**DEFAULT_POLICY, **(bundle.representation.policy if bundle.representation else {})}
    train = protected_attributes(spec, split.train_frame)
    test = protected_attributes(spec, split.frame)
    out = []
    for attr in spec.protected:
        tr, te = train[attr.name].astype(str), test[attr.name].astype(str)
        for group in group_order(spec, attr.name, set(tr.unique()) | set(te.unique())):
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
        out.append({"feature": f.name, "label": f.label, "unit": f.unit, "min": finite_or_none(col.min()),
                    "max": finite_or_none(col.max()), "n_missing": int(col.isna().sum())})
    return tuple(out)


def _version(bundle: ModelBundle) -> dict:
    return {"bundle_id": bundle.bundle_id, "sha256": bundle.sha256, "created_utc": _created(bundle),
            "signed_by": bundle.signed_by,
            "versions": dict(bundle.training.versions),
            "data_sha256": bundle.training.data_sha256, "chosen": dict(bundle.training.chosen),
            "cv_folds": bundle.training.folds, "recalibration": bundle.training.recalibration}


def _created(bundle: ModelBundle) -> str | None:
    """The manifest's creation time, read only if the manifest is still the one whose sha256 the bundle holds."""
    path = bundle.path / MANIFEST
    try:
        if sha256_file(path) != bundle.sha256:
            return None
        return json.loads(path.read_text(encoding="utf-8")).get("created_utc")
    except (OSError, ValueError):
        return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


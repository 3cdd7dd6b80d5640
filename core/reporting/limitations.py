"""Known limitations of a model bundle, generated from facts about its test split, audit and intervals.

Each rule reads a :class:`CardFacts` and returns zero or more :class:`Limitation` objects, phrased as
facts and options, never as orders; :func:`find_limitations` runs every rule in the card's order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from .._format import exact_number, is_number
from ..data.cohorts import ARM, protected_attributes
from .words import group_text, percent
from ..data.spec import CohortSpec
from .calibration import group_order
from .population import PopulationGroup
from ..fairness.groups import INTERSECTION_SEPARATOR, intersection_name
from ..modeling.bundle import ModelBundle
from ..modeling.heldout import IWPC_NAME, HeldOutSplit


__all__ = ["DEFAULT_POLICY", "CardFacts", "Limitation", "counts_in_order", "find_limitations", "strip_period"]

DEFAULT_POLICY = {"min_train_n": 50, "min_train_share": 0.05}  # as core.fairness.patient_warnings.RepresentationPolicy
MAX_LISTED = 10       # intersectional groups listed by name in one limitation

# metric -> how "better" is judged: "higher", "lower", or the ideal value of |x − ideal|
_BETTER = {"auc": "higher", "c_for_benefit": "higher", "within_20": "higher", "brier": "lower", "mae": "lower",
           "calibration_intercept": 0.0, "calibration_slope": 1.0, "mean_error": 0.0}
_METRIC_LABEL = {"auc": "AUC", "brier": "Brier score", "calibration_intercept": "calibration intercept",
                 "calibration_slope": "calibration slope", "mae": "mean absolute error (mg/week)",
                 "mean_error": "mean error (mg/week)", "within_20": "share within 20% of the actual dose",
                 "coverage": "interval coverage", "c_for_benefit": "c-for-benefit", "outcome_rate": "outcome rate",
                 "mean_predicted": "mean predicted risk", "mean_outcome": "mean dose (mg/week)"}


@dataclass(frozen=True)
class Limitation:
    """A known limitation, stated as a fact: ``kind`` (for filtering) and a plain-language ``message``.

    Kinds: ``test_split_size``, ``censoring``, ``optimistic_baseline``, ``flagged_group``, ``subgroup_audit_method``,
    ``underrepresented``, ``c_for_benefit_noise``, ``baseline_better``, ``calibration``, ``recalibration``,
    ``interval_method``, ``interval_check``, ``observational``, ``unseen_sites``, ``race_gap``.
    """

    kind: str
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class CardFacts:
    """What the rules read: the bundle, its rebuilt test split, and the card's population, audit and checks."""

    bundle: ModelBundle
    split: HeldOutSplit
    population: tuple[PopulationGroup, ...]
    audit: dict
    coverage: dict
    decision: dict | None
    model_name: str
    baseline_name: str


def find_limitations(f: CardFacts) -> tuple[Limitation, ...]:
    """Every rule's limitations, in the order the card lists them."""
    out: list[Limitation] = []
    for make in (_test_size, _censoring, _observational, _optimistic_iwpc, _baseline_better, _calibration_slope,
                 _recalibration, _c_for_benefit, _flagged_groups, _underrepresented, _interval_method,
                 _interval_check, _unseen_sites, _race_gap):
        out += make(f)
    return tuple(out)


def _test_size(f: CardFacts) -> list[Limitation]:
    spec, ev = f.bundle.spec, f.bundle.evaluation
    n = int(f.split.test_mask.sum())
    text = f"The held-out test split holds {n:,} patients"
    if not spec.is_dose:
        arms = counts_in_order(f.split.frame[ARM], spec.arms)
        text += " (" + ", ".join(f"{a} {k}" for a, k in arms.items()) + ")"
    text += "."
    metric = "mae" if spec.is_dose else "auc"
    ci = (f.audit.get("overall") or {}).get("metrics", {}).get(metric) or {}
    if ci.get("ci_low") is not None and ci.get("ci_high") is not None and ci.get("value") is not None:
        digits = 2 if spec.is_dose else 3
        text += (f" The model's test {_METRIC_LABEL[metric]} is {ci['value']:.{digits}f} with a 95% bootstrap interval "
                 f"of {ci['ci_low']:.{digits}f} to {ci['ci_high']:.{digits}f}")
        inside = [f"{r['name']} ({r[metric]:.{digits}f})" for r in ev.rows[1:] if is_number(r.get(metric))
                  and ci["ci_low"] <= r[metric] <= ci["ci_high"]]
        text += (f"; the {metric.upper()} of {_join(inside)} lies inside this interval, so differences of that size "
                 "are within sampling variation." if inside else ".")
    return [Limitation("test_split_size", text)]


def _censoring(f: CardFacts) -> list[Limitation]:
    o = f.bundle.spec.outcome
    if o.type != "time_to_event":
        return []
    n_train = f.bundle.training.n_censored_before_horizon_train
    n_tr, n_te = int((~f.split.test_mask).sum()), int(f.split.test_mask.sum())
    train_text = f"{n_train:,} of {n_tr:,} training patients and " if n_train is not None else ""
    return [Limitation("censoring", (
        f"{train_text}{f.split.n_censored:,} of {n_te:,} test patients were censored before the "
        f"{exact_number(o.horizon)}-{o.time_unit.rstrip('s') or 'unit'} horizon, so their outcome is unknown. They are "
        "handled by inverse-probability-of-censoring weights (estimated within each arm), which assume that "
        "censoring is unrelated to the outcome given the arm; they are never counted as non-events."))]


def _observational(f: CardFacts) -> list[Limitation]:
    spec = f.bundle.spec
    if not spec.is_dose and spec.treatment.randomized:
        return []
    return [Limitation("observational", (
        f"Study design: {strip_period(spec.study_design)}. In these observational data the model describes which "
        f"{'doses' if spec.is_dose else 'outcomes'} were reached for which patients; the effect of changing an input "
        "is not identified from them."))]


def _optimistic_iwpc(f: CardFacts) -> list[Limitation]:
    if not any(IWPC_NAME.split()[0] in str(r.get("name", "")) for r in f.bundle.evaluation.rows):
        return []
    return [Limitation("optimistic_baseline", (
        "The IWPC formula was derived on most of the IWPC patients, including many in this test split, so its "
        "test-split accuracy is optimistic and the comparison with it favours the formula."))]


def _baseline_better(f: CardFacts) -> list[Limitation]:
    rows = f.bundle.evaluation.rows
    model, out = rows[0], []
    for base in rows[1:]:
        better = []
        for key, mv in model.items():
            bv, rule = base.get(key), _BETTER.get(key.split("[")[0])
            if rule is None or not (is_number(mv) and is_number(bv)):
                continue
            wins = (bv > mv if rule == "higher" else bv < mv if rule == "lower"
                    else abs(bv - rule) < abs(mv - rule))
            if wins:
                base_key = key.split("[")[0]
                label = _METRIC_LABEL.get(base_key, key) + (f", {key[key.index('[') + 1:-1]}" if "[" in key else "")
                ideal = f"; {exact_number(rule)} is ideal" if not isinstance(rule, str) else ""
                better.append(f"{label} ({_num(bv)} vs {_num(mv)}{ideal})")
        if better:
            out.append(Limitation("baseline_better", f"On the test split, {base['name']} does better than the model on "
                                                     f"{_join(better)}."))
    if not f.bundle.evaluation.model_beats_baselines:
        out.append(Limitation("baseline_better", f.bundle.evaluation.verdict))
    return out


def _calibration_slope(f: CardFacts) -> list[Limitation]:
    slope = f.bundle.evaluation.rows[0].get("calibration_slope")
    if not is_number(slope) or abs(slope - 1) <= 0.2:
        return []
    spread = "less" if slope > 1 else "more"
    return [Limitation("calibration", (
        f"The model's calibration slope on the test split is {slope:.2f} (1 is ideal): its predicted risks are "
        f"{spread} spread out than the observed event rates. The calibration curve shows where."))]


def _recalibration(f: CardFacts) -> list[Limitation]:
    rec = f.bundle.training.recalibration
    if not rec:
        return []
    cv = rec["cv"]
    verdict = ("so the model's risks are recalibrated" if rec["used"] else
               "so no recalibration is applied")
    choice = f.bundle.training.calibration_method
    if choice:
        losses = "; ".join(f"{k} {v:.3f}" for k, v in choice["cv_log_loss"].items())
        weight = (f" (log-odds {choice['blend_weight']:g} × the model + {1 - choice['blend_weight']:g} × logistic "
                  "regression)" if choice["method"].startswith("blend") else "")
        verdict += (f". Compared with a blend with logistic regression (cross-fitted log-loss: {losses}), the "
                    f"procedure used is: {choice['method']}{weight}")
    return [Limitation("recalibration", (
        f"A logistic recalibration was tested by cross-validation on the training split only: out-of-fold log-loss "
        f"{cv['log_loss_with']:.3f} with it vs {cv['log_loss_without']:.3f} without (Brier {cv['brier_with']:.3f} vs "
        f"{cv['brier_without']:.3f}), {verdict}. The test split played no part in this choice."))]


def _interval_method(f: CardFacts) -> list[Limitation]:
    stated = (f.bundle.uncertainty.interval_method if f.bundle.uncertainty else None) or {}
    if not stated:
        return []
    if f.bundle.spec.is_dose:
        return [Limitation("interval_method", (
            f"Dose intervals: {stated['method']}. Guarantee: {stated['guarantee']} The guarantee is about patients "
            "like those in the cohort on average; it does not promise coverage for a particular patient, and it "
            "needs new patients to resemble the calibration patients (it does not hold for a different population)."))]
    return [Limitation("interval_method", (
        f"Risk intervals: {stated['method']}. They are empirical confidence intervals for the model's estimated risk, "
        "with no coverage guarantee: they reflect how much the estimate moves when the model is refitted on "
        "resampled training patients, not the uncertainty of choosing its settings, and not whether the event "
        "will happen to this patient."))]


def _c_for_benefit(f: CardFacts) -> list[Limitation]:
    spec = f.bundle.spec
    if spec.is_dose:
        return []
    rows = f.bundle.evaluation.rows
    keys = [k for k in rows[0] if k.startswith("c_for_benefit")]
    if not keys:
        return []
    per_arm = min(counts_in_order(f.split.frame[ARM], spec.arms).values())
    ranges = []
    for r in rows:
        vals = [r[k] for k in keys if is_number(r.get(k))]
        if vals:
            ranges.append(f"{min(vals):.2f}–{max(vals):.2f} for {r['name']}" if len(vals) > 1
                          else f"{vals[0]:.2f} for {r['name']}")
    overall = (f.audit.get("overall") or {}).get("metrics", {})
    per_arm_ci = [f"{k[len('c_for_benefit['):-1]} {m['value']:.2f} ({m['ci_low']:.2f} to {m['ci_high']:.2f})"
                  for k, m in overall.items() if k.startswith("c_for_benefit[") and is_number(m.get("value"))
                  and is_number(m.get("ci_low")) and is_number(m.get("ci_high"))]
    ci = (f" For the model, each active arm against the reference, with 95% arm-stratified bootstrap intervals: "
          f"{_join(per_arm_ci)}." if per_arm_ci else "")
    return [Limitation("c_for_benefit_noise", (
        f"c-for-benefit (how well predicted benefit ranks observed benefit; 0.5 is chance) on the test split ranges "
        f"{_join(ranges)} across {len(keys)} arm comparison(s). With as few as {per_arm} test patients in an arm "
        f"it is very noisy.{ci} Per-patient differences between arms are best read with their intervals."))]


def _flagged_groups(f: CardFacts) -> list[Limitation]:
    groups = f.audit.get("groups") or []
    settings = f.audit.get("settings") or {}
    out = []
    for g in groups:
        flagged = [(k, m) for k, m in g.get("metrics", {}).items()
                   if m.get("flagged") and not m.get("insufficient_data")]
        if not flagged:
            continue
        parts = []
        for k, m in flagged:
            parts.append(f"{_METRIC_LABEL.get(k, k)} {_num(m.get('value'))} vs {_num(m.get('complement'))} for the "
                         f"rest (difference {_num(m.get('difference'), sign=True)}, p = {_num(m.get('p_value'))}, "
                         f"adjusted p = {_num(m.get('p_adjusted'))})")
        out.append(Limitation("flagged_group", (
            f"For {group_text(f.bundle.spec, g['attribute'], g['group'])} (n={g['n']} test patients) the subgroup audit finds the model worse "
            f"than for the rest of the test patients on {_join(parts)}.")))
    n_tests = settings.get("n_tests")
    if n_tests:
        method = {"holm": "Holm's method", "fdr_bh": "the Benjamini–Hochberg method"}.get(
            settings.get("correction"), str(settings.get("correction")))
        found = f"{len(out)} group(s) remain flagged" if out else "no group remains flagged"
        out.append(Limitation("subgroup_audit_method", (
            f"The subgroup audit compares each group with the rest of the test patients in {n_tests} tests, corrected "
            f"for multiplicity with {method}; {found} "
            f"({settings.get('n_below_alpha_uncorrected', '?')} test(s) were below 0.05 before correction). Small "
            "groups have little power: no flag is not proof that the model works as well for them.")))
    return out


def _underrepresented(f: CardFacts) -> list[Limitation]:
    policy = {**DEFAULT_POLICY, **(f.bundle.representation.policy if f.bundle.representation else {})}
    n_train = int((~f.split.test_mask).sum())
    rule = (f"fewer than {policy['min_train_n']} training patients or under {policy['min_train_share']:.0%} of the "
            f"{n_train:,}")
    out = []
    singles = [g for g in f.population if g.underrepresented]
    if singles:
        listed = _join([f"{group_text(f.bundle.spec, g.attribute, g.group)} ({g.n}, {g.share:.1%})" for g in singles])
        out.append(Limitation("underrepresented", f"Underrepresented in training ({rule}): {listed}. Estimates for "
                                                  "these patients rest on little data."))
    inter = _small_intersections(f.bundle.spec, f.split.train_frame, policy)
    if inter:
        shown = _join([f"{group_text(f.bundle.spec, a, g)} ({n}, {n / n_train:.1%})" for a, g, n in inter[:MAX_LISTED]])
        more = f", and {len(inter) - MAX_LISTED} more" if len(inter) > MAX_LISTED else ""
        out.append(Limitation("underrepresented", (
            f"{len(inter)} intersectional group(s) have {rule}: {shown}{more}.")))
    return out


def _small_intersections(spec: CohortSpec, train: pd.DataFrame, policy: dict) -> list[tuple[str, str, int]]:
    groups = protected_attributes(spec, train).astype(str)
    out = []
    for a, b in itertools.combinations([p.name for p in spec.protected], 2):
        counts = (groups[a] + INTERSECTION_SEPARATOR + groups[b]).value_counts()
        for label in (intersection_name((x, y)) for x in group_order(spec, a, groups[a].unique())
                      for y in group_order(spec, b, groups[b].unique())):
            n = int(counts.get(label, 0))
            if 0 < n and (n < policy["min_train_n"] or n / len(groups) < policy["min_train_share"]):
                out.append((intersection_name((a, b)), label, n))
    return out


def _interval_check(f: CardFacts) -> list[Limitation]:
    c = f.coverage
    if not c:
        return []
    if "bins" in c:  # arm cohorts: the bootstrap ensemble's binned check
        outside = [b for b in c["bins"] if not b.get("observed_inside")]
        if not outside:
            return []
        parts = [f"bin {b['bin']}: observed {percent(b.get('observed_rate'))} vs interval {percent(b['interval'][0])} "
                 f"to {percent(b['interval'][1])}" for b in outside]
        return [Limitation("interval_check", (
            f"In {len(outside)} of {len(c['bins'])} bins of predicted risk on the test split, the observed event rate "
            f"lies outside the ensemble's average {c.get('level', 0.95):.0%} interval ({'; '.join(parts)}).")) ]
    nominal = c.get("nominal")
    overall = (c.get("overall") or {}).get("coverage")
    if not is_number(nominal):
        return []
    parts = []
    for key, what in (("by_group", c.get("groups_by", "group")), ("by_predicted_band", "predicted dose"),
                      ("by_observed_band", "stable dose")):
        rows = c.get(key) or []
        for g in (rows.get("by_group", []) if isinstance(rows, dict) else rows):
            n, cov = g.get("n"), g.get("coverage")
            if not (is_number(cov) and is_number(n) and n >= 1):
                continue
            p = _binomial_p(round(cov * n), int(n), float(nominal))
            if p < 0.05:
                side = "too narrow" if cov < nominal else "wider than needed"
                parts.append(f"{what} {g['group']}: {cov:.1%} of {int(n)} ({side}; binomial p {'< 0.001' if p < 0.001 else f'= {p:.3f}'})")
    if not parts and not (is_number(overall) and overall < nominal - 0.01):
        return []
    return [Limitation("interval_check", (
        f"Prediction intervals (nominal {nominal:.0%}) cover {overall:.1%} of test patients overall"
        + (f"; coverage differs from nominal beyond sampling error for {_join(parts)}." if parts else ".")))]


def _binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test of ``k`` successes in ``n`` against ``p``."""
    from scipy.stats import binomtest

    return float(binomtest(int(k), int(n), p).pvalue)


# --- small helpers -----------------------------------------------------------------------------------


def counts_in_order(values: pd.Series, order) -> dict:
    """How many of ``values`` equal each entry of ``order`` (e.g. patients per arm), in that order."""
    return {a: int((values == a).sum()) for a in order}


def _num(x, *, sign: bool = False) -> str:
    if not is_number(x):
        return "n/a"
    return f"{float(x):+.3g}" if sign else f"{float(x):.3g}"


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def strip_period(text: str) -> str:
    return text.rstrip().rstrip(".")


def _unseen_sites(f: CardFacts) -> list[Limitation]:
    """How the model did at sites it never saw (leave-one-site-out), or that this was not checked."""
    sv = f.bundle.site_validation
    total = _site_count(f)
    if sv is None:
        if f.bundle.spec.name != "warfarin":
            return []
        return [Limitation("unseen_sites", (
            f"This model was not checked at a site it never saw: its held-out test patients come from the same "
            f"{total or 'project'} {'project ' * bool(total)}sites as its training patients, so its errors at a new hospital may be larger than "
            "those shown here. A leave-one-site-out validation, which can be run when the model is built, shows how "
            "it does at a new site."))]
    s = sv.summary()
    w = s["worst_site"]
    return [Limitation("unseen_sites", (
        f"At a site it never saw (leave-one-site-out over {_sites_scored(s['n_sites'], total)}), the model's mean absolute error "
        f"ranged from {s['min_mae']:.1f} to {s['max_mae']:.1f} mg/week (median {s['median_mae']:.1f}, pooled "
        f"{s['pooled_mae']:.1f}); the worst was site {w['site']} (n={w['n']}, {w['mae']:.1f}). It was lower than the IWPC "
        f"formula's at {s['sites_model_beats_formula']} of {s['n_sites']} sites, but the formula was derived on these "
        f"patients. Interval coverage pooled over held-out sites: {s['pooled_coverage']:.0%} (nominal "
        f"{(s['nominal_coverage'] or 0):.0%}): the coverage guarantee does not extend to a new site."))]


def _site_count(f: CardFacts) -> int | None:
    """How many project sites the data have (the warfarin cohort records each patient's site)."""
    from ..data.cohorts import project_sites

    try:
        return len(set(project_sites(f.split.cohort)))
    except Exception:  # noqa: BLE001 - a cohort without sites: the count is simply not stated
        return None


def _sites_scored(scored: int, total: int | None) -> str:
    if total is None or total == scored:
        return f"all {scored} sites"
    return f"{scored} of the {total} sites; the others have too few patients to score alone"


def _race_gap(f: CardFacts) -> list[Limitation]:
    """The chosen race-gap mitigation and whether the gap goal was met on the test split."""
    rg = f.bundle.race_gap
    if not rg:
        return []
    test = rg["test"]
    m, formula = test["candidates"][rg["chosen"]], test["iwpc_formula"]
    met = abs(m["black_white_gap"]) < abs(formula["black_white_gap"]) and m["mae"] < formula["mae"]
    return [Limitation("race_gap", (
        f"Race gap: on the test split, Black patients' mean absolute error is {_versus(m['black_white_gap'])} White "
        f"patients' (IWPC formula: {_versus(formula['black_white_gap'])}); Asian patients' is "
        f"{_versus(m['asian_white_gap'])} (formula: {_versus(formula['asian_white_gap'])}). Mitigation used: "
        f"{rg['chosen']}, chosen on the training split only ({rg['rule']}). The goal (gap and overall MAE both below "
        f"the formula's) is {'met' if met else 'not met'} on this split. Part of the gap follows the dose itself: "
        "larger doses carry larger absolute errors."))]


def _versus(gap: float) -> str:
    return f"{abs(gap):.2f} mg/week {'above' if gap > 0 else 'below'}"

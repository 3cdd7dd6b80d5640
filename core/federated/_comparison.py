"""The four regimes on the same held-out rows, per site, per race and overall, with the IWPC formula beside each.

Regimes (each for the linear model in the formula's form and for boosted trees on top of it, the trees starting
from the same regime's linear model):

* ``pooled``: one model on all sites' training rows pooled (what a data-sharing consortium would fit);
* ``site-local``: each site's own model on its own training rows, predicting its own held-out rows;
* ``federated``: the model the Flower run produced without pooling (:mod:`._simulation`);
* ``federated+personalized``: the federated model plus the site's own intercept recalibration: the mean
  residual, on the sqrt scale, of the federated model on the site's own training rows (computed at the site;
  nothing more is shared).

And, for the linear model only, ``federated, site never took part``: the site's held-out rows predicted by the
fit from the other sites' statistics (exactly the fit a Flower run without that site returns, because the fit
is a function of the summed statistics). Trees would need one more federated run per site: not done.

Every row carries the IWPC formula's numbers on the very same patients (height and weight filled with the
site's own training medians, so the baseline needs nothing from other sites; a site that records no height at all
uses the federated run's shared mean) and the paired bootstrap interval
of the difference in MAE (regime − formula): "better than the formula" only where that interval excludes 0; and
the paired interval against the same model fitted pooled (regime − pooled), the price of not pooling.
The bootstrap resamples the group's held-out patients (``n_boot`` times, fixed seed); the intervals are
percentile intervals and say nothing about sites outside this cohort.
"""

from __future__ import annotations

import warnings

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from ..evaluation.baselines import iwpc_doses
from ._linear import LinearDoseModel, fit_pooled, recalibration_shift, site_statistics, solve
from ._sites import OTHER, SitePartition, site_key
from ._trees import TreeModel, TreeSettings, feature_matrix, fit_trees

LINEAR_MODEL, TREE_MODEL = "linear (IWPC form)", "linear + boosted trees"
POOLED, LOCAL, FEDERATED, PERSONALIZED, UNSEEN = ("pooled", "site-local", "federated", "federated+personalized",
                                                  "federated, site never took part")
REGIMES = (POOLED, LOCAL, FEDERATED, PERSONALIZED)
N_BOOT = 500


@dataclass(frozen=True)
class RegimeRow:
    """One group (overall, a site, or a race) × model × regime, with the formula on the same patients.

    Errors are in mg/week; ``*_ci`` are 95% percentile bootstrap intervals; ``mae_minus_formula`` is paired.
    """

    group_kind: str           # "overall", "site" or "race"
    group: str
    model: str
    regime: str
    n: int
    mae: float
    mae_ci: tuple[float, float]
    within_20: float
    within_20_ci: tuple[float, float]
    mean_error: float
    mean_error_ci: tuple[float, float]
    formula_mae: float
    formula_mae_ci: tuple[float, float]
    formula_within_20: float
    mae_minus_formula: float
    mae_minus_formula_ci: tuple[float, float]
    mae_minus_pooled: float                # paired, against the same model family's pooled regime
    mae_minus_pooled_ci: tuple[float, float]

    @property
    def verdict(self) -> str:
        lo, hi = self.mae_minus_formula_ci
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return "no interval"
        if hi < 0:
            return "better than the formula"
        if lo > 0:
            return "worse than the formula"
        return "not distinguishable from the formula"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict
        return d


@dataclass(frozen=True)
class FederatedComparison:
    """The regimes table and what it was computed from; :meth:`row` and :meth:`rows_for` query it."""

    cohort: str
    rows: tuple[RegimeRow, ...]
    sites: tuple[dict, ...]                 # {site, n, n_train, n_held_out, reported_as}
    min_site_n: int
    n_boot: int
    seed: int
    tree_settings: dict
    linear_coefficients: dict               # {"pooled": {...}, "federated": {...}, "max_abs_difference": x}
    notes: tuple[str, ...] = field(default_factory=tuple)

    def row(self, group: str, model: str, regime: str) -> RegimeRow:
        return next(r for r in self.rows if r.group == str(group) and r.model == model and r.regime == regime)

    def rows_for(self, *, group_kind: str | None = None, model: str | None = None,
                 regime: str | None = None) -> tuple[RegimeRow, ...]:
        return tuple(r for r in self.rows if (group_kind is None or r.group_kind == group_kind)
                     and (model is None or r.model == model) and (regime is None or r.regime == regime))

    def overall(self) -> dict:
        """``{model: {regime: MAE}}`` over all held-out rows, and the formula's."""
        out: dict = {}
        for r in self.rows_for(group_kind="overall"):
            out.setdefault(r.model, {})[r.regime] = r.mae
            out[r.model]["IWPC formula"] = r.formula_mae
        return out

    def to_dict(self) -> dict:
        from .._json import jsonable

        return jsonable({"cohort": self.cohort, "min_site_n": self.min_site_n, "n_boot": self.n_boot,
                         "seed": self.seed, "sites": [dict(s) for s in self.sites],
                         "tree_settings": dict(self.tree_settings), "linear_coefficients": self.linear_coefficients,
                         "overall": self.overall(), "rows": [r.to_dict() for r in self.rows],
                         "notes": list(self.notes)})


def compare_regimes(cohort, part: SitePartition, federated_linear: LinearDoseModel,
                    federated_trees: TreeModel | None, *, tree_settings: TreeSettings, n_boot: int = N_BOOT,
                    seed: int = 0, progress: Callable[[str], None] | None = None) -> FederatedComparison:
    """Score every regime on the sites' held-out rows (``part.held_out``)."""
    say = progress or (lambda _m: None)
    spec, frame = cohort.spec, cohort.frame
    dose = frame[spec.outcome.column].to_numpy(float)
    train, test = ~part.held_out, part.held_out
    test_idx = np.flatnonzero(test)
    test_frame = frame.iloc[test_idx].reset_index(drop=True)
    y = dose[test_idx]
    site_of = part.sites[test_idx]
    preds: dict = {LINEAR_MODEL: {}, TREE_MODEL: {}}

    say("pooled linear model on all sites' training rows")
    pooled = fit_pooled(frame[train], dose[train])
    preds[LINEAR_MODEL][POOLED] = pooled.predict(test_frame)
    preds[LINEAR_MODEL][FEDERATED] = federated_linear.predict(test_frame)
    local, personal, unseen = (np.full(len(y), np.nan) for _ in range(3))
    formula = np.full(len(y), np.nan)
    stats = {s: site_statistics(frame[part.train_rows(s)], dose[part.train_rows(s)]) for s in part.names}
    total = _sum(stats.values())
    for s in part.names:
        rows, at = part.train_rows(s), site_of == s
        local[at] = solve(stats[s], strict=False).predict(test_frame[at])
        shift = recalibration_shift(federated_linear, frame[rows], dose[rows])
        personal[at] = federated_linear.predict(test_frame[at], shift=shift)
        unseen[at] = solve(_minus(total, stats[s])).predict(test_frame[at])
        impute = {c: _median_or(frame.loc[rows, c], federated_linear.fill[c]) for c in ("height_cm", "weight_kg")}
        formula[at] = iwpc_doses(test_frame[at], impute=impute)
    preds[LINEAR_MODEL].update({LOCAL: local, PERSONALIZED: personal, UNSEEN: unseen})

    if federated_trees is not None:
        x_all, names = feature_matrix(spec, frame)
        xt, ysq = x_all[test_idx], np.sqrt(dose)
        say(f"pooled and site-local boosted trees ({tree_settings.rounds * tree_settings.local_trees} trees each, "
            "each on top of its own regime's linear model)")
        off_pooled, off_fed = pooled.predict_sqrt(frame), federated_linear.predict_sqrt(frame)
        preds[TREE_MODEL][POOLED] = fit_trees(x_all[train], ysq[train], names, tree_settings,
                                              offset=off_pooled[train]).predict(xt, off_pooled[test_idx])
        preds[TREE_MODEL][FEDERATED] = federated_trees.predict(xt, off_fed[test_idx])
        local, personal = np.full(len(y), np.nan), np.full(len(y), np.nan)
        fed_train = federated_trees.predict_sqrt(x_all, off_fed)
        for s in part.names:
            rows, at = part.train_rows(s), site_of == s
            site_linear = solve(stats[s], strict=False)
            local[at] = fit_trees(x_all[rows], ysq[rows], names, tree_settings,
                                  offset=site_linear.predict_sqrt(frame[rows])).predict(
                xt[at], site_linear.predict_sqrt(test_frame[at]))
            shift = float(np.mean(ysq[rows] - fed_train[rows]))
            personal[at] = federated_trees.predict(xt[at], off_fed[test_idx][at], shift=shift)
        preds[TREE_MODEL].update({LOCAL: local, PERSONALIZED: personal})

    say(f"scoring per site, per race and overall ({n_boot} bootstrap resamples)")
    report_site = part.report_site()[test_idx]
    race = test_frame["race"].astype(str).to_numpy()
    groups = [("overall", "all sites", np.ones(len(y), dtype=bool))]
    groups += [("site", s, report_site == s) for s in sorted(set(report_site), key=site_key)]
    groups += [("race", r, race == r) for r in sorted(set(race))]
    rng = np.random.default_rng(seed)
    rows = []
    for kind, name, mask in groups:
        boot = _boot_index(int(mask.sum()), n_boot, rng)
        for model, by_regime in preds.items():
            for regime, p in by_regime.items():
                rows.append(_score(kind, name, model, regime, y[mask], p[mask], formula[mask],
                                   by_regime[POOLED][mask], boot))
    sites = tuple({"site": s, "n": part.size(s), "n_train": int(part.train_rows(s).sum()),
                   "n_held_out": int(part.test_rows(s).sum()),
                   "reported_as": OTHER if s in part.small_sites else s} for s in part.names)
    diff = float(np.max(np.abs(pooled.coefficients - federated_linear.coefficients)))
    return FederatedComparison(
        cohort=spec.name, rows=tuple(rows), sites=sites, min_site_n=part.min_site_n, n_boot=n_boot, seed=seed,
        tree_settings=asdict(tree_settings),
        linear_coefficients={"pooled": pooled.as_dict(), "federated": federated_linear.as_dict(),
                             "max_abs_difference": diff},
        notes=_notes(part))


def _median_or(values, fallback: float) -> float:
    """The site's own median; a site that records no value at all uses the federated run's shared mean."""
    values = values.astype(float).dropna()
    return float(values.median()) if len(values) else float(fallback)


def _sum(stats):
    it = iter(stats)
    total = next(it)
    for s in it:
        total = total + s
    return total


def _minus(total, part):
    from ._linear import SufficientStatistics

    return SufficientStatistics(total.xtx - part.xtx, total.xty - part.xty, total.n - part.n)


def _boot_index(n: int, n_boot: int, rng) -> np.ndarray:
    return rng.integers(0, n, size=(n_boot, n)) if n else np.zeros((0, 0), dtype=int)


def _score(kind, name, model, regime, y, p, f, pooled, boot) -> RegimeRow:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group whose formula doses are all unknown: NaN, said so
        return _score_rows(kind, name, model, regime, y, p, f, pooled, boot)


def _score_rows(kind, name, model, regime, y, p, f, pooled, boot) -> RegimeRow:
    err, ferr = np.abs(p - y), np.abs(f - y)
    within = (np.abs(p - y) <= 0.2 * y).astype(float)
    signed = p - y
    ok = np.isfinite(ferr)
    ferr_filled = np.where(ok, ferr, np.nan)

    def ci(values):
        if not len(boot):
            return (float("nan"), float("nan"))
        stat = np.nanmean(values[boot], axis=1)
        return (float(np.nanpercentile(stat, 2.5)), float(np.nanpercentile(stat, 97.5)))

    diff = np.where(ok, err - ferr, np.nan)
    return RegimeRow(group_kind=kind, group=str(name), model=model, regime=regime, n=int(len(y)),
                     mae=float(err.mean()), mae_ci=ci(err), within_20=float(within.mean()), within_20_ci=ci(within),
                     mean_error=float(signed.mean()), mean_error_ci=ci(signed),
                     formula_mae=float(np.nanmean(ferr_filled)), formula_mae_ci=ci(ferr_filled),
                     formula_within_20=float(np.nanmean(np.where(ok, np.abs(f - y) <= 0.2 * y, np.nan))),
                     mae_minus_formula=float(np.nanmean(diff)), mae_minus_formula_ci=ci(diff),
                     mae_minus_pooled=float(np.mean(err - np.abs(pooled - y))),
                     mae_minus_pooled_ci=ci(err - np.abs(pooled - y)))


def _notes(part: SitePartition) -> tuple[str, ...]:
    small = ", ".join(part.small_sites) or "none"
    return (
        f"Each site held out {int(round(100 * 0.25))}% of its own patients (stratified by its dose quintiles, seed "
        f"{part.seed}); every regime is scored on exactly these rows.",
        f"Sites with fewer than {part.min_site_n} patients (sites {small}) trained as clients like every other site; "
        f"their held-out rows are reported together as '{OTHER}'.",
        "The IWPC formula was derived on these same patients (all sites pooled), so its numbers are in-sample and "
        "optimistic; every model here was fitted on training rows only.",
        "'federated+personalized' adds the site's own intercept recalibration (mean residual of the federated model "
        "on the site's training rows, sqrt scale); nothing beyond the federated run is shared for it.",
        "'federated, site never took part' (linear model): the fit from the other sites' statistics, i.e. what a "
        "federated run without that site returns.",
    )

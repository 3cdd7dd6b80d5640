"""One federated training and its comparison with pooled and site-local training: the report behind
``equipoise federated`` and ``benchmarks/federated_report.py``."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

from ._comparison import N_BOOT, FederatedComparison, compare_regimes
from ._linear import AUGMENTED
from ._simulation import FederatedFit, run_federated
from ._sites import bundled_partition
from ._trees import TreeSettings

DEFAULT_ROUNDS = TreeSettings().rounds
SMALL_ROUNDS = 3          # the test suite's setting
MAX_ROUNDS = 500
FEDERATED_COHORTS = ("warfarin",)

MSG_COHORT = ("Federated training runs over the sites of a multi-site dose cohort: {allowed}. Got {got!r} instead "
              "(its patients record no site).")
MSG_ROUNDS = "The number of federated rounds must be an integer from 1 to {hi}. Got {got!r} instead."


@dataclass(frozen=True)
class FederatedReport:
    """How the federated models were trained, what left each site, and the four-regime comparison."""

    comparison: FederatedComparison
    fit: FederatedFit
    seconds: float                  # wall time of the whole report (training, baselines, scoring)

    def training(self) -> dict:
        """How it was trained: the model card's "federated training" section."""
        f, s = self.fit, self.fit.settings
        per_round = f.n_sites * s.local_trees
        p = len(AUGMENTED)
        return {
            "framework": "Flower (flwr) ServerApp/ClientApp, simulation engine (one virtual SuperNode per site)",
            "n_sites": f.n_sites, "n_training_patients": f.n_patients,
            "linear": {"strategy": "FedAvg, 1 round (n-weighted average of ZᵀZ/n and Zᵀy/n = pooled ZᵀZ/N, Zᵀy/N)",
                       "rounds": 1, "equals_pooled_fit_max_abs_difference":
                           self.comparison.linear_coefficients["max_abs_difference"]},
            "trees": None if f.trees is None else {
                "strategy": "FedXgbBagging (XGBoost), boosting from the federated linear model's sqrt dose",
                "rounds": f.rounds, "trees_per_site_per_round": s.local_trees,
                "trees_per_round": per_round, "n_trees": f.trees.n_trees,
                "learning_rate": s.learning_rate, "site_learning_rate": "learning_rate × n_site / N",
                "max_depth": s.max_depth, "min_child_weight": s.min_child_weight},
            "shared": [
                f"linear model: one message per site: ZᵀZ/n ({p}×{p}) and Zᵀy/n ({p}) of its augmented design "
                "(formula inputs, missing-value indicators) and its patient count n",
                "boosted trees: per round and site, the site's new trees (XGBoost JSON: split features, thresholds, "
                "leaf values, per-node weights) and its patient count n; the server sends the federated linear "
                "model's coefficients with every tree round",
                "never: rows, patient identifiers, held-out rows",
            ],
            "not_protected": ("No secure aggregation: the server sees each site's statistics. At a small site a "
                              "genotype or race cell of one patient reveals that patient's age, height, weight and "
                              "sqrt(dose) sums; tree leaves of small sites are averages over few patients."),
            "messages_received": len(f.messages), "bytes_received": f.bytes_received,
            "training_seconds": round(f.seconds, 1),
        }

    def to_dict(self) -> dict:
        from .._json import jsonable

        return jsonable({**self.comparison.to_dict(), "training": self.training(),
                         "wall_seconds": round(self.seconds, 1)})


def run_federated_comparison(cohort: str = "warfarin", *, rounds: int = DEFAULT_ROUNDS, n_boot: int = N_BOOT,
                             with_trees: bool = True, keep_contents: bool = False,
                             progress: Callable[[str], None] | None = None) -> FederatedReport:
    """Federated training over the cohort's sites (Flower simulation), then the four regimes on the same rows."""
    if cohort not in FEDERATED_COHORTS:
        raise ValueError(MSG_COHORT.format(allowed=", ".join(FEDERATED_COHORTS), got=cohort))
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
        raise ValueError(MSG_ROUNDS.format(hi=MAX_ROUNDS, got=rounds))
    t0 = time.perf_counter()
    data, part = bundled_partition(cohort)
    settings = replace(TreeSettings(), rounds=rounds, seed=data.spec.seed % 2**31)
    fit = run_federated(len(part.names), settings, with_trees=with_trees, progress=progress,
                        keep_contents=keep_contents)
    comparison = compare_regimes(data, part, fit.linear, fit.trees, tree_settings=settings, n_boot=n_boot,
                                 seed=data.spec.seed, progress=progress)
    return FederatedReport(comparison=comparison, fit=fit, seconds=time.perf_counter() - t0)

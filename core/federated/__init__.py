"""Federated training over the IWPC sites on Flower: learn across sites without pooling their patients.

>>> from core.federated import run_federated_comparison
>>> report = run_federated_comparison(rounds=40)          # Flower's simulation engine, one client per site
>>> report.comparison.overall()["linear (IWPC form)"]["federated"]

* :mod:`._linear`: the exact federated linear model in the IWPC formula's form, from per-site sufficient
  statistics (equal to the pooled fit, to rounding).
* :mod:`._trees`: boosted trees (XGBoost), federated with Flower's ``FedXgbBagging``.
* :mod:`._apps`: the Flower ServerApp and ClientApp (the same objects run on SuperLink/SuperNodes).
* :mod:`._simulation`: the run in Flower's simulation engine.
* :mod:`._sites`: the per-site held-out split; :mod:`._comparison`: the four regimes on the same rows.

Flower is imported only when a federated run starts.
"""

from ._comparison import (FEDERATED, LINEAR_MODEL, LOCAL, N_BOOT, PERSONALIZED, POOLED, REGIMES, TREE_MODEL, UNSEEN,
                          FederatedComparison, RegimeRow, compare_regimes)
from ._linear import (COEFFICIENTS, LinearDoseModel, SufficientStatistics, augmented_design, fit_pooled,
                      site_statistics, solve)
from ._report import DEFAULT_ROUNDS, SMALL_ROUNDS, FederatedReport, run_federated_comparison
from ._simulation import FederatedFit, run_federated
from ._sites import MIN_SITE_N, OTHER, SitePartition, bundled_partition, partition_sites, site_held_out
from ._trees import TreeModel, TreeSettings, feature_matrix, fit_trees

__all__ = [
    "COEFFICIENTS", "DEFAULT_ROUNDS", "FEDERATED", "FederatedComparison", "FederatedFit", "FederatedReport",
    "LINEAR_MODEL", "LOCAL", "LinearDoseModel", "MIN_SITE_N", "N_BOOT", "OTHER", "PERSONALIZED", "POOLED", "REGIMES",
    "RegimeRow", "SMALL_ROUNDS", "SitePartition", "SufficientStatistics", "TREE_MODEL", "TreeModel",
    "TreeSettings", "UNSEEN", "augmented_design", "bundled_partition", "compare_regimes", "feature_matrix",
    "fit_pooled", "fit_trees", "partition_sites", "run_federated", "run_federated_comparison", "site_held_out",
    "site_statistics", "solve",
]

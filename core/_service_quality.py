"""Service functions for model quality beyond one random split: validation at sites the model never saw, and
federated training over the sites compared with pooled and site-local training.

Re-exported by :mod:`core.service` (one import line); every result is handed to the observers first.
"""

from __future__ import annotations

from typing import Callable

from ._errors import InputFileError
from ._observers import FEDERATED_COMPARISON, SITE_VALIDATION, _shown


def validate_by_site(cohort: str = "warfarin", *, progress: Callable[[str], None] | None = None, min_n: int = 50):
    """Leave-one-site-out validation of a bundled multi-site dose cohort: a
    :class:`~core.evaluation.sites.SiteValidation` (one row per site with at least ``min_n`` patients, and the
    spread). Trains the full protocol once per site: minutes, not seconds."""
    from .data.cohorts import load_cohort, project_sites
    from .modeling.site_validation import validate_by_site as _validate

    data = load_cohort(cohort)
    result = _validate(data, project_sites(data), min_n=min_n, progress=progress)
    return _shown(SITE_VALIDATION, None, result, details={"cohort": cohort, "n_sites": len(result.sites)})


def federated_comparison(cohort: str = "warfarin", *, rounds: int | None = None, n_boot: int | None = None,
                         progress: Callable[[str], None] | None = None):
    """Train the federated models over the cohort's sites in Flower's simulation engine and score the four
    regimes on the sites' held-out rows: a :class:`~core.federated.FederatedReport` (minutes, not seconds)."""
    from .federated import _report as R
    from .federated._comparison import N_BOOT

    try:
        report = R.run_federated_comparison(cohort, rounds=R.DEFAULT_ROUNDS if rounds is None else rounds,
                                            n_boot=N_BOOT if n_boot is None else n_boot, progress=progress)
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    return _shown(FEDERATED_COMPARISON, None, report,
                  details={"cohort": cohort, "rounds": report.fit.rounds, "n_sites": report.fit.n_sites})

"""Service functions for model quality beyond one random split: validation at sites the model never saw.

Re-exported by :mod:`core.service` (one import line); every result is handed to the observers first.
"""

from __future__ import annotations

from typing import Callable

from .._observers import SITE_VALIDATION, _shown


def validate_by_site(cohort: str = "warfarin", *, progress: Callable[[str], None] | None = None, min_n: int = 50):
    """Leave-one-site-out validation of a bundled multi-site dose cohort: a
    :class:`~core.evaluation.sites.SiteValidation` (one row per site with at least ``min_n`` patients, and the
    spread). Trains the full protocol once per site: minutes, not seconds."""
    from ..data.cohorts import load_cohort, project_sites
    from ..modeling.site_validation import validate_by_site as _validate

    data = load_cohort(cohort)
    result = _validate(data, project_sites(data), min_n=min_n, progress=progress)
    return _shown(SITE_VALIDATION, None, result, details={"cohort": cohort, "n_sites": len(result.sites)})


"""Cohorts: the bundled ones, a user's own CSV with its spec, and an example patient for either."""

from __future__ import annotations

from pathlib import Path

from ..data.cohorts import BUNDLED, load_cohort  # noqa: F401  (BUNDLED, load_cohort: re-exported)

DEFAULT_COHORT = "actg175"


def cohort_summaries() -> list[dict]:
    """Name, title, design, size and source of every bundled cohort."""
    from ..data.cohorts import list_cohorts

    return [load_cohort(name).summary() for name in list_cohorts()]


def cohort_from_csv(csv: str | Path, spec):
    """A user's own cohort: a CSV with one row per patient and a spec (JSON path or CohortSpec)."""
    from ..data.cohorts import cohort_from_csv as _cohort_from_csv

    return _cohort_from_csv(csv, spec)


def template(*, cohort: str | None = None, spec: str | Path | None = None) -> dict:
    """An example patient for a bundled cohort (its most typical values) or for a spec file (limits only)."""
    from ..data.spec import CohortSpec
    from ..data.template import patient_template

    if spec is not None:
        return patient_template(CohortSpec.from_json(spec))
    data = load_cohort(cohort)
    return patient_template(data.spec, data.frame)

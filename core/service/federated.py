"""Federated training over a multi-site cohort's sites (Flower), compared with pooled and site-local training on the
same held-out rows; the report is handed to the observers before it is returned."""

from __future__ import annotations

from typing import Callable

from .._errors import InputFileError
from .._observers import FEDERATED_COMPARISON, _shown


def federated_comparison(cohort: str = "warfarin", *, rounds: int | None = None, n_boot: int | None = None,
                         progress: Callable[[str], None] | None = None):
    """Train the federated models over the cohort's sites in Flower's simulation engine and score the four
    regimes on the sites' held-out rows: a :class:`~core.federated.FederatedReport` (minutes, not seconds)."""
    from ..federated import DEFAULT_ROUNDS, N_BOOT, run_federated_comparison

    try:
        report = run_federated_comparison(cohort, rounds=DEFAULT_ROUNDS if rounds is None else rounds,
                                          n_boot=N_BOOT if n_boot is None else n_boot, progress=progress)
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    return _shown(FEDERATED_COMPARISON, None, report,
                  details={"cohort": cohort, "rounds": report.fit.rounds, "n_sites": report.fit.n_sites})

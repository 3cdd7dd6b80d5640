"""Service function for federated training over the IWPC sites (Flower) and its comparison with pooled and
site-local training. Re-exported by :mod:`core.service` (one import line); the result goes to the observers."""

from __future__ import annotations

from typing import Callable

from ._errors import InputFileError
from ._observers import FEDERATED_COMPARISON, _shown


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

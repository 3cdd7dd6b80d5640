"""Run the Flower apps in Flower's simulation engine on this machine: one virtual SuperNode per IWPC site.

The simulation engine of Flower 1.42 runs ClientApps in Ray actors; on a small machine the actors get one CPU
each (``backend_config``) and Ray is started with the CPUs it may use. The ServerApp runs in a thread of this
process, so its outcome and message log are read back directly.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

from ._linear import LinearDoseModel, SufficientStatistics, solve
from ._trees import TreeModel, TreeSettings, feature_matrix, tree_model

MSG_NO_FLOWER = ("Federated training needs Flower with its simulation engine: pip install \"flwr[simulation]\" "
                 "(a declared dependency of equipoise). Import failed: {error}")


@dataclass(frozen=True)
class FederatedFit:
    """The outcome of one federated training run: both models, and what the server received."""

    linear: LinearDoseModel
    trees: TreeModel | None
    n_sites: int
    n_patients: int                 # training rows over all sites
    rounds: int                     # tree rounds (the linear model takes one)
    settings: TreeSettings
    messages: tuple[dict, ...]      # one entry per site reply that reached the server
    seconds: float
    contents: tuple = ()            # the reply contents themselves, when asked for (tests)

    @property
    def bytes_received(self) -> int:
        return int(sum(m["bytes"] for m in self.messages))


def run_federated(n_sites: int, settings: TreeSettings = TreeSettings(), *, with_trees: bool = True,
                  progress: Callable[[str], None] | None = None, keep_contents: bool = False,
                  cpus: int | None = None, seed: int | None = None) -> FederatedFit:
    """Train both federated models over the bundled cohort's ``n_sites`` IWPC sites in the simulation engine."""
    say = progress or (lambda _m: None)
    try:
        from flwr.simulation import run_simulation
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError(MSG_NO_FLOWER.format(error=exc)) from exc
    from ._apps import MessageLog, ServerOutcome, client_app, make_server_app

    outcome, log = ServerOutcome(), MessageLog(keep_contents=keep_contents)
    server = make_server_app(settings, n_sites=n_sites, outcome=outcome, log=log, say=say, with_trees=with_trees)
    cpus = cpus or min(2, os.cpu_count() or 1)
    backend = {"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
               "init_args": {"num_cpus": cpus, "num_gpus": 0, "include_dashboard": False}}
    t0 = time.perf_counter()
    say(f"starting Flower's simulation engine: {n_sites} virtual sites on {cpus} CPU(s)")
    with _quiet_flower():
        run_simulation(server_app=server, client_app=client_app, num_supernodes=n_sites, backend_config=backend)
    seconds = time.perf_counter() - t0
    if not outcome.linear:
        raise RuntimeError("The federated run ended without the sites' statistics; see the log above.")
    linear = solve(SufficientStatistics(outcome.linear["xtx"], outcome.linear["xty"], outcome.n_total))
    trees = None
    if with_trees:
        from ._sites import bundled_partition

        cohort, _ = bundled_partition("warfarin", seed)
        names = feature_matrix(cohort.spec, cohort.frame.head(1))[1]
        trees = tree_model(outcome.trees, names, notes=(f"FedXgbBagging, {settings.rounds} rounds",))
    say(f"federated training done in {seconds:.0f} s: {len(log.entries)} site replies reached the server")
    return FederatedFit(linear=linear, trees=trees, n_sites=outcome.n_sites, n_patients=outcome.n_total,
                        rounds=settings.rounds if with_trees else 0, settings=settings,
                        messages=tuple(log.entries), seconds=seconds,
                        contents=tuple(log.contents))


class _quiet_flower:
    """Flower logs every round at INFO (and its deprecation notice for ``run_simulation`` at WARNING); our progress
    lines say what matters, including a site's failure (``_apps._RecordingGrid``), so its logger is held at ERROR."""

    def __enter__(self):
        self._logger = logging.getLogger("flwr")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
        os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
        return self

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)
        return False

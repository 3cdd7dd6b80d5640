"""The Flower ServerApp and ClientApp: the same two objects run in the simulation engine and across hospitals.

Phase 1, the linear model: one round of Flower's stock ``FedAvg``. Each site replies with its sufficient
statistics divided by its patient count (ZᵀZ/n, Zᵀy/n) and ``num-examples`` = n; FedAvg's n-weighted
average of those is exactly ZᵀZ/N and Zᵀy/N of the pooled training rows, from which :func:`._linear.solve`
gives the pooled least-squares fit.

Phase 2, the trees: ``rounds`` rounds of Flower's ``FedXgbBagging`` (:mod:`._trees`), boosting from the
phase-1 linear model, whose coefficients the server sends with every tree round.

A client finds its own rows from its node configuration: ``data-path`` (a CSV of the site's patients with the
warfarin cohort's columns, a real SuperNode) or ``partition-id`` (the simulation: the n-th IWPC site of the
bundled cohort). Every site holds out its own rows (:func:`._sites.site_held_out`) before anything is computed,
and sends only what the phase asks for: statistics, or trees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._errors import DataIntegrityError
from ._linear import AUGMENTED, COEFFICIENTS, NUMERIC, LinearDoseModel, site_statistics, target
from ._trees import TreeSettings, feature_matrix, local_bagging_step

LINEAR, TREES = "linear-statistics", "xgboost-bagging"
MSG_MISSING_SITES = ("Only {got} of {expected} sites returned their statistics: the federated linear fit would not be "
                     "the pooled fit of all sites, so the run stops here (see the failed sites above).")
N_KEY = "num-examples"


class FederationIncomplete(DataIntegrityError):
    """Fewer sites answered than take part: the federated fit would silently be another model."""


# --- client side ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteRows:
    """A site's own training rows (never sent anywhere)."""

    site: str
    frame: object
    dose: np.ndarray
    spec: object


_ROWS: dict = {}


def local_rows(node_config) -> SiteRows:
    """This client's training rows, found from its node configuration (cached per process)."""
    key = tuple(sorted((str(k), str(v)) for k, v in dict(node_config).items()))
    if key not in _ROWS:
        _ROWS[key] = _load_rows(dict(node_config))
    return _ROWS[key]


def _load_rows(cfg: dict) -> SiteRows:
    from ._sites import site_held_out

    if "data-path" in cfg:   # a real SuperNode: the site's own file
        from ..data.cohorts import cohort_from_csv, load_spec

        cohort = cohort_from_csv(str(cfg["data-path"]), load_spec(str(cfg.get("cohort", "warfarin"))))
        frame, spec = cohort.frame, cohort.spec
        dose = frame[spec.outcome.column].to_numpy(float)
        train = ~site_held_out(dose, seed=int(cfg.get("seed", spec.seed)))
        return SiteRows(site=str(cfg.get("site", cfg["data-path"])), frame=frame[train].reset_index(drop=True),
                        dose=dose[train], spec=spec)
    from ._sites import bundled_partition

    cohort, part = bundled_partition("warfarin", int(cfg["seed"]) if "seed" in cfg else None)
    site = part.names[int(cfg["partition-id"])]
    rows = part.train_rows(site)
    frame = cohort.frame[rows].reset_index(drop=True)
    return SiteRows(site=site, frame=frame, dose=frame[cohort.spec.outcome.column].to_numpy(float), spec=cohort.spec)


def _tree_settings(config) -> TreeSettings:
    return TreeSettings(rounds=int(config["rounds"]), local_trees=int(config["local-trees"]),
                        learning_rate=float(config["learning-rate"]), max_depth=int(config["max-depth"]),
                        min_child_weight=float(config["min-child-weight"]), reg_lambda=float(config["lambda"]),
                        seed=int(config["seed"]))


def _shared_linear(config) -> LinearDoseModel:
    """The federated linear model the server sent with the tree rounds (the trees' starting point)."""
    coef = np.asarray(list(config["linear-coefficients"]), dtype=float)
    fill = dict(zip(NUMERIC, map(float, config["linear-fill"])))
    if len(coef) != len(COEFFICIENTS):
        raise ValueError(f"The shared linear model has {len(coef)} coefficients; expected {len(COEFFICIENTS)}.")
    return LinearDoseModel(coefficients=coef, fill=fill, n=0, rank=len(coef))


def _client_app():
    from flwr.app import Array, ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        config = msg.content["config"]
        rows = local_rows(context.node_config)
        n = len(rows.dose)
        if config["task"] == LINEAR:
            stats = site_statistics(rows.frame, rows.dose)
            arrays = ArrayRecord({"xtx": Array(stats.xtx / n), "xty": Array(stats.xty / n)})
        elif config["task"] == TREES:
            x, names = feature_matrix(rows.spec, rows.frame)
            previous = msg.content["arrays"]["0"].numpy().tobytes()
            offset = _shared_linear(config).predict_sqrt(rows.frame)
            trees = local_bagging_step(previous, x, target(rows.dose), names, _tree_settings(config),
                                       share=n / float(config["n-total"]), offset=offset)
            arrays = ArrayRecord([np.frombuffer(trees, dtype=np.uint8)])
        else:
            raise ValueError(f"Unknown federated task {config['task']!r}.")
        return Message(RecordDict({"arrays": arrays, "metrics": MetricRecord({N_KEY: n})}), reply_to=msg)

    return app


# --- server side ------------------------------------------------------------------------------------------

@dataclass
class MessageLog:
    """What reached the server: one entry per reply (site node, phase, round, and the records it carried)."""

    keep_contents: bool = False
    entries: list = field(default_factory=list)
    contents: list = field(default_factory=list)

    def add(self, phase: str, server_round: int, reply) -> None:
        c = reply.content
        self.entries.append({
            "node": int(reply.metadata.src_node_id), "phase": phase, "round": server_round,
            "arrays": {k: {n: (tuple(a.shape), str(a.dtype)) for n, a in rec.items()}
                       for k, rec in c.array_records.items()},
            "metrics": {k: dict(rec) for k, rec in c.metric_records.items()},
            "configs": {k: sorted(rec.keys()) for k, rec in c.config_records.items()},
            "bytes": int(sum(len(a.data) for rec in c.array_records.values() for a in rec.values())),
        })
        if self.keep_contents:
            self.contents.append((phase, server_round, c))


class _RecordingGrid:
    """The Flower Grid, passed through; every reply is logged and each round reported as progress."""

    def __init__(self, grid, log: MessageLog, say: Callable[[str], None], phase: dict):
        self._grid, self._log, self._say, self._phase = grid, log, say, phase

    def __getattr__(self, name):
        return getattr(self._grid, name)

    def send_and_receive(self, messages, *, timeout=None):
        messages = list(messages)
        replies = list(self._grid.send_and_receive(messages, timeout=timeout)) if messages else []
        if messages:
            cfg = messages[0].content.config_records.get("config", {})
            r = int(cfg.get("server-round", 0))
            for reply in replies:
                if not reply.has_error():
                    self._log.add(self._phase["name"], r, reply)
            failed = sum(reply.has_error() for reply in replies)
            self._say(f"{self._phase['label']} round {r} of {self._phase['rounds']}: "
                      f"{len(replies) - failed} of {len(messages)} sites replied"
                      + (f", {failed} failed" if failed else ""))
            for reply in replies:
                if reply.has_error():
                    self._say(f"  a site failed: {reply.error.reason}")
        return replies


@dataclass
class ServerOutcome:
    """What the ServerApp leaves behind: the aggregated statistics, the tree model, the sites' counts."""

    linear: dict = field(default_factory=dict)
    trees: bytes = b""
    n_sites: int = 0
    n_total: int = 0


def server_main(grid, settings: TreeSettings, *, n_sites: int, outcome: ServerOutcome, log: MessageLog,
                say: Callable[[str], None], with_trees: bool = True) -> None:
    """Both phases, on Flower's stock strategies."""
    from flwr.app import Array, ArrayRecord, ConfigRecord
    from flwr.serverapp.strategy import FedAvg, FedXgbBagging

    phase = {"name": LINEAR, "label": "linear model (sufficient statistics)", "rounds": 1}
    g = _RecordingGrid(grid, log, say, phase)
    say(f"waiting for {n_sites} sites")
    fedavg = FedAvg(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=n_sites,
                    min_available_nodes=n_sites, train_metrics_aggr_fn=_count_sites)
    p = len(AUGMENTED)
    start = ArrayRecord({"xtx": Array(np.zeros((p, p))), "xty": Array(np.zeros(p))})
    res = fedavg.start(grid=g, initial_arrays=start, num_rounds=1, train_config=ConfigRecord({"task": LINEAR}))
    metrics = res.train_metrics_clientapp.get(1) or {"n-total": 0, "n-sites": 0}
    outcome.n_total, outcome.n_sites = int(metrics["n-total"]), int(metrics["n-sites"])
    if outcome.n_sites != n_sites:
        raise FederationIncomplete(MSG_MISSING_SITES.format(got=outcome.n_sites, expected=n_sites))
    outcome.linear = {"xtx": res.arrays["xtx"].numpy() * outcome.n_total,
                      "xty": res.arrays["xty"].numpy() * outcome.n_total}
    if not with_trees:
        return
    phase.update(name=TREES, label="boosted trees (FedXgbBagging)", rounds=settings.rounds)
    bagging = FedXgbBagging(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=n_sites,
                            min_available_nodes=n_sites, train_metrics_aggr_fn=_count_sites)
    from ._linear import SufficientStatistics, solve

    linear = solve(SufficientStatistics(outcome.linear["xtx"], outcome.linear["xty"], outcome.n_total))
    config = ConfigRecord({"task": TREES, "n-total": outcome.n_total, "rounds": settings.rounds,
                           "linear-coefficients": [float(v) for v in linear.coefficients],
                           "linear-fill": [float(linear.fill[k]) for k in NUMERIC],
                           "local-trees": settings.local_trees, "learning-rate": settings.learning_rate,
                           "max-depth": settings.max_depth, "min-child-weight": settings.min_child_weight,
                           "lambda": settings.reg_lambda, "seed": settings.seed})
    res = bagging.start(grid=g, initial_arrays=ArrayRecord([np.frombuffer(b"", dtype=np.uint8)]),
                        num_rounds=settings.rounds, train_config=config)
    outcome.trees = res.arrays["0"].numpy().tobytes()


def _count_sites(records, weighting_key: str):
    from flwr.app import MetricRecord

    counts = [int(next(iter(r.metric_records.values()))[weighting_key]) for r in records]
    return MetricRecord({"n-total": sum(counts), "n-sites": len(counts)})


def make_server_app(settings: TreeSettings, *, n_sites: int, outcome: ServerOutcome, log: MessageLog,
                    say: Callable[[str], None], with_trees: bool = True):
    """A ServerApp bound to these settings (the simulation); :data:`server_app` reads them from the run config."""
    from flwr.app import Context
    from flwr.serverapp import Grid, ServerApp

    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        server_main(grid, settings, n_sites=n_sites, outcome=outcome, log=log, say=say, with_trees=with_trees)

    return app


def deployed_server_app():
    """The ServerApp for ``flwr run`` across hospitals: settings from the run config (see docs/federated.md);
    the fitted coefficients and the tree model are written to ``out-dir``."""
    from flwr.app import Context
    from flwr.serverapp import Grid, ServerApp

    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        from pathlib import Path
        import json

        from ._linear import SufficientStatistics, solve

        rc = context.run_config
        settings = TreeSettings(rounds=int(rc.get("rounds", TreeSettings.rounds)),
                                local_trees=int(rc.get("local-trees", TreeSettings.local_trees)))
        outcome, log = ServerOutcome(), MessageLog()
        say = lambda m: logging.getLogger("flwr").info(m)  # noqa: E731
        server_main(grid, settings, n_sites=int(rc["sites"]), outcome=outcome, log=log, say=say)
        stats = SufficientStatistics(outcome.linear["xtx"], outcome.linear["xty"], outcome.n_total)
        out = Path(str(rc.get("out-dir", "federated-out")))
        out.mkdir(parents=True, exist_ok=True)
        (out / "linear.json").write_text(json.dumps(solve(stats).as_dict(), indent=2))
        (out / "trees.json").write_bytes(outcome.trees)
        (out / "messages.json").write_text(json.dumps(log.entries, indent=1, default=str))

    return app


client_app = _client_app()
server_app = deployed_server_app()

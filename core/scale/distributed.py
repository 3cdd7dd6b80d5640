"""The same code, per partition, on a Dask cluster: batch reports and the partition-wise subgroup audit.

``scheduler`` names an existing cluster (``tcp://host:8786``); without it a ``LocalCluster`` is started on
this machine (two single-threaded worker processes, no dashboard) and closed afterwards. Workers run the
functions below on their partitions only: a report partition is scored by the same
:func:`~core.scale.batch.score_chunk` as locally (the bundle loaded and verified once per worker), and an
audit partition gives only its sufficient statistics (:func:`~core.scale.partitioned.partition_sums`),
which are added up in a tree, so the rows themselves never meet in one process. Row positions (for the
bootstrap weights and the ``row`` numbers) come from each Parquet fragment's row count, in file order.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Iterator

import numpy as np

from .._errors import InputFileError

LOCAL_WORKERS = 2


@contextlib.contextmanager
def dask_client(scheduler: str | None = None):
    """A ``distributed.Client`` for ``scheduler``, or for a fresh local cluster closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise InputFileError("--engine dask needs the 'dask[distributed]' package.") from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputFileError(f"Could not reach the Dask scheduler at {scheduler!r}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def fragments(path: str | Path) -> list[tuple[str, int, int]]:
    """(file, first row, rows) of each Parquet file of a file or folder, in dataset order."""
    from .batch import parquet_dataset

    try:
        dataset = parquet_dataset(path)
        out, start = [], 0
        for fragment in dataset.get_fragments():
            rows = fragment.count_rows()
            out.append((fragment.path, start, rows))
            start += rows
    except Exception as exc:
        raise InputFileError(f"The Parquet input {path} could not be read: {type(exc).__name__}: {exc}") from None
    return out


# --- batch reports ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _worker_bundle(path: str):
    from ..modeling.bundle import load_bundle

    return load_bundle(path)


def _score_fragment(bundle_path: str, file: str, first_row: int, *, explanations: bool, id_column: str,
                    ignore: tuple, chunk_rows: int) -> list[dict]:
    import warnings

    from .batch import parquet_dataset, score_chunk

    bundle = _worker_bundle(bundle_path)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in parquet_dataset(file).to_batches(batch_size=chunk_rows):
            records = batch.to_pylist()
            out += score_chunk(bundle, records, first_row=first_row + 1 + len(out), explanations=explanations,
                               id_column=id_column, ignore=ignore)
    return out


def scored_partitions(bundle_path, source, *, scheduler: str | None, explanations: bool, id_column: str,
                      ignore: tuple, chunk_rows: int) -> Iterator[list[dict]]:
    """Each Parquet file's results, in order, scored on the cluster (a few files in flight at a time)."""
    if bundle_path is None:
        raise InputFileError("--engine dask needs the bundle's folder so that workers can load it.")
    parts = fragments(source)
    with dask_client(scheduler) as client:
        window = max(2, 2 * len(client.scheduler_info().get("workers", {})))
        futures = []
        for i, (file, first, _rows) in enumerate(parts):
            futures.append(client.submit(_score_fragment, str(bundle_path), file, first, explanations=explanations,
                                         id_column=id_column, ignore=tuple(ignore), chunk_rows=chunk_rows,
                                         pure=False))
            if len(futures) >= window:
                yield futures.pop(0).result()
        for future in futures:
            yield future.result()


# --- the partition-wise audit --------------------------------------------------------------------------
def _read_columns(file: str, columns: list[str]) -> dict[str, np.ndarray]:
    from .batch import parquet_dataset

    table = parquet_dataset(file).to_table(columns=columns)
    return {c: table.column(c).to_numpy(zero_copy_only=False) for c in columns}


def _fragment_values(file: str, attributes: list[str], label: str, score: str, task: str = "binary") -> dict[str, set]:
    """The file's distinct group values, after checking its label (0/1) and score ([0, 1]) columns; for a
    continuous outcome (``task="regression"``), that both are finite numbers."""
    from .partitioned import partition_values

    data = _read_columns(file, [label, score, *attributes])
    for column, role in [(label, "label"), (score, "score"), *((a, "attribute") for a in attributes)]:
        values = data[column]
        missing = np.flatnonzero(values == None) if values.dtype == object else np.flatnonzero(np.isnan(values))  # noqa: E711
        if missing.size:
            raise InputFileError(f"The {column!r} column (the {role}) of {file} has {missing.size} missing value(s), "
                                 f"first in row {int(missing[0]) + 1} of that file: fill or remove them.")
    y, p = np.asarray(data[label], float), np.asarray(data[score], float)
    if task == "regression":
        for column, role, values in ((label, "label", y), (score, "score", p)):
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise InputFileError(f"The {column!r} column (the {role}) of {file} must hold finite numbers. Got "
                                     f"{values[bad[0]]!r} in row {int(bad[0]) + 1} of that file instead.")
        return partition_values(data, attributes)
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputFileError(f"The {label!r} column (the label) of {file} must hold only 0 and 1.")
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise InputFileError(f"The {score!r} column (the score) of {file} must hold probabilities in [0, 1]. "
                             f"Got {p[bad[0]]!r} in row {int(bad[0]) + 1} of that file instead.")
    return partition_values(data, attributes)


def _check_columns(path, columns: list[str]) -> None:
    from .batch import parquet_dataset

    names = parquet_dataset(path).schema.names
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputFileError(f"The predictions {path} have no column(s) {', '.join(map(repr, missing))}. "
                             f"Available columns: {', '.join(names)}.")


def _fragment_sums(layout, file: str, first_row: int, label: str, score: str, *, n_boot: int, seed: int,
                   task: str = "binary"):
    from .partitioned import partition_sums

    data = _read_columns(file, [label, score, *layout.attributes])
    return partition_sums(layout, np.asarray(data[label], float), np.asarray(data[score], float),
                          {a: data[a] for a in layout.attributes}, first_row, n_boot=n_boot, seed=seed, task=task)


def _tree_sum(client, futures):
    from .partitioned import add_sums

    while len(futures) > 1:
        futures = [client.submit(add_sums, futures[i], futures[i + 1]) if i + 1 < len(futures) else futures[i]
                   for i in range(0, len(futures), 2)]
    return futures[0]


def audit_parquet(path, *, label: str, score: str, attributes: list[str], n_boot: int = 200, seed: int = 0,
                  intersections: bool = True, scheduler: str | None = None, client=None, task: str = "binary",
                  **options):
    """The partition-wise audit of a Parquet file or folder on a Dask cluster (one task per file)."""
    from .partitioned import AuditLayout, audit_from_sums, discover_labels

    parts = fragments(path)
    _check_columns(path, [label, score, *attributes])
    if not parts or sum(r for _f, _s, r in parts) == 0:
        raise InputFileError(f"The predictions file {path} has no rows: there is nothing to audit.")
    with (contextlib.nullcontext(client) if client is not None else dask_client(scheduler)) as client:
        values = client.gather([client.submit(_fragment_values, f, list(attributes), label, score, task, pure=False)
                                for f, _s, _r in parts])
        layout = AuditLayout(tuple(attributes), discover_labels(values, list(attributes)), intersections)
        sums = [client.submit(_fragment_sums, layout, f, first, label, score, n_boot=n_boot, seed=seed, task=task,
                              pure=False) for f, first, _r in parts]
        hist, totals = _tree_sum(client, sums).result()
    return audit_from_sums(layout, hist, totals, n_boot=n_boot, seed=seed, task=task, **options)


def audit_parquet_local(path, *, label: str, score: str, attributes: list[str], n_boot: int = 200, seed: int = 0,
                        intersections: bool = True, task: str = "binary", **options):
    """The same partition-wise audit in this process, one Parquet file at a time (memory: one file)."""
    from .partitioned import AuditLayout, add_sums, audit_from_sums, discover_labels

    parts = fragments(path)
    _check_columns(path, [label, score, *attributes])
    if not parts or sum(r for _f, _s, r in parts) == 0:
        raise InputFileError(f"The predictions file {path} has no rows: there is nothing to audit.")
    values = [_fragment_values(f, list(attributes), label, score, task) for f, _s, _r in parts]
    layout = AuditLayout(tuple(attributes), discover_labels(values, list(attributes)), intersections)
    total = None
    for f, first, _r in parts:
        sums = _fragment_sums(layout, f, first, label, score, n_boot=n_boot, seed=seed, task=task)
        total = sums if total is None else add_sums(total, sums)
    return audit_from_sums(layout, *total, n_boot=n_boot, seed=seed, task=task, **options)

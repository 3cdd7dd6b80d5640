"""Service functions for population scale (re-exported by :mod:`core.service`): batch reports on a file,
partition-wise audits (locally or on a Dask cluster) and monitoring over time.

Every report and refusal a batch produces is handed to the observers (``_shown``) before it is written,
exactly as :func:`core.service.predict` does for one patient, so ``--log`` records each of them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

from .._observers import MONITORING, PATIENT_REPORT, REFUSED_RECORD, _shown


def _observe_result(bundle):
    def on_result(kind, result, patient_id, record):
        _shown(PATIENT_REPORT if kind == "report" else REFUSED_RECORD, bundle, result, patient_id=patient_id,
               record=record if kind == "report" else None)
    return on_result


def score_file(bundle, source: str | Path, *, kind: str, out: str | Path | None = None, stream: IO[str] | None = None,
               force: bool = False, explanations: bool = True, chunk_rows: int | None = None,
               progress: IO[str] | None = None, engine: str = "local", scheduler: str | None = None,
               bundle_path: str | Path | None = None):
    """Report on every row of a CSV or Parquet file (or folder of Parquet files), chunk by chunk.

    Results go to ``out`` (.jsonl or .parquet; an existing file is refused unless ``force``) or, as JSON
    Lines, to ``stream``; refused rows get their error report in place. ``progress``: where progress goes
    (a bar on a terminal, plain lines otherwise). ``engine="dask"`` scores a Parquet input's partitions on
    a Dask cluster (``scheduler`` address, else a local one); it needs ``bundle_path`` so workers can load
    the bundle. Returns a :class:`~core.scale.BatchSummary`.
    """
    from ..scale import CHUNK_ROWS, BatchSummary, Progress, ResultWriter, check_out, count_rows, read_chunks
    from ..scale import report_columns_ignored, score_chunk

    chunk_rows = chunk_rows or CHUNK_ROWS
    spec = bundle.spec
    target = check_out(out, force=force) if out is not None else None
    ignore = report_columns_ignored(spec)
    if engine == "dask":
        from ..scale.distributed import scored_partitions

        if kind != "parquet":
            from .._errors import InputFileError
            raise InputFileError("--engine dask needs --parquet input (a file or a folder of Parquet files).")
        chunks = scored_partitions(bundle_path, source, scheduler=scheduler, explanations=explanations,
                                   id_column=spec.patient_id, ignore=ignore, chunk_rows=chunk_rows)
    else:
        chunks = _local_chunks(bundle, source, kind, chunk_rows, explanations, spec.patient_id, ignore,
                               read_chunks, score_chunk)
    bar = Progress(count_rows(source, kind), stream=progress) if progress is not None else None
    writer = ResultWriter(spec, target, stream=stream if target is None else None)
    start, rows, refused = time.perf_counter(), 0, 0
    on_result = _observe_result(bundle)
    try:
        for results in chunks:
            if engine == "dask":  # scored elsewhere: hand them to the observers here, before they are written
                for r in results:
                    on_result("refused" if "errors" in r else "report", r, r.get("patient_id"), None)
            n_refused = sum("errors" in r for r in results)
            writer.write(results)
            rows, refused = rows + len(results), refused + n_refused
            if bar is not None:
                bar.update(len(results), n_refused)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    if bar is not None:
        bar.finish()
    return BatchSummary(rows, rows - refused, refused, time.perf_counter() - start, None if target is None else str(target))


def _local_chunks(bundle, source, kind, chunk_rows, explanations, id_column, ignore, read_chunks, score_chunk):
    first = 1
    on_result = _observe_result(bundle)
    for records in read_chunks(source, kind, chunk_rows=chunk_rows):
        yield score_chunk(bundle, records, first_row=first, explanations=explanations, id_column=id_column,
                          ignore=ignore, on_result=on_result)
        first += len(records)


def audit_partitioned(path: str | Path, *, label: str, score: str, attributes: list[str], n_boot: int = 200,
                      seed: int = 0, engine: str = "local", scheduler: str | None = None, client=None,
                      task: str = "binary"):
    """The subgroup audit of a Parquet file or folder computed partition by partition (Poisson bootstrap):
    ``engine="local"`` one file at a time in this process, ``"dask"`` one task per file on a cluster
    (``scheduler``, else a local one). The same seed gives the same metrics and intervals either way.
    ``task``: ``binary`` (risks against 0/1 outcomes) or ``regression`` (doses against the dose needed)."""
    from ..scale.distributed import audit_parquet, audit_parquet_local

    if engine == "dask":
        return audit_parquet(path, label=label, score=score, attributes=attributes, n_boot=n_boot, seed=seed,
                             scheduler=scheduler, client=client, task=task)
    return audit_parquet_local(path, label=label, score=score, attributes=attributes, n_boot=n_boot, seed=seed,
                               task=task)


def prediction_columns(path: str | Path) -> list[str]:
    """The column names of a predictions CSV, Parquet file or folder, without reading its rows."""
    from .._errors import InputFileError

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"The predictions {path} do not exist.")
    try:
        if path.is_file() and path.suffix.lower() == ".csv":
            import pandas as pd

            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        from ..scale.batch import parquet_dataset

        return list(parquet_dataset(path).schema.names)
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InputFileError(f"The predictions {path} could not be read as CSV or Parquet: "
                             f"{type(exc).__name__}: {str(exc)[:300]}") from None


def read_predictions(path: str | Path | bytes, *, name: str | None = None, columns: list[str] | None = None):
    """A CSV, a Parquet file or a folder of Parquet files as one table (InputFileError naming what is wrong);
    or an upload's bytes, read by its file ``name``'s suffix. ``columns``: only these (of a path), so a
    batch output's report column, for one, is never loaded to monitor its scores."""
    import io

    import pandas as pd

    from .._errors import InputFileError

    if isinstance(path, bytes):
        suffix = Path(name or "").suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise InputFileError(f"The predictions file must be a .csv or .parquet file. Got {name!r} instead.")
        try:
            return pd.read_csv(io.BytesIO(path)) if suffix == ".csv" else pd.read_parquet(io.BytesIO(path))
        except Exception as exc:
            raise InputFileError(f"The predictions file {name} could not be read: {type(exc).__name__}: "
                                 f"{str(exc)[:300]}") from None
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"The predictions {path} do not exist.")
    try:
        if path.is_file() and path.suffix.lower() == ".csv":
            return pd.read_csv(path, usecols=None if columns is None else list(columns))
        return pd.read_parquet(path, columns=None if columns is None else list(columns))
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InputFileError(f"The predictions {path} could not be read as CSV or Parquet: "
                             f"{type(exc).__name__}: {str(exc)[:300]}") from None


def monitor_predictions(predictions, *, time_column: str, window: str = "month", label: str, score: str,
                        attributes: list[str] | None = None, bundle=None, n_boot: int = 200, seed: int = 0,
                        alpha: float = 0.05, correction: str = "holm"):
    """Audits over time of a predictions table (a path or a DataFrame): per window the audit overall and
    per group, drift of each model feature against the training split, and alerts against the bundle's
    training-time audit (see :mod:`core.monitoring`). Without ``bundle``: metrics only."""
    from ..monitoring import monitor

    from .._errors import InputFileError

    is_path = isinstance(predictions, (str, Path))
    names = prediction_columns(predictions) if is_path else [str(c) for c in predictions.columns]
    reference = train = features = None
    if bundle is not None:
        from ..modeling.heldout import held_out_split

        reference = bundle.audit.to_dict() if bundle.audit is not None else None
        train = held_out_split(bundle).train_frame
        features = {f.name: f.type in ("numeric", "binary") for f in bundle.spec.features}
        if not attributes:
            attributes = [a.name for a in bundle.spec.protected if a.name in names]
    if is_path:  # only the columns monitoring reads: the time, label, score, attributes and model features
        needed = [time_column, label, score, *(attributes or [])]
        absent = [c for c in needed if c not in names]
        if absent:
            raise InputFileError(f"The predictions have no column(s) {', '.join(map(repr, absent))}. Available "
                                 f"columns: {', '.join(names)}.")
        wanted = list(dict.fromkeys(needed + [f for f in (features or {}) if f in names]))
        frame = read_predictions(predictions, columns=wanted)
    else:
        frame = predictions
    if not attributes:
        raise InputFileError("Name the protected-attribute columns to audit (--attributes race,sex).")
    result = monitor(frame, time_column=time_column, window=window, label=label, score=score,
                     attributes=list(attributes), reference_audit=reference, train_frame=train, features=features,
                     n_boot=n_boot, seed=seed, alpha=alpha, correction=correction,
                     labels={f.name: f.label for f in bundle.spec.features} if bundle is not None else None)
    return _shown(MONITORING, bundle, result, details={"windows": len(result.windows),
                                                       "alerts": len(result.alerts())})

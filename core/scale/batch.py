"""Batch reports: read patients in chunks (CSV or Parquet), report on each chunk at once, stream the results out.

Memory stays flat: one chunk of rows is in memory at a time, and results are written as each chunk is done
(JSON Lines, or Parquet row groups). Output goes to a temporary file beside the target and is renamed into
place only when every row is written, so a crash never leaves half a file under the name asked for; an
existing file is never overwritten unless asked (``force``). Refused rows get their error report, in order.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from .._errors import InputFileError
from .._outfile import MSG_OUT_EXISTS  # one message for every --out that exists
from .._json import dumps, jsonable
from ..data.limits import regular_file

CHUNK_ROWS = 2_000
OUT_SUFFIXES = (".jsonl", ".parquet")

MSG_OUT_SUFFIX = "--out must end in .jsonl or .parquet. Got {name!r} instead."
MSG_SOURCE_MISSING = "The {kind} input {path!r} does not exist."
MSG_SOURCE_UNREADABLE = "The {kind} input {path} could not be read: {error}"


# --- reading ----------------------------------------------------------------------------------------
def read_chunks(path: str | Path, kind: str, *, chunk_rows: int = CHUNK_ROWS) -> Iterator[list[dict]]:
    """The file's rows as records (column: value), ``chunk_rows`` at a time. ``kind`` is ``csv`` or ``parquet``
    (a Parquet file, or a folder of them read as one dataset). CSV cells stay text, as for ``predict --csv``."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(MSG_SOURCE_MISSING.format(kind=kind.upper() if kind == "csv" else "Parquet", path=str(path)))
    if kind == "csv" or not path.is_dir():  # a device or FIFO would be read for ever: only ordinary files
        regular_file(path, f"The {'CSV' if kind == 'csv' else 'Parquet'} input")
    return _chunks(path, kind, chunk_rows)


def _chunks(path: Path, kind: str, chunk_rows: int) -> Iterator[list[dict]]:
    try:
        if kind == "csv":
            import pandas as pd

            reader = pd.read_csv(path, chunksize=chunk_rows, dtype="string[pyarrow]", keep_default_na=False,
                                 encoding="utf-8-sig")
            for frame in reader:
                frame.columns = [str(c) for c in frame.columns]
                yield frame.to_dict("records")
            return
        for batch in parquet_dataset(path).to_batches(batch_size=chunk_rows):
            if batch.num_rows:
                yield batch.to_pylist()
    except InputFileError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InputFileError(MSG_SOURCE_UNREADABLE.format(kind=kind, path=path,
                                                          error=f"{type(exc).__name__}: {str(exc)[:300]}")) from None


def parquet_dataset(path: str | Path):
    """A Parquet file or a folder of Parquet files as one pyarrow dataset."""
    import pyarrow.dataset as ds

    return ds.dataset(str(path), format="parquet")


def count_rows(path: str | Path, kind: str) -> int | None:
    """Rows in a Parquet input (from its metadata, without reading it); None for CSV (unknown until read)."""
    if kind != "parquet":
        return None
    try:
        return int(parquet_dataset(path).count_rows())
    except Exception:  # reported properly when the rows are read
        return None


# --- writing ----------------------------------------------------------------------------------------
def check_out(out: str | Path, *, force: bool) -> Path:
    """The output path, refused if it exists (unless ``force``) or has another suffix than .jsonl/.parquet."""
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise InputFileError(MSG_OUT_SUFFIX.format(name=str(out)))
    if os.path.lexists(out) and not force:
        raise InputFileError(MSG_OUT_EXISTS.format(path=out))
    if out.is_dir() and not out.is_symlink():
        raise InputFileError(f"--out {str(out)!r} is a folder; name a file ending in .jsonl or .parquet.")
    return out


def flat_columns(spec) -> list[str]:
    """The Parquet output's columns: identifiers, the headline numbers, and the whole report as JSON."""
    if spec.is_dose:
        numbers = ["dose_mg_per_week", "dose_low", "dose_high"]
    else:
        numbers = ["favoured"] + [f"risk_{a}{end}" for a in spec.arms for end in ("", "_low", "_high")]
    return ["row", "patient_id", "refused", *numbers, "insufficient_evidence", "n_warnings", "report"]


def flat_row(spec, result: dict) -> dict:
    """One result (report or refusal) as a row of :func:`flat_columns`."""
    out = dict.fromkeys(flat_columns(spec))
    out.update(row=result.get("row"), patient_id=result.get("patient_id"), refused="errors" in result,
               n_warnings=len(result.get("warnings", ())), report=dumps(result))
    if "errors" in result:
        return out
    if spec.is_dose:
        dose = result["dose"]
        low, high = dose["interval"] or (None, None)
        out.update(dose_mg_per_week=dose["mg_per_week"], dose_low=low, dose_high=high,
                   insufficient_evidence=bool(dose.get("insufficient_evidence", False)))
        return out
    out["favoured"] = result["comparison"]["favoured"]
    out["insufficient_evidence"] = bool(result["comparison"].get("insufficient_evidence", False))
    for arm in result["arms"]:
        low, high = arm["interval"] or (None, None)
        out.update({f"risk_{arm['arm']}": arm["probability"], f"risk_{arm['arm']}_low": low,
                    f"risk_{arm['arm']}_high": high})
    return out


class ResultWriter:
    """Writes results to ``out`` (.jsonl or .parquet) or to a text stream, as they come; ``close()`` commits."""

    def __init__(self, spec, out: Path | None = None, *, stream: IO[str] | None = None):
        self.spec, self.out, self.stream = spec, out, stream
        self._tmp = self._parquet = None
        self.parquet = out is not None and out.suffix.lower() == ".parquet"
        if out is not None:
            fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent or ".")
            os.close(fd)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
            self._tmp = Path(tmp)
            if not self.parquet:
                self.stream = open(self._tmp, "w", encoding="utf-8")

    def write(self, results: list[dict]) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist([flat_row(self.spec, r) for r in results], schema=self._schema())
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(str(self._tmp), table.schema)
            self._parquet.write_table(table)
            return
        self.stream.write("".join(dumps(r) + "\n" for r in results))

    def _schema(self):
        import pyarrow as pa

        kinds = {"row": pa.int64(), "patient_id": pa.string(), "refused": pa.bool_(), "favoured": pa.string(),
                 "insufficient_evidence": pa.bool_(), "n_warnings": pa.int64(), "report": pa.string()}
        return pa.schema([(c, kinds.get(c, pa.float64())) for c in flat_columns(self.spec)])

    def close(self) -> None:
        """Finish and move the file into place (an empty Parquet input still gives a file with the columns)."""
        if self.parquet:
            if self._parquet is None:
                self.write([])
            self._parquet.close()
        elif self.out is not None:
            self.stream.close()
        else:
            self.stream.flush()
        if self._tmp is not None:
            os.replace(self._tmp, self.out)
            self._tmp = None

    def abort(self) -> None:
        """Remove the partial output (after an error); the target is left as it was."""
        try:
            if self._parquet is not None:
                self._parquet.close()
            if self.out is not None and self.stream is not None:
                self.stream.close()
        finally:
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()


# --- progress ---------------------------------------------------------------------------------------
class Progress:
    """A progress bar on a terminal, plain lines otherwise (at most every ``every`` seconds), on ``stream``."""

    def __init__(self, total: int | None, *, stream: IO[str] | None = None, every: float = 5.0):
        self.total, self.stream, self.every = total, stream or sys.stderr, every
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = self._last = time.perf_counter()
        self.done = self.refused = 0

    def update(self, rows: int, refused: int) -> None:
        self.done += rows
        self.refused += refused
        now = time.perf_counter()
        if self.tty:
            self.stream.write("\r" + self._line(now, bar=True))
            self.stream.flush()
        elif now - self._last >= self.every:
            self.stream.write(f"[equipoise] {self._line(now)}\n")
            self._last = now

    def finish(self) -> None:
        now = time.perf_counter()
        self.stream.write(("\r" + self._line(now, bar=True) + "\n") if self.tty else f"[equipoise] {self._line(now)}\n")
        self.stream.flush()

    @property
    def rate(self) -> float:
        return self.done / max(time.perf_counter() - self.start, 1e-9)

    def _line(self, now: float, *, bar: bool = False) -> str:
        rate = self.done / max(now - self.start, 1e-9)
        of = f" of {self.total:,}" if self.total else ""
        text = f"{self.done:,}{of} rows ({self.refused:,} refused), {rate:,.0f} rows/s"
        if bar and self.total:
            filled = int(30 * min(self.done / self.total, 1.0))
            text = f"[{'#' * filled}{'.' * (30 - filled)}] " + text
        return text


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: rows read, reported and refused, where the results went, how fast."""

    rows: int
    reported: int
    refused: int
    seconds: float
    out: str | None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        return jsonable({"rows": self.rows, "reported": self.reported, "refused": self.refused,
                         "seconds": self.seconds, "rows_per_second": self.rows_per_second, "out": self.out})


# --- scoring ----------------------------------------------------------------------------------------
def report_columns_ignored(spec) -> tuple[str, ...]:
    """Columns a patient file may carry that are not model inputs (:func:`core.data.validation.non_input_columns`)."""
    from ..data.validation import non_input_columns

    return non_input_columns(spec)


def score_chunk(bundle, records: list[dict], *, first_row: int, explanations: bool = True,
                id_column: str | None = None, ignore: tuple[str, ...] = (), on_result=None) -> list[dict]:
    """Results for one chunk, in order: ``{**report, "row": n}`` or the refusal's error report.
    ``on_result(kind, result_object, patient_id, record)`` is called for each (``kind``: report/refused)."""
    with _collector_paused():
        return _score_chunk(bundle, records, first_row, explanations, id_column, ignore, on_result)


@contextlib.contextmanager
def _collector_paused():
    """The cyclic garbage collector off while a chunk is reported, then back as it was. A chunk builds about
    a million small acyclic objects (dicts, lists, strings), and each collection they trigger rescans every
    one of them: about a fifth of a batch's time (measured in ``benchmarks/bench_speed.py``). Reference
    counting still frees everything at once; cycles, if any, wait for the next collection. The switch is
    process-wide: other threads run without collection meanwhile (batch scoring runs in the CLI and on Dask
    workers, not in the dashboard's server)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _score_chunk(bundle, records, first_row, explanations, id_column, ignore, on_result) -> list[dict]:
    from ..reporting.fast_report import ReportEngine, Refused, _patient_id

    engine = ReportEngine.of(bundle)
    checked = engine.validate(records, ignore=ignore, id_column=id_column, first_row=first_row)
    good = [i for i, c in enumerate(checked) if not isinstance(c, Refused)]
    ids = [_patient_id(records[i], id_column) for i in good]
    reports = engine.reports([checked[i] for i in good], ids, explanations=explanations)
    out: list = [None] * len(records)
    for i, report, pid in zip(good, reports, ids):
        if on_result is not None:
            on_result("report", report, pid, records[i])
        out[i] = {**report.to_dict(), "row": first_row + i}
    for i, c in enumerate(checked):
        if isinstance(c, Refused):
            if on_result is not None:
                on_result("refused", c.report, c.report.get("patient_id"), records[i])
            out[i] = c.report
    return out  # reports and refusals are JSON-ready as they come (tests check every cohort)

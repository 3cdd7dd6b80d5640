"""Population scale: batch reports streamed in chunks and partition-wise audits (one process or a Dask cluster).
Monitoring over time is its own concept: :mod:`core.monitoring`.

* ``batch`` — read CSV/Parquet in chunks, report on each chunk with the numeric fast path, write JSON Lines
  or Parquet as it goes, with progress.
* ``sufficient`` and ``partitioned`` — the subgroup audit from per-partition sufficient statistics under
  Poisson bootstrap weights (deterministic per seed, whatever the partitioning).
* ``distributed`` — the same per-partition code on a Dask cluster (or a local one).
"""

from .batch import (CHUNK_ROWS, BatchSummary, Progress, ResultWriter, check_out, count_rows, flat_columns,
                    read_chunks, report_columns_ignored, score_chunk)
from .partitioned import AuditLayout, audit_from_sums, audit_local, partition_sums

__all__ = ["CHUNK_ROWS", "BatchSummary", "Progress", "ResultWriter", "check_out", "count_rows", "flat_columns",
           "read_chunks", "report_columns_ignored", "score_chunk", "AuditLayout", "audit_from_sums", "audit_local",
           "partition_sums"]

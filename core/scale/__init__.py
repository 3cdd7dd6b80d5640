"""Population scale: batch reports streamed in chunks, partition-wise audits (one process or a Dask cluster),
and audits over time (monitoring).

* ``batch`` — read CSV/Parquet in chunks, report on each chunk with the numeric fast path, write JSON Lines
  or Parquet as it goes, with progress.
"""

from .batch import (CHUNK_ROWS, BatchSummary, Progress, ResultWriter, check_out, count_rows, flat_columns,
                    read_chunks, report_columns_ignored, score_chunk)

__all__ = ["CHUNK_ROWS", "BatchSummary", "Progress", "ResultWriter", "check_out", "count_rows", "flat_columns",
           "read_chunks", "report_columns_ignored", "score_chunk"]

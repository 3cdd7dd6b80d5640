"""A safe on-disk cache of prepared bundled cohorts (Parquet + a sha256 sidecar, never pickle)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ._bundled import _READERS, load_spec
from ._frame import Cohort, cohort_from_frame
from ._sources import SOURCES, sha256_file


def cache_dir() -> Path:
    return Path(os.environ.get("EQUIPOISE_CACHE_DIR", Path.home() / ".cache" / "equipoise"))


def load_bundled_cached(name: str) -> Cohort:
    """Prepare a bundled cohort; the prepared table is cached as Parquet keyed by the source's sha256.

    The cache is trusted only if its own sha256 matches the sidecar written with it; otherwise the
    verified source is read again (a pickle source is unpickled with the allow-list only).
    """
    spec = load_spec(name)
    source = SOURCES[name]
    info = {"file": str(source.path()), "package": source.package,
            "package_version": source.package_version, "sha256": source.sha256}
    path = cache_dir() / f"{name}-{source.sha256[:16]}.parquet"
    sidecar = path.with_suffix(".json")
    raw = exclusions = None
    if path.is_file() and sidecar.is_file():
        meta = json.loads(sidecar.read_text())
        if meta.get("parquet_sha256") == sha256_file(path) and meta.get("source_sha256") == source.sha256:
            raw, exclusions = pd.read_parquet(path), meta["exclusions"]
    if raw is None:
        raw, exclusions = _READERS[name](source.read_verified())
        _write(raw, exclusions, path, sidecar, source.sha256)
    return cohort_from_frame(spec, raw, source=info, exclusions=tuple(exclusions))


def _write(raw: pd.DataFrame, exclusions, path: Path, sidecar: Path, source_sha: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        raw.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        sidecar.write_text(json.dumps({"parquet_sha256": sha256_file(path), "source_sha256": source_sha,
                                       "exclusions": exclusions}))
    except OSError:
        pass  # a read-only home: the cache is an optimisation, never a requirement

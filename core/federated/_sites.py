"""The federation's partition of the IWPC cohort: one site per client, each with its own held-out rows.

Every site splits *its own* patients into training and held-out rows (a quarter held out, stratified by the
site's dose quintiles, a fixed seed): nothing about the split needs another site's data, so a real hospital
can make the same split locally. All four regimes are scored on exactly these held-out rows.

Sites with fewer than :data:`MIN_SITE_N` patients still take part in training as clients; only in the report
are their held-out rows pooled into one row named :data:`OTHER` ("other sites"), because a site with a dozen
held-out patients gives no usable MAE of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

MIN_SITE_N = 100      # a site with fewer patients is reported inside "other sites" (it still trains as a client)
OTHER = "other"
HELD_OUT_FRACTION = 0.25

MSG_SITES_LENGTH = "sites must give one site per patient ({n}). Got {got} instead."


@dataclass(frozen=True)
class SitePartition:
    """Which site each patient belongs to and whether the patient is one of its site's held-out rows."""

    sites: np.ndarray        # one site label per patient (text), cohort row order
    held_out: np.ndarray     # boolean, one per patient
    names: tuple[str, ...]   # site labels in client order (numeric order: "1", "2", ..., "22")
    seed: int
    min_site_n: int = MIN_SITE_N

    def train_rows(self, site: str) -> np.ndarray:
        return (self.sites == site) & ~self.held_out

    def test_rows(self, site: str) -> np.ndarray:
        return (self.sites == site) & self.held_out

    def size(self, site: str) -> int:
        return int((self.sites == site).sum())

    @property
    def small_sites(self) -> tuple[str, ...]:
        """Sites reported inside "other sites" (fewer than ``min_site_n`` patients)."""
        return tuple(s for s in self.names if self.size(s) < self.min_site_n)

    def report_site(self) -> np.ndarray:
        """The site label used in the report, one per patient: a small site's patients are "other"."""
        small = set(self.small_sites)
        return np.array([OTHER if s in small else s for s in self.sites], dtype=object)


def partition_sites(y: np.ndarray, sites, *, seed: int, fraction: float = HELD_OUT_FRACTION,
                    min_site_n: int = MIN_SITE_N) -> SitePartition:
    """Each site holds out ``fraction`` of its own patients, stratified by its own dose quintiles (seeded)."""
    sites = np.asarray(sites, dtype=object).astype(str)
    y = np.asarray(y, dtype=float)
    if len(sites) != len(y):
        raise ValueError(MSG_SITES_LENGTH.format(n=len(y), got=len(sites)))
    names = tuple(sorted(np.unique(sites), key=site_key))
    held_out = np.zeros(len(y), dtype=bool)
    for name in names:
        idx = np.flatnonzero(sites == name)
        held_out[idx[site_held_out(y[idx], seed=seed, fraction=fraction)]] = True
    return SitePartition(sites=sites, held_out=held_out, names=names, seed=seed, min_site_n=min_site_n)


def site_held_out(y: np.ndarray, *, seed: int, fraction: float = HELD_OUT_FRACTION) -> np.ndarray:
    """Boolean mask of one site's held-out rows: what the site computes locally from its own doses."""
    y = np.asarray(y, dtype=float)
    strata = pd.qcut(y, 5, labels=False, duplicates="drop").astype(str) if len(y) >= 10 else None
    _, test = train_test_split(np.arange(len(y)), test_size=fraction, random_state=seed, stratify=strata)
    mask = np.zeros(len(y), dtype=bool)
    mask[test] = True
    return mask


def site_key(name: str):
    """Numeric site labels in numeric order, others after them."""
    return (0, int(name), "") if str(name).isdigit() else (1, 0, str(name))


@lru_cache(maxsize=2)
def bundled_partition(cohort_name: str = "warfarin", seed: int | None = None) -> tuple[object, SitePartition]:
    """The bundled multi-site cohort and its partition (cached per process: every simulated client reads it)."""
    from ..data.cohorts import load_cohort, project_sites

    cohort = load_cohort(cohort_name)
    y = cohort.frame[cohort.spec.outcome.column].to_numpy(float)
    return cohort, partition_sites(y, project_sites(cohort), seed=cohort.spec.seed if seed is None else seed)

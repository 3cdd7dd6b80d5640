"""The exact federated linear model in the IWPC formula's form, from per-site sufficient statistics.

The model is the IWPC pharmacogenetic formula's (:mod:`core.evaluation.baselines`) with coefficients refitted
by least squares: sqrt(weekly dose) on age (decades), height (cm), weight (kg), VKORC1 -1639 (A/G, A/A,
unknown), CYP2C9 (*1/*2, *1/*3, *2/*2, *2/*3, *3/*3, unknown), race (Asian, Black, missing or mixed), enzyme
inducer and amiodarone. A missing age, height or weight is filled with the pooled mean of the training rows.

Each site sends one thing: the cross-products ``A = ZᵀZ`` and ``b = Zᵀy`` of an *augmented* design Z in which
each numeric input is split into "value where observed, else 0" and "missing" columns, with its count ``n``.
Because a filled column is ``observed + mean × missing``, the filled design is ``Z T`` for a fixed matrix T
built from the means, and the means themselves are ratios of entries of the summed A. So the summed statistics
give the pooled fit exactly: ``(Tᵀ A T) β = Tᵀ b``. The guarantee is algebraic (the sum of the sites'
cross-products *is* the pooled cross-product); what remains is floating-point rounding, far below 1e-6.

Without secure aggregation the server sees each site's A: its patient count, the count in every genotype and
race cell, and sums of age, height, weight and sqrt(dose) per cell. At a small site a cell of one patient
reveals that patient's numbers. :mod:`core.federated` says so wherever it reports what was shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC = ("age_decade", "height_cm", "weight_kg")
VKORC1_LEVELS = ("A/G", "A/A")               # reference G/G; anything else is "unknown"
CYP2C9_LEVELS = ("*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3")  # reference *1/*1; 'other' or missing: "unknown"
RACE_LEVELS = ("Asian", "Black or African American")          # reference White; anything else: missing or mixed
FLAGS = ("enzyme_inducer", "amiodarone")

COEFFICIENTS = ("intercept", *NUMERIC, "vkorc1_A/G", "vkorc1_A/A", "vkorc1_unknown",
                *(f"cyp2c9_{v}" for v in CYP2C9_LEVELS), "cyp2c9_unknown",
                "race_Asian", "race_Black or African American", "race_missing or mixed", *FLAGS)
AUGMENTED = ("intercept", *(c for n in NUMERIC for c in (f"{n}_observed", f"{n}_missing")), *COEFFICIENTS[4:])

MSG_NO_VALUES = "No training patient at any site has a recorded {field}: the formula's {field} term cannot be fitted."
MSG_SHAPES = "Sufficient statistics must be a {p}x{p} cross-product and a {p}-vector. Got {a} and {b} instead."


@dataclass(frozen=True)
class SufficientStatistics:
    """What one site shares for the linear model: ZᵀZ, Zᵀy of its augmented design, and its patient count."""

    xtx: np.ndarray
    xty: np.ndarray
    n: int

    def __post_init__(self):
        p = len(AUGMENTED)
        if np.shape(self.xtx) != (p, p) or np.shape(self.xty) != (p,):
            raise ValueError(MSG_SHAPES.format(p=p, a=np.shape(self.xtx), b=np.shape(self.xty)))

    def __add__(self, other: "SufficientStatistics") -> "SufficientStatistics":
        return SufficientStatistics(self.xtx + other.xtx, self.xty + other.xty, self.n + other.n)


def augmented_design(frame: pd.DataFrame) -> np.ndarray:
    """The augmented design Z (one row per patient, columns :data:`AUGMENTED`) of a warfarin feature frame."""
    n = len(frame)
    cols = [np.ones(n)]
    for name in NUMERIC:
        v = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
        miss = ~np.isfinite(v)
        cols += [np.where(miss, 0.0, v), miss.astype(float)]
    cols += _dummies(frame["vkorc1_1639"], VKORC1_LEVELS, reference="G/G")
    cols += _dummies(frame["cyp2c9"], CYP2C9_LEVELS, reference="*1/*1")
    cols += _dummies(frame["race"], RACE_LEVELS, reference="White")
    for name in FLAGS:
        cols.append(pd.to_numeric(frame[name], errors="coerce").fillna(0.0).to_numpy(float))
    return np.column_stack(cols)


def _dummies(values: pd.Series, levels: tuple[str, ...], *, reference: str) -> list[np.ndarray]:
    v = values.astype(object).where(values.notna(), None).to_numpy()
    out = [np.array([x == lv for x in v], dtype=float) for lv in levels]
    out.append(np.array([x not in (*levels, reference) for x in v], dtype=float))  # the formula's "unknown" term
    return out


def target(dose_mg_per_week) -> np.ndarray:
    """The formula's scale: the square root of the weekly dose."""
    return np.sqrt(np.asarray(dose_mg_per_week, dtype=float))


def site_statistics(frame: pd.DataFrame, dose_mg_per_week) -> SufficientStatistics:
    """One site's sufficient statistics (computed at the site, on its training rows only)."""
    z, y = augmented_design(frame), target(dose_mg_per_week)
    return SufficientStatistics(xtx=z.T @ z, xty=z.T @ y, n=int(len(y)))


@dataclass(frozen=True)
class LinearDoseModel:
    """Coefficients in the formula's form (:data:`COEFFICIENTS`, sqrt mg/week) and the fill-in means."""

    coefficients: np.ndarray
    fill: dict                  # mean age_decade, height_cm, weight_kg of the training rows
    n: int
    rank: int                   # of the design; < len(COEFFICIENTS) when a site lacks a category (site-local)

    def predict_sqrt(self, frame: pd.DataFrame) -> np.ndarray:
        return augmented_design(frame) @ (_fill_matrix(self.fill) @ self.coefficients)

    def predict(self, frame: pd.DataFrame, *, shift: float = 0.0) -> np.ndarray:
        """Weekly doses (mg/week); ``shift`` is added on the sqrt scale (a site's recalibration)."""
        return np.clip(self.predict_sqrt(frame) + shift, 0.0, None) ** 2

    def as_dict(self) -> dict:
        return {"coefficients": dict(zip(COEFFICIENTS, map(float, self.coefficients))),
                "fill": {k: float(v) for k, v in self.fill.items()}, "n": self.n, "rank": self.rank}


def solve(stats: SufficientStatistics, *, strict: bool = True) -> LinearDoseModel:
    """The least-squares fit from (summed) statistics: the pooled OLS fit when ``stats`` is the sum over sites.

    Columns are equilibrated before solving (the cross-product squares the design's conditioning); a rank-deficient
    system (a site with no patient in some category) gets the minimum-norm solution, i.e. that category's
    coefficient stays at zero relative to the reference. ``strict=False`` (a site-local fit) also accepts a numeric
    input that no patient has: its column is all zero and its coefficient zero (that site's model ignores it).
    """
    a, b = stats.xtx, stats.xty
    fill = {}
    for name in NUMERIC:
        obs, miss = AUGMENTED.index(f"{name}_observed"), AUGMENTED.index(f"{name}_missing")
        n_obs = a[0, 0] - a[0, miss]
        if n_obs <= 0 and strict:
            raise ValueError(MSG_NO_VALUES.format(field=name.replace("_", " ")))
        fill[name] = float(a[0, obs] / n_obs) if n_obs > 0 else 0.0
    t = _fill_matrix(fill)
    g, h = t.T @ a @ t, t.T @ b
    d = np.sqrt(np.where(np.diag(g) > 0, np.diag(g), 1.0))
    gs, hs = g / np.outer(d, d), h / d
    rank = int(np.linalg.matrix_rank(gs))
    if rank == len(h):
        beta = np.linalg.solve(gs, hs) / d
    else:
        beta = np.linalg.lstsq(gs, hs, rcond=None)[0] / d
    return LinearDoseModel(coefficients=beta, fill=fill, n=int(stats.n), rank=rank)


def _fill_matrix(fill: dict) -> np.ndarray:
    """T with ``Z T`` = the design with missing numerics filled by ``fill`` (columns :data:`COEFFICIENTS`)."""
    t = np.zeros((len(AUGMENTED), len(COEFFICIENTS)))
    for i, name in enumerate(AUGMENTED):
        if name in COEFFICIENTS:
            t[i, COEFFICIENTS.index(name)] = 1.0
    for name in NUMERIC:
        j = COEFFICIENTS.index(name)
        t[AUGMENTED.index(f"{name}_observed"), j] = 1.0
        t[AUGMENTED.index(f"{name}_missing"), j] = fill[name]
    return t


def fit_pooled(frame: pd.DataFrame, dose_mg_per_week) -> LinearDoseModel:
    """The same model fitted on pooled rows (the regime federated training must reproduce)."""
    return solve(site_statistics(frame, dose_mg_per_week))


def recalibration_shift(model: LinearDoseModel, frame: pd.DataFrame, dose_mg_per_week) -> float:
    """A site's personalisation: the mean residual (sqrt scale) of the shared model on the site's training rows."""
    return float(np.mean(target(dose_mg_per_week) - model.predict_sqrt(frame)))

"""Leave-one-site-out validation: how a dose model does at a site it never saw (result objects and scoring).

A random split of pooled data flatters a model: patients of the same site share the way the dose was
recorded, the population and the prescribers, so a site's patients on both sides of a random split make
the test easy. Holding out a whole site asks the question a new hospital asks. The protocol that produces
the predictions lives in :mod:`core.modeling.site_validation`; this module only scores them (pure numpy)
and holds the results: :class:`SiteResult` per held-out site and :class:`SiteValidation` for all of them.

The IWPC formula's error at each site is shown beside the model's, but the formula was derived on these
very patients (IWPC 2009 pooled these 22 sites), so its numbers here are in-sample and flattering; the
model's are genuinely out-of-site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._format import finite_or_none
from . import metrics as M

MIN_SITE_N = 50  # a site with fewer patients is too small to score on its own
FORMULA_NOTE = ("The IWPC formula was derived on these same patients (all sites pooled), so its MAE at each site "
                "is in-sample and optimistic; the model never saw the held-out site.")
PROTOCOL = ("For each site with at least {min_n} patients: the full training protocol (20% conformal calibration "
            "part, 5-fold cross-validated tuning, refit) runs on the other sites' patients only; the held-out site "
            "is predicted once.")


@dataclass(frozen=True)
class SiteResult:
    """One held-out site: its size, the model's errors there (mg/week), interval coverage, and the formula's MAE."""

    site: str
    n: int
    n_train: int
    mae: float
    within_20: float
    mean_error: float
    coverage: float | None       # share of the site's patients with an interval whose dose lies inside it
    n_with_interval: int
    iwpc_formula_mae: float

    @property
    def model_beats_formula(self) -> bool:
        return self.mae < self.iwpc_formula_mae

    def to_dict(self) -> dict:
        return {"site": self.site, "n": self.n, "n_train": self.n_train, "mae": finite_or_none(self.mae),
                "within_20": finite_or_none(self.within_20), "mean_error": finite_or_none(self.mean_error),
                "coverage": finite_or_none(self.coverage), "n_with_interval": self.n_with_interval,
                "iwpc_formula_mae": finite_or_none(self.iwpc_formula_mae)}

    @classmethod
    def from_dict(cls, d: dict) -> "SiteResult":
        num = lambda v: float("nan") if v is None else float(v)  # noqa: E731
        return cls(site=str(d["site"]), n=int(d["n"]), n_train=int(d["n_train"]), mae=num(d["mae"]),
                   within_20=num(d["within_20"]), mean_error=num(d["mean_error"]),
                   coverage=None if d["coverage"] is None else float(d["coverage"]),
                   n_with_interval=int(d["n_with_interval"]), iwpc_formula_mae=num(d["iwpc_formula_mae"]))


def score_site(site: str, y: np.ndarray, pred: np.ndarray, low: np.ndarray, high: np.ndarray,
               formula: np.ndarray, *, n_train: int) -> SiteResult:
    """Score one held-out site: ``y`` the stable doses, ``pred`` the model's, ``low``/``high`` its intervals
    (NaN where a patient got none), ``formula`` the IWPC formula's doses (NaN rows are left out of its MAE)."""
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    low, high, formula = np.asarray(low, float), np.asarray(high, float), np.asarray(formula, float)
    has = np.isfinite(low) & np.isfinite(high)
    inside = (y[has] >= low[has]) & (y[has] <= high[has])
    scored = np.isfinite(formula)
    return SiteResult(site=str(site), n=int(len(y)), n_train=int(n_train), mae=M.mean_absolute_error(y, pred),
                      within_20=M.within_fraction(y, pred, tolerance=0.2), mean_error=M.mean_error(y, pred),
                      coverage=float(inside.mean()) if has.any() else None, n_with_interval=int(has.sum()),
                      iwpc_formula_mae=M.mean_absolute_error(y[scored], formula[scored]) if scored.any() else np.nan)


@dataclass(frozen=True)
class SiteValidation:
    """Every held-out site's result, and the spread across sites (:meth:`summary`).

    ``pooled`` holds the pooled errors over all held-out patients (each predicted by the model that never saw
    its site): ``mae``, ``within_20``, ``mean_error``, ``coverage`` and ``iwpc_formula_mae``.
    """

    cohort: str
    sites: tuple[SiteResult, ...]
    pooled: dict
    skipped: tuple[dict, ...] = ()    # sites with fewer than min_n patients: {site, n}
    min_n: int = MIN_SITE_N
    nominal_coverage: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def site(self, name: str) -> SiteResult:
        return next(s for s in self.sites if s.site == str(name))

    @property
    def worst(self) -> SiteResult:
        """The site where the model's MAE is highest."""
        return max(self.sites, key=lambda s: s.mae)

    def summary(self) -> dict:
        maes = np.array([s.mae for s in self.sites])
        formula = np.array([s.iwpc_formula_mae for s in self.sites])
        worst = self.worst
        return {
            "n_sites": len(self.sites), "n_patients": int(sum(s.n for s in self.sites)), "min_site_n": self.min_n,
            "pooled_mae": self.pooled["mae"], "median_mae": float(np.median(maes)),
            "min_mae": float(maes.min()), "max_mae": float(maes.max()),
            "pooled_within_20": self.pooled["within_20"], "pooled_mean_error": self.pooled["mean_error"],
            "pooled_coverage": self.pooled["coverage"], "nominal_coverage": self.nominal_coverage,
            "pooled_iwpc_formula_mae": self.pooled["iwpc_formula_mae"],
            "median_iwpc_formula_mae": float(np.nanmedian(formula)),
            "sites_model_beats_formula": int(sum(s.model_beats_formula for s in self.sites)),
            "worst_site": {"site": worst.site, "n": worst.n, "mae": worst.mae,
                           "iwpc_formula_mae": worst.iwpc_formula_mae},
            "skipped_sites": [dict(s) for s in self.skipped],
        }

    def to_dict(self) -> dict:
        from .._json import jsonable

        return jsonable({"cohort": self.cohort, "sites": [s.to_dict() for s in self.sites],
                         "summary": self.summary(), "pooled": dict(self.pooled), "notes": list(self.notes),
                         "min_n": self.min_n, "skipped": [dict(s) for s in self.skipped],
                         "nominal_coverage": self.nominal_coverage})

    @classmethod
    def from_dict(cls, d: dict) -> "SiteValidation":
        pooled = {k: (float("nan") if v is None else v) for k, v in d["pooled"].items()}
        return cls(cohort=d["cohort"], sites=tuple(SiteResult.from_dict(s) for s in d["sites"]), pooled=pooled,
                   skipped=tuple(dict(s) for s in d.get("skipped", ())), min_n=int(d.get("min_n", MIN_SITE_N)),
                   nominal_coverage=d.get("nominal_coverage"), notes=tuple(d.get("notes", ())))


def pooled_scores(y: np.ndarray, pred: np.ndarray, low: np.ndarray, high: np.ndarray, formula: np.ndarray) -> dict:
    """The same metrics as :func:`score_site` over all held-out patients of all sites together."""
    r = score_site("pooled", y, pred, low, high, formula, n_train=0)
    return {"mae": r.mae, "within_20": r.within_20, "mean_error": r.mean_error,
            "coverage": float("nan") if r.coverage is None else r.coverage, "n_with_interval": r.n_with_interval,
            "iwpc_formula_mae": r.iwpc_formula_mae, "n": r.n}

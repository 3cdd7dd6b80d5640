"""Leave-one-site-out validation of a dose model: the full training protocol, once per held-out site.

For each site with at least ``min_n`` patients, :func:`core.modeling.training.train` runs on the *other*
sites' patients exactly as for the bundle (conformal calibration part set aside first, then
cross-validated tuning and the final fit, all inside those sites), with the held-out site as its test
split. The site is then predicted once: the model's dose, its conformal interval (calibrated on the
training sites' calibration part) and the IWPC formula (height and weight filled with the training sites'
medians). Scoring and the result objects are in :mod:`core.evaluation.sites`.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from ..data.cohorts import Cohort
from ..evaluation.baselines import iwpc_doses
from ..evaluation.sites import FORMULA_NOTE, MIN_SITE_N, PROTOCOL, SiteValidation, pooled_scores, score_site
from ..uncertainty import dose_interval, fit_dose_conformal
from .training import TrainingResult, train

MSG_NOT_DOSE = "Validation by site is for a dose cohort; cohort {name!r} compares treatment arms."
MSG_SITES_LENGTH = "sites must give one site per patient ({n}). Got {got} instead."
MSG_NO_SITE = "No site has at least {min_n} patients (largest: {largest}); nothing to validate."


def validate_by_site(cohort: Cohort, sites, *, min_n: int = MIN_SITE_N,
                     progress: Callable[[str], None] | None = None, grid=None, max_trees: int | None = None,
                     on_fit: Callable[[str, TrainingResult], None] | None = None) -> SiteValidation:
    """Train without each site in turn and score that site; ``sites`` holds one site label per patient.

    ``grid``/``max_trees`` override the tuning grid (tests only: the bundle's defaults otherwise);
    ``on_fit(site, result)`` is called with every fold's training result (e.g. to check what it saw).
    """
    say = progress or (lambda _m: None)
    spec = cohort.spec
    if not spec.is_dose:
        raise ValueError(MSG_NOT_DOSE.format(name=spec.name))
    sites = np.asarray(sites, dtype=object).astype(str)
    if len(sites) != cohort.n:
        raise ValueError(MSG_SITES_LENGTH.format(n=cohort.n, got=len(sites)))
    names, counts = np.unique(sites, return_counts=True)
    order = sorted(zip(names, counts), key=lambda t: _site_key(t[0]))
    eligible = [name for name, n in order if n >= min_n]
    skipped = tuple({"site": str(name), "n": int(n)} for name, n in order if n < min_n)
    if not eligible:
        raise ValueError(MSG_NO_SITE.format(min_n=min_n, largest=int(counts.max())))
    results, pooled = [], {k: [] for k in ("y", "pred", "low", "high", "formula")}
    nominal = None
    for i, site in enumerate(eligible, start=1):
        held_out = sites == site
        say(f"site {site} ({i} of {len(eligible)}): training on the other sites' {int((~held_out).sum())} patients, "
            f"predicting its {int(held_out.sum())}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # implausible values etc. are the cohort's business, not this table's
            result = train(cohort, test_mask=held_out, grid=grid, max_trees=max_trees)
            if on_fit is not None:
                on_fit(site, result)
            y, pred, low, high, formula, nominal = _predict_site(result)
        results.append(score_site(site, y, pred, low, high, formula, n_train=int((~held_out).sum())))
        for key, value in zip(pooled, (y, pred, low, high, formula)):
            pooled[key].append(value)
        r = results[-1]
        say(f"site {site}: MAE {r.mae:.2f} mg/week (IWPC formula {r.iwpc_formula_mae:.2f}), "
            f"{r.within_20:.0%} within 20%")
    joined = {k: np.concatenate(v) for k, v in pooled.items()}
    return SiteValidation(cohort=spec.name, sites=tuple(results), pooled=pooled_scores(**joined), skipped=skipped,
                          min_n=min_n, nominal_coverage=nominal,
                          notes=(PROTOCOL.format(min_n=min_n), FORMULA_NOTE))


def _predict_site(result: TrainingResult):
    """Doses, conformal intervals and formula doses for the held-out rows of one fold."""
    spec, model = result.spec, result.model
    train_frame, test_frame = result.train_frame, result.test_frame
    cal = result.calibration_rows
    cal_frame = train_frame[cal].reset_index(drop=True)
    cp = fit_dose_conformal(spec, cal_frame, result.labels.y[cal], model.predict(cal_frame))
    pred = model.predict(test_frame)
    interval = dose_interval(cp, spec, test_frame, pred)
    formula = iwpc_doses(test_frame, impute=result.iwpc_impute)
    return result.test_labels.y, pred, interval.low, interval.high, formula, float(cp.coverage)


def _site_key(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)

"""Dose cohort: split-conformal prediction intervals for the weekly dose, Mondrian by predicted-dose band × race.

Method. Training (:func:`core.modeling.training.train`) sets aside a calibration part of the training
split — 20%, stratified by race and dose quintile, fixed by the spec's seed — before anything is fitted.
The model is tuned by cross-validation and fitted on the other 80% only; the calibration part is used
for nothing but this. Its nonconformity scores are ``|y − ŷ| / max(ŷ, 5 mg/week)`` with ``ŷ`` the final
model's prediction (errors grow with the dose). The Mondrian categories (*cells*) are the predicted-dose band
(below 21, 21–49, 49 mg/week or more: 3 and 7 mg a day) crossed with race; races with fewer than ``MIN_CELL``
calibration patients in a band are pooled within the band (:func:`calibration_cells` says how). Each cell's half-width is the
``ceil((n + 1)·0.9)``-th smallest score of its ``n`` calibration rows (split-conformal, Vovk et al. 2005;
Lei et al. 2018). The dose shown and its interval come from the same model.

Why cells by band as well as race: with race alone, coverage was 96% for Black patients (intervals too wide)
and 71% for patients needing 49 mg/week or more (too narrow), although each race group's coverage was right on
average (issue 24). A cell is defined by the patient's race and *predicted* dose, never the outcome, so it is a
valid Mondrian taxonomy.

Guarantee (what it is and is not). If a new patient and the calibration patients of the same cell are
exchangeable (drawn at random from the same population), the probability over both that the patient's stable
dose lies in the interval is at least 90% within each cell (cell-conditional marginal coverage; at most
90% + 1/(n + 1) with continuous scores). The cells themselves are fixed from the calibration part's counts of
race and predicted band (never its doses). It is *not* conditional on the patient's other features: a given
genotype or site may be covered less often. Clipping at 0 mg/week does not change coverage. A patient whose cell
has no calibrated interval gets none (insufficient evidence). Patients from another population (another country,
era or clinic) are not covered by it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.cohorts import protected_attributes
from ..data.spec import CohortSpec
from .conformal import DEFAULT_MIN_GROUP_SIZE, MondrianConformalRegressor, coverage_report

DOSE_COVERAGE = 0.90
DOSE_MIN_DIFFICULTY = 5.0  # mg/week: floor of the scale used to normalise conformal scores
BAND_EDGES = (21.0, 49.0)  # mg/week: 3 and 7 mg a day
BANDS = ("below 21 mg/week", "21–49 mg/week", "49 mg/week or more")
MIN_CELL = DEFAULT_MIN_GROUP_SIZE
OTHER_RACES = "other races"
ALL_RACES = "all races"
REMAINING = "all remaining patients"

METHOD = ("split-conformal, Mondrian by predicted-dose band × {group} (cells under {minimum} calibration patients "
          "merged): calibrated on {n} training-split patients held out from fitting and tuning; scores "
          "|y - prediction| / max(prediction, {floor:g} mg/week)")
GUARANTEE = ("For a new patient exchangeable with the calibration patients of the same cell (predicted-dose band × "
             "{group}), P(stable dose inside the {level:.0%} interval) >= {level:.0%} within each cell (finite-sample, "
             "marginal over patients of that cell; not conditional on the other features).")


def dose_groups(spec: CohortSpec, frame: pd.DataFrame) -> np.ndarray:
    """The patients' race (the first protected attribute of the dose cohort): one half of the Mondrian cell."""
    return protected_attributes(spec, frame)[spec.protected[0].name].astype(str).to_numpy()


def dose_bands(pred: np.ndarray) -> np.ndarray:
    """The predicted-dose band of each prediction (mg/week)."""
    pred = np.asarray(pred, dtype=float)
    return np.select([pred < BAND_EDGES[0], pred < BAND_EDGES[1]], BANDS[:2], BANDS[2]).astype(object)


def _cell(group: str, band: str) -> str:
    return f"{group}, {band}"


def calibration_cells(groups: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """The cell of each calibration row (a partition; every cell has at least ``MIN_CELL`` rows where possible).

    Within each predicted-dose band: a race with ``MIN_CELL`` or more calibration rows is its own cell; the
    band's other races are pooled as "other races"; a pool still too small joins the band's largest race cell
    ("White and other races, …"); a band with no large race is one cell ("all races, …"); bands still too
    small are pooled as "all remaining patients".
    """
    groups = np.asarray(groups, dtype=object).astype(str)
    bands = dose_bands(pred)
    cells = np.empty(len(groups), dtype=object)
    for band in BANDS:
        in_band = bands == band
        counts = pd.Series(groups[in_band]).value_counts()
        big = [g for g in counts.index if counts[g] >= MIN_CELL]
        small = in_band & ~np.isin(groups, big)
        for g in big:
            cells[in_band & (groups == g)] = _cell(g, band)
        if not small.any():
            continue
        if small.sum() >= MIN_CELL or not big:
            cells[small] = _cell(OTHER_RACES if big else ALL_RACES, band)
        else:
            largest = big[0]  # value_counts is sorted, largest first
            cells[small | (in_band & (groups == largest))] = _cell(f"{largest} and {OTHER_RACES}", band)
    counts = pd.Series(cells).value_counts()
    tiny = np.array([counts[c] < MIN_CELL and c.startswith(ALL_RACES) for c in cells], dtype=bool)
    cells[tiny] = REMAINING
    return cells


def patient_cells(cp: MondrianConformalRegressor, groups: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """The calibrated cell of each new patient: the cell :func:`calibration_cells` gave calibration patients of
    the same race and predicted-dose band (a fixed function of the two, read back from the calibrated cells)."""
    known = set(cp.n_by_group_)
    out = []
    for g, band in zip(np.asarray(groups, dtype=object).astype(str), dose_bands(pred)):
        own = _cell(g, band)
        merged = next((c for c in known if c.endswith(f" and {OTHER_RACES}, {band}")), None)
        if own in known:
            out.append(own)
        elif merged is not None:
            out.append(merged)
        elif _cell(OTHER_RACES, band) in known:
            out.append(_cell(OTHER_RACES, band))
        elif _cell(ALL_RACES, band) in known:
            out.append(_cell(ALL_RACES, band))
        elif REMAINING in known:
            out.append(REMAINING)
        else:
            out.append(own)  # never calibrated: no interval (insufficient evidence)
    return np.array(out, dtype=object)


def fit_dose_conformal(spec: CohortSpec, frame: pd.DataFrame, y: np.ndarray, pred: np.ndarray, *,
                       coverage: float = DOSE_COVERAGE) -> MondrianConformalRegressor:
    """Calibrate on the held-out calibration part: ``frame``/``y`` its patients, ``pred`` the final model's
    predictions for them. The guarantee needs that neither the model nor its tuning saw these rows."""
    cp = MondrianConformalRegressor(coverage=coverage, normalized=True, lower_bound=0.0)
    cells = calibration_cells(dose_groups(spec, frame), pred)
    return cp.calibrate(y, pred, groups=cells, difficulty=np.maximum(pred, DOSE_MIN_DIFFICULTY))


def dose_interval(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray):
    return dose_interval_in_groups(cp, dose_groups(spec, frame), pred)


def dose_interval_in_groups(cp: MondrianConformalRegressor, groups: np.ndarray, pred: np.ndarray):
    """:func:`dose_interval` for patients whose race is already known (``groups``)."""
    pred = np.asarray(pred, dtype=float)
    return cp.predict_interval(pred, groups=patient_cells(cp, groups, pred),
                               difficulty=np.maximum(pred, DOSE_MIN_DIFFICULTY))


def dose_interval_method(cp: MondrianConformalRegressor, spec: CohortSpec) -> dict:
    """The bundle's statement of the interval method and its guarantee (``method``, ``guarantee``)."""
    group = spec.protected[0].name
    return {"kind": "prediction interval", "method": METHOD.format(group=group, n=cp.n_marginal_, minimum=MIN_CELL,
                                                                  floor=DOSE_MIN_DIFFICULTY),
            "guarantee": GUARANTEE.format(group=group, level=float(cp.coverage)),
            "nominal": float(cp.coverage), "n_calibration": int(cp.n_marginal_),
            "groups_by": f"predicted-dose band × {group}", "cells": {str(k): int(v) for k, v in cp.n_by_group_.items()}}


def dose_coverage(cp: MondrianConformalRegressor, spec: CohortSpec, frame: pd.DataFrame, pred: np.ndarray,
                  y: np.ndarray) -> dict:
    """Held-out test coverage, overall, per race, per band of predicted dose and per band of the *observed*
    dose (patients who need high doses), with counts, the method and its guarantee."""
    race = dose_groups(spec, frame)
    res = dose_interval(cp, spec, frame, pred)
    report = coverage_report(y, res.low, res.high, groups=race).to_dict()
    by_band = coverage_report(y, res.low, res.high, groups=dose_bands(pred)).to_dict()
    by_needed = coverage_report(y, res.low, res.high, groups=dose_bands(y)).to_dict()
    by_cell = coverage_report(y, res.low, res.high, groups=patient_cells(cp, race, pred)).to_dict()
    stated = dose_interval_method(cp, spec)
    return {"kind": "Mondrian split-conformal (held-out calibration part of the training split)",
            "method": stated["method"], "guarantee": stated["guarantee"], "nominal": cp.coverage,
            "groups_by": spec.protected[0].name, "mean_width_mg_per_week": float(np.nanmean(res.high - res.low)),
            **report, "by_predicted_band": by_band, "by_observed_band": by_needed, "by_cell": by_cell}

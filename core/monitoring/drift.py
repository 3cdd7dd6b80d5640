"""Audits over time: a deployed model's predictions, window by window, against what it showed at training time.

Per window (calendar month or ISO week of ``time_column``):

* the subgroup audit (:func:`core.fairness.audit_subgroups`): every metric overall and per group, with
  bootstrap intervals, insufficient data below the audit's minimum sizes;
* input drift of every model feature in the file against the training split: the population stability
  index, PSI = Σ (a − e)·ln(a / e) over the training deciles (numbers) or categories, unknown values in a bin
  of their own, shares floored at 1e-4. PSI above 0.25 is a major shift, 0.10–0.25 a moderate one (the
  usual rule of thumb); a drift alert is raised above ``psi_alert`` (0.25);
* performance alerts: each metric that may flag in the audit (AUC, calibration intercept and slope) overall
  and for each group, against its training-time value — the bundle's held-out test-split audit, made when
  the model was trained. One-sided z test of "worse than at training time" with the standard errors of both
  (from their bootstrap intervals), the same form as the audit's group-vs-rest test; all tests of a window
  are corrected together with the audit's multiplicity correction (Holm by default); an alert is a corrected
  p-value below ``alpha``. The window's audit is then not also compared group-vs-rest for alerts.

Without a bundle there is no training-time reference: windows get their metrics and no alerts or drift.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import InputFileError
from .._json import jsonable
from ..fairness import FLAG_METRICS, WORSE_DIRECTION, adjust_p_values, audit_subgroups, worse_gap

WINDOWS = {"month": "M", "week": "W"}
PSI_MODERATE, PSI_ALERT = 0.10, 0.25
PSI_FLOOR = 1e-4
MISSING = "(missing)"


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's shift in one window against the training split."""

    feature: str
    psi: float
    level: str  # "none", "moderate", "major"

    def to_dict(self) -> dict:
        return {"feature": self.feature, "psi": self.psi, "level": self.level}


@dataclass(frozen=True)
class WindowResult:
    """One window: its rows, its audit, its drift per feature and its alerts (kind, what, numbers, message)."""

    window: str
    start: str
    n: int
    audit: dict | None
    drift: tuple[FeatureDrift, ...] = ()
    alerts: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return jsonable({"window": self.window, "start": self.start, "n": self.n, "audit": self.audit,
                         "drift": [d.to_dict() for d in self.drift], "alerts": list(self.alerts)})


@dataclass(frozen=True)
class Monitoring:
    """Every window in time order, what they were compared with, and how."""

    windows: tuple[WindowResult, ...]
    settings: dict

    def alerts(self) -> list[dict]:
        return [{**a, "window": w.window} for w in self.windows for a in w.alerts]

    def series(self, metric: str, *, attribute: str = "overall", group: str = "overall") -> list[dict]:
        """``[{window, value, ci_low, ci_high}]`` of one metric over time (None where not reportable)."""
        out = []
        for w in self.windows:
            mv = _metric(w.audit, attribute, group, metric) if w.audit else None
            out.append({"window": w.window, "value": (mv or {}).get("value"), "ci_low": (mv or {}).get("ci_low"),
                        "ci_high": (mv or {}).get("ci_high")})
        return out

    def to_dict(self) -> dict:
        return {"windows": [w.to_dict() for w in self.windows], "alerts": jsonable(self.alerts()),
                "settings": jsonable(self.settings)}


def _metric(audit: dict | None, attribute: str, group: str, metric: str) -> dict | None:
    if audit is None:
        return None
    if attribute == "overall":
        return audit["overall"]["metrics"].get(metric)
    for g in audit["groups"]:
        if g["attribute"] == attribute and g["group"] == group:
            return g["metrics"].get(metric)
    return None


# --- drift --------------------------------------------------------------------------------------------
def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins (shares floored at 1e-4)."""
    e = np.maximum(np.asarray(expected, float), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, float), PSI_FLOOR)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReference:
    """The training split's bins and shares per feature (deciles for numbers, categories otherwise)."""

    bins: dict
    shares: dict

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: list[str], numeric: dict[str, bool]) -> "DriftReference":
        bins, shares = {}, {}
        for f in features:
            col = frame[f]
            if numeric[f]:
                x = pd.to_numeric(col, errors="coerce").to_numpy(float)
                edges = np.unique(np.nanquantile(x[~np.isnan(x)], np.linspace(0, 1, 11)[1:-1])) if (~np.isnan(x)).any() else np.array([])
                bins[f] = edges
            else:
                bins[f] = tuple(sorted({str(v) for v in col.dropna()}))
            shares[f] = cls._counts(bins[f], col, numeric[f])
        return cls(bins, {f: s / max(s.sum(), 1) for f, s in shares.items()})

    @staticmethod
    def _counts(bins, col: pd.Series, numeric: bool) -> np.ndarray:
        if numeric:
            x = pd.to_numeric(col, errors="coerce").to_numpy(float)
            idx = np.where(np.isnan(x), len(bins) + 1, np.searchsorted(bins, x, side="right"))
            return np.bincount(idx, minlength=len(bins) + 2).astype(float)
        index = {c: i for i, c in enumerate(bins)}
        idx = [index.get(str(v), len(bins)) if not (v is None or (isinstance(v, float) and math.isnan(v)))
               else len(bins) + 1 for v in col]
        return np.bincount(np.asarray(idx, dtype=int), minlength=len(bins) + 2).astype(float)

    def drift(self, frame: pd.DataFrame, numeric: dict[str, bool], *, alert: float = PSI_ALERT) -> list[FeatureDrift]:
        out = []
        for f in self.bins:
            counts = self._counts(self.bins[f], frame[f], numeric[f])
            value = psi(self.shares[f], counts / max(counts.sum(), 1))
            level = "major" if value > alert else "moderate" if value > PSI_MODERATE else "none"
            out.append(FeatureDrift(f, value, level))
        return out


# --- performance against the training-time audit ------------------------------------------------------
def _se(mv: dict, z: float) -> float | None:
    lo, hi = mv.get("ci_low"), mv.get("ci_high")
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (hi - lo) / (2 * z)


def _worse_p(direction: str, now: float, then: float, se: float) -> float:
    if direction in ("lower", "higher"):
        return 0.5 * math.erfc(worse_gap(direction, now, then) / se / math.sqrt(2))
    if worse_gap(direction, now, then) <= 0:
        return 1.0
    return min(1.0, math.erfc(abs(now - then) / se / math.sqrt(2)))


def performance_alerts(audit: dict, reference: dict, *, alpha: float, correction: str, confidence: float) -> list[dict]:
    """Alerts for the window's metrics that are worse than at training time (corrected over the window)."""
    z = _normal_quantile(0.5 + confidence / 2)
    metrics = FLAG_METRICS["binary"] if audit["settings"]["task"] == "binary" else FLAG_METRICS["regression"]
    cells = [("overall", "overall")] + [(g["attribute"], g["group"]) for g in audit["groups"]]
    tests = []
    for attribute, group in cells:
        for m in metrics:
            now, then = _metric(audit, attribute, group, m), _metric(reference, attribute, group, m)
            if not now or not then or now.get("value") is None or then.get("value") is None:
                continue
            se_now, se_then = _se(now, z), _se(then, z)
            if not se_now or se_then is None:
                continue
            se = math.hypot(se_now, se_then)
            tests.append((attribute, group, m, now["value"], then["value"], _worse_p(WORSE_DIRECTION[m], now["value"],
                                                                                      then["value"], se)))
    adjusted = adjust_p_values([t[5] for t in tests], correction)
    out = []
    for (attribute, group, m, now, then, p), p_adj in zip(tests, adjusted):
        if p_adj < alpha:
            who = "overall" if attribute == "overall" else f"{attribute.replace('_', ' ')} = {group}"
            out.append({"kind": "performance", "attribute": attribute, "group": group, "metric": m, "value": now,
                        "training": then, "p_value": p, "p_adjusted": float(p_adj), "correction": correction,
                        "n_tests": len(tests),
                        "message": f"{m.replace('_', ' ')} ({who}) is worse than at training time: {now:.3g} against "
                                   f"{then:.3g} (corrected p = {p_adj:.2g}, {len(tests)} comparisons this window)."})
    return out


def _normal_quantile(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


# --- the whole stream -----------------------------------------------------------------------------------
def monitor(frame: pd.DataFrame, *, time_column: str, window: str, label: str, score: str, attributes: list[str],
            reference_audit: dict | None = None, train_frame: pd.DataFrame | None = None,
            features: dict[str, bool] | None = None, task: str = "binary", n_boot: int = 200, seed: int = 0,
            alpha: float = 0.05, correction: str = "holm", confidence: float = 0.95,
            psi_alert: float = PSI_ALERT, labels: dict[str, str] | None = None) -> Monitoring:
    """Audit ``frame`` window by window (see the module doc). ``features``: {name: is numeric} of the model
    features to check for drift against ``train_frame`` (those in ``frame`` that are not audited attributes);
    ``labels``: {name: clinical label} for the alerts' messages (a feature without one is named in plain words)."""
    labels = labels or {}
    if window not in WINDOWS:
        raise InputFileError(f"--window must be one of {', '.join(WINDOWS)}. Got {window!r} instead.")
    missing = [c for c in [time_column, label, score, *attributes] if c not in frame.columns]
    if missing:
        raise InputFileError(f"The predictions have no column(s) {', '.join(map(repr, missing))}. Available "
                             f"columns: {', '.join(map(str, frame.columns))}.")
    when = pd.to_datetime(frame[time_column], errors="coerce", utc=True)
    if when.isna().any():
        row = int(np.flatnonzero(when.isna().to_numpy())[0]) + 1
        raise InputFileError(f"The {time_column!r} column (the time) must hold dates or times; row {row} holds "
                             f"{frame[time_column].iloc[row - 1]!r}.")
    periods = when.dt.tz_localize(None).dt.to_period(WINDOWS[window])
    drift_ref = None
    features = {f: n for f, n in (features or {}).items() if f in frame.columns and f not in attributes}
    if train_frame is not None and features:
        drift_ref = DriftReference.fit(train_frame, list(features), features)
    windows = []
    for period in sorted(periods.unique()):
        rows = frame[(periods == period).to_numpy()]
        audit = _window_audit(rows, label, score, attributes, task, n_boot, seed, alpha, correction, confidence)
        drift = tuple(drift_ref.drift(rows, features, alert=psi_alert)) if drift_ref is not None else ()
        alerts = [] if audit is None or reference_audit is None else performance_alerts(
            audit, reference_audit, alpha=alpha, correction=correction, confidence=confidence)
        alerts += [{"kind": "drift", "feature": d.feature, "psi": d.psi, "threshold": psi_alert,
                    "message": f"The distribution of {labels.get(d.feature) or d.feature.replace('_', ' ')} has shifted from the training data (PSI {d.psi:.2f} "
                               f"> {psi_alert:g})."} for d in drift if d.psi > psi_alert]
        windows.append(WindowResult(str(period), str(period.start_time.date()), len(rows), audit, drift, tuple(alerts)))
    settings = {"window": window, "time_column": time_column, "label": label, "score": score,
                "attributes": list(attributes), "n_boot": n_boot, "seed": seed, "alpha": alpha,
                "correction": correction, "confidence": confidence, "psi_alert": psi_alert,
                "psi_moderate": PSI_MODERATE, "reference": "training-time test-split audit" if reference_audit else None,
                "drift_reference": "training split" if drift_ref is not None else None,
                "features_checked": list(features) if drift_ref is not None else []}
    return Monitoring(tuple(windows), settings)


def _window_audit(rows, label, score, attributes, task, n_boot, seed, alpha, correction, confidence):
    if len(rows) == 0:
        return None
    y = pd.to_numeric(rows[label], errors="coerce").to_numpy(float)
    p = pd.to_numeric(rows[score], errors="coerce").to_numpy(float)
    groups = pd.DataFrame({a: rows[a].astype(str).to_numpy() for a in attributes})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            audit = audit_subgroups(y, p, groups, task=task, n_boot=n_boot, seed=seed, alpha=alpha,
                                    correction=correction, confidence=confidence)
    except ValueError as exc:  # e.g. labels that are not 0/1 in this window
        raise InputFileError(f"Window of {len(rows)} rows could not be audited: {exc}") from None
    return audit.to_dict()

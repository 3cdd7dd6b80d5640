"""Exact per-patient explanations as a value object (in the spirit of shap's ``Explanation``), on two scales.

The model scale: ``base_value + sum(shap) == output`` exactly, in calibrated log-odds for an arm's risk, the
log odds ratio for the difference between two arms, mg/week for a dose (these are the ``shap`` numbers).

The plain scale (``Explanation.plain``), the headline's: percentage points of risk for an arm cohort, mg/week
for a dose. An arm's risk and the difference between two arms are split exactly by rescaling the log-odds
contributions with one factor per explanation, (change in risk) / (change in log-odds): the rows keep the
proportions of the exact log-odds split and add up exactly to the risk (or to the risk difference) in points.
Every row also carries a clinical phrase ("Weight 68 kg", "Diabetes: yes", "Age 60–69 years").
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..modeling.boosted import BoostedModel
from ..modeling.design import ARM_FEATURE
from .._format import display_value, record_value
from ..data.spec import CohortSpec, FeatureSpec

POINTS = "percentage points"
MINUS = "−"  # U+2212, the typographic minus: it survives every font and never reads as a hyphen
ARM_METHOD = ("Exact split of this patient's estimated risk, in percentage points, from the model's starting "
              "point: each feature's log-odds contribution times one common factor (risk change ÷ log-odds "
              "change), so the rows keep their proportions and add up exactly to the estimated risk.")
DIFFERENCE_METHOD = ("Exact split of the difference in estimated risk between the two options, in percentage "
                     "points: each feature's contribution to the log odds ratio times one common factor (risk "
                     "difference ÷ log odds ratio), so the rows keep their proportions and add up exactly to the "
                     "difference shown in the headline.")
DOSE_METHOD = "Exact split of the predicted weekly dose, in mg/week, from the cohort's average dose."


def signed(x: float, fmt: str = ".1f") -> str:
    """``+1.2`` / ``−0.4`` with a real minus sign; ``0.0`` without one."""
    text = f"{x:+{fmt}}"
    if float(text) == 0:
        return text[1:]
    return text.replace("-", MINUS)


@dataclass(frozen=True)
class PlainView:
    """An explanation on the headline's scale: ``base_value + values.sum() == output`` exactly."""

    scale: str
    base_value: float
    output: float
    values: np.ndarray
    base_label: str
    method: str
    summary: str
    treatment: float | None = None      # points carried by the treatment row (a difference between arms)
    patient_features: float | None = None  # points carried by the patient's own features

    def to_dict(self) -> dict:
        out = {"scale": self.scale, "base_value": float(self.base_value), "output": float(self.output),
               "base_label": self.base_label, "method": self.method, "summary": self.summary}
        if self.treatment is not None:
            out.update(treatment=float(self.treatment), patient_features=float(self.patient_features))
        return out


@dataclass(frozen=True)
class Explanation:
    title: str
    scale: str
    base_value: float
    output: float
    features: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple
    shap: np.ndarray
    phrases: tuple[str, ...] = ()
    plain: PlainView | None = None

    def to_dict(self) -> dict:
        """Plain JSON values: the contributions largest first (by absolute log-odds or mg/week)."""
        feature, label = self.features, self.labels
        shap = np.asarray(self.shap, dtype=float).tolist()  # Python floats, as float() gives
        order = sorted(range(len(shap)), key=lambda i: -abs(shap[i]))  # stable: ties keep the model's order
        value = [record_value(v) for v in self.values]
        if self.phrases and self.plain is not None:  # one comprehension per shape of row (batch reports: many rows)
            phrase, points = self.phrases, np.asarray(self.plain.values, dtype=float).tolist()
            rows = [{"feature": feature[i], "label": label[i], "value": value[i], "shap": shap[i],
                     "phrase": phrase[i], "plain": points[i]} for i in order]
        elif self.phrases:
            rows = [{"feature": feature[i], "label": label[i], "value": value[i], "shap": shap[i],
                     "phrase": self.phrases[i]} for i in order]
        elif self.plain is not None:
            points = np.asarray(self.plain.values, dtype=float).tolist()
            rows = [{"feature": feature[i], "label": label[i], "value": value[i], "shap": shap[i],
                     "plain": points[i]} for i in order]
        else:
            rows = [{"feature": feature[i], "label": label[i], "value": value[i], "shap": shap[i]} for i in order]
        out = {"title": self.title, "scale": self.scale, "base_value": float(self.base_value),
               "output": float(self.output), "contributions": rows}
        if self.plain is not None:
            out["plain"] = self.plain.to_dict()
        return out


# --- clinical phrases ---------------------------------------------------------------------------------------
def clinical_phrase(feature: FeatureSpec, value) -> str:
    """A row's value in clinical words: 'Weight 68 kg', 'Diabetes: yes', 'Age 60–69 years', 'Sex: male'."""
    label = feature.label
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{label}: unknown"
    if feature.type == "binary":
        return f"{label}: {'yes' if float(value) >= 0.5 else 'no'}"
    if not feature.is_numeric:
        return f"{label}: {value}"
    if feature.unit == "decades":
        name = re.split(r" decade| \(", label)[0]
        lo = int(round(10 * float(value)))
        return f"{name} {lo}–{lo + 9} years"
    v = float(value)
    number, unit = (display_value(value) if v.is_integer() or abs(v) >= 1000 else f"{v:.1f}"), feature.unit
    scale = re.fullmatch(r"points \((.+)\)", unit)
    if scale:
        shown = f"{number} (scale {scale.group(1)})"
    elif not unit or unit.lower() in label.lower():
        shown = number
    else:
        shown = f"{number} {unit}"
    return f"{label} {shown}" if len(label.split()) <= 3 else f"{label}: {shown}"


def arm_phrase(arm: str, versus: str | None = None) -> str:
    return f"Treatment: {arm}" if versus is None else f"Treatment: {arm} instead of {versus}"


_LABELS: dict = {}  # id(model) -> (spec, model, names and labels): the last few models' (batch reports ask often)


def feature_labels(spec: CohortSpec, model: BoostedModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    known = _LABELS.get(id(model))
    if known is not None and known[0] is spec and known[1] is model:  # held, so the id is not reused
        return known[2]
    if len(_LABELS) >= 16:
        _LABELS.clear()
    out = _LABELS[id(model)] = (spec, model, _feature_labels(spec, model))
    return out[2]


def _feature_labels(spec: CohortSpec, model: BoostedModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = tuple(model.design.columns)
    labels = tuple("Treatment arm" if n == ARM_FEATURE else spec.feature(n).label for n in names)
    return names, labels


def row_values(spec: CohortSpec, row: pd.DataFrame, arm: str | None) -> tuple:
    first = row.iloc[0].to_dict()
    vals = [first[n] for n in spec.feature_names]
    return tuple(vals + ([arm] if arm is not None else []))


def row_phrases(spec: CohortSpec, features: tuple[str, ...], values: tuple, *, versus: str | None = None) -> tuple:
    return tuple(arm_phrase(v, versus) if n == ARM_FEATURE else _phrase(spec.feature(n), v)
                 for n, v in zip(features, values))


_PHRASES: dict = {}  # id(feature) -> (feature, {(type, value): phrase}): a batch repeats the same few values


def _phrase(feature: FeatureSpec, value) -> str:
    """:func:`clinical_phrase`, remembered per feature and (type, value), a few thousand values each."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return clinical_phrase(feature, value)
    held = _PHRASES.get(id(feature))
    if held is None or held[0] is not feature:  # the feature is held, so its id is not reused meanwhile
        if len(_PHRASES) >= 256:
            _PHRASES.clear()
        held = _PHRASES[id(feature)] = (feature, {})
    known, key = held[1], (type(value), value)
    try:
        return known[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value
        return clinical_phrase(feature, value)
    if len(known) >= 4096:
        known.clear()
    phrase = known[key] = clinical_phrase(feature, value)
    return phrase


# --- explanations -------------------------------------------------------------------------------------------
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _factor(change: float, log_change: float, at: float) -> float:
    """(change in points) / (change in log-odds); the derivative 100·p(1−p) when the log-odds do not move."""
    if abs(log_change) < 1e-12:
        p = _sigmoid(at)
        return 100.0 * p * (1.0 - p)
    return change / log_change


def patient_phrases(spec: CohortSpec, model: BoostedModel, values: tuple) -> tuple:
    """The phrases of a patient's own feature values (:func:`row_values`), the same under every arm."""
    names, _labels = feature_labels(spec, model)
    return row_phrases(spec, names[:len(values)], values)


def explain_arm(spec: CohortSpec, model: BoostedModel, row, arm: str, base: float,
                contrib: np.ndarray, *, phrases: tuple | None = None, logit: float | None = None) -> Explanation:
    """One arm's risk: log-odds contributions and their exact split in percentage points. ``row`` is the
    patient's one-row frame or already its feature values (:func:`row_values`); ``phrases``, if given,
    are those values' :func:`patient_phrases` (computed once for all arms), and ``logit``
    ``base + contrib.sum()`` (computed for many rows at once)."""
    names, labels = feature_labels(spec, model)
    values = (row if isinstance(row, tuple) else row_values(spec, row, None)) + (arm,)
    logit = float(base + contrib.sum()) if logit is None else float(logit)
    base_p, out_p = 100.0 * _sigmoid(base), 100.0 * _sigmoid(logit)
    k = _factor(out_p - base_p, logit - base, logit)
    plain = PlainView(
        POINTS, base_p, out_p, k * contrib, base_label="Starting point: the model's average trial patient",
        method=ARM_METHOD,
        summary=(f"Estimated risk with {arm}: {out_p:.1f}%. The model starts from {base_p:.1f}% for an average "
                 f"patient in the trial; this patient's characteristics and the treatment move it by "
                 f"{signed(out_p - base_p)} points."))
    phrases = row_phrases(spec, names, values) if phrases is None else phrases + (arm_phrase(arm),)
    return Explanation(f"Risk under {arm}", "log-odds", float(base), logit, names, labels, values, contrib,
                       phrases, plain)


def explain_difference(arm: Explanation, versus: Explanation, *, risk_modelling: bool = False) -> Explanation:
    """Why one arm differs from another for this patient, in log odds ratio and in percentage points.

    Built from the two arms' explanations of the same patient: both share the base value, so the
    difference's base value is 0 and each contribution is the per-feature difference; the treatment row
    holds the part not modified by the patient's features. In points, the rows add up exactly to the
    headline's absolute risk difference (favoured − versus).
    """
    a, b = arm.title.removeprefix("Risk under "), versus.title.removeprefix("Risk under ")
    diff = arm.shap - versus.shap
    base = arm.base_value - versus.base_value
    values = arm.values[:-1] + (f"{a} vs {b}",)
    phrases = (arm.phrases[:-1] + (arm_phrase(a, b),)) if arm.phrases else ()
    title, output = f"Difference {a} − {b}", base + float(diff.sum())
    if arm.plain is None or versus.plain is None:
        return Explanation(title, "log odds ratio", base, output, arm.features, arm.labels, values, diff, phrases)
    points = arm.plain.output - versus.plain.output
    k = _factor(points, arm.output - versus.output, arm.output)
    rows = k * diff
    treatment = float(rows[_arm_rows(arm.features)].sum())
    own = points - treatment
    if risk_modelling:
        log_or = float(diff[_arm_rows(arm.features)].sum())
        at_average = 100.0 * (_sigmoid(arm.base_value + log_or) - _sigmoid(arm.base_value))
        summary = (f"Estimated risk with {a} minus with {b}: {signed(points)} points. The model gives every patient the "
                   f"trial's average relative effect of {a} versus {b}: differences in benefit between patients were "
                   "not validated in this trial, so none is claimed. The difference in points therefore depends only "
                   f"on this patient's risk without treatment: {signed(at_average)} points for the trial's average "
                   f"patient, {signed(points)} points at this patient's risk.")
    else:
        summary = (f"Estimated risk with {a} minus with {b}: {signed(points)} points. Of this, {signed(treatment)} "
                   f"points are the treatment itself (the average effect of {a} versus {b} in the trial, at this "
                   f"patient's level of risk); this patient's own characteristics move it by {signed(own)} points "
                   "(treatment-covariate interactions validated on the training split).")
    plain = PlainView(POINTS, 0.0, points, rows, base_label="No difference", method=DIFFERENCE_METHOD,
                      treatment=treatment, patient_features=own, summary=summary)
    return Explanation(title, "log odds ratio", base, output, arm.features, arm.labels, values, diff, phrases, plain)


@functools.lru_cache(maxsize=64)
def _arm_rows(features: tuple[str, ...]) -> np.ndarray:
    """Where the treatment rows are among ``features`` (a read-only mask)."""
    mask = np.array([f == ARM_FEATURE for f in features], dtype=bool)
    mask.flags.writeable = False
    return mask


def explain_dose(spec: CohortSpec, model: BoostedModel, row: pd.DataFrame) -> Explanation:
    base, contrib = model.contributions(row)
    return explain_dose_from(spec, model, row_values(spec, row, None), base, contrib)


def explain_dose_from(spec: CohortSpec, model: BoostedModel, values: tuple, base: np.ndarray,
                      contrib: np.ndarray) -> Explanation:
    """:func:`explain_dose` from the patient's feature values and the model's contributions (one row)."""
    names, labels = feature_labels(spec, model)
    b, out = float(base[0]), float(base[0] + contrib[0].sum())
    plain = PlainView("mg/week", b, out, contrib[0], base_label="Starting point: the cohort's average dose",
                      method=DOSE_METHOD,
                      summary=(f"Predicted weekly dose: {out:.1f} mg/week. The model starts from {b:.1f} mg/week "
                               f"for an average patient in the cohort; this patient's characteristics move it by "
                               f"{signed(out - b)} mg/week."))
    return Explanation("Predicted weekly dose", "mg/week", b, out, names, labels, values, contrib[0],
                       row_phrases(spec, names, values), plain)

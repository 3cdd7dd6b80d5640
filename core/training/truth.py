"""What counts as the right answer in a training case: the patient's observed outcome, never the model's output.

Two kinds of case:

- ``dose`` (warfarin): the trainee proposes a stable weekly dose in mg/week; the truth is the patient's
  actual stable dose; an answer is *correct* when it is within 20% of the truth (the IWPC criterion,
  ``|x - y| <= 0.2 * y``).
- ``risk`` (arm cohorts): the trainee estimates the risk (0-1) of the outcome under the arm the patient
  actually received; the truth is the observed outcome at the horizon (1 event by the horizon, 0 event-free
  at it). A patient censored before the horizon has no known outcome and is not used: it is never counted as
  a non-event. An estimate is *correct* when it lies on the side of 50% that happened: at least 50% when the
  event occurred, below 50% when it did not. Estimates are also scored with the Brier score ``(x - y)^2``.

Two answers are *the same* (for "the final answer followed the advice" and "kept the initial answer") by the
same rule that makes an answer correct, so agreement and correctness are judged alike: doses within 20% of the
reference (``|x - ref| <= 0.2 * ref``, the IWPC tolerance); risks on the same side of the 50% decision
threshold (the decision they imply is the same). A trainee who moves toward wrong advice without changing the
decision has therefore kept their answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DOSE, RISK = "dose", "risk"
KINDS = (DOSE, RISK)
DOSE_TOLERANCE = 0.20     # IWPC: within 20% of the actual stable dose
RISK_THRESHOLD = 0.5      # a risk estimate is on the side of 50% that happened
DOSE_SAME = DOSE_TOLERANCE  # one tolerance for "the same answer" and for "correct": |x - ref| <= 20% of ref

ARM_COLUMN = "arm"        # core.data.cohorts.ARM: the arm each patient received
ID_COLUMN = "patient_id"  # core.data.cohorts.PATIENT_ID


def is_correct(kind: str, x: float, y: float) -> bool:
    """``ok(x)``: is answer ``x`` correct for truth ``y`` (see the module docstring)."""
    if kind == DOSE:
        return bool(abs(x - y) <= DOSE_TOLERANCE * y)
    if kind == RISK:
        return bool((x >= RISK_THRESHOLD) == (y >= 0.5))
    raise ValueError(f"kind must be one of {KINDS}. Got {kind!r} instead.")


def is_same(kind: str, x: float, reference: float) -> bool:
    """``x = reference`` under the equivalence rule: within 20% of the reference dose, or the same side of the
    risk threshold (the same decision)."""
    if kind == DOSE:
        return bool(abs(x - reference) <= DOSE_SAME * abs(reference))
    return bool((x >= RISK_THRESHOLD) == (reference >= RISK_THRESHOLD))


@dataclass(frozen=True)
class CaseTruth:
    """One patient usable as a training case: its identifier, the arm it received (None for a dose cohort)
    and the truth (mg/week, or the observed 0/1 outcome at the horizon)."""

    patient_id: str
    truth: float
    arm: str | None = None

    def to_dict(self) -> dict:
        return {"patient_id": self.patient_id, "truth": self.truth, "arm": self.arm}


def kind_of(spec) -> str:
    """``dose`` for a dose cohort, ``risk`` for an arm cohort."""
    return DOSE if spec.is_dose else RISK


def case_truths(spec, frame: pd.DataFrame) -> list[CaseTruth]:
    """The truth of every patient in ``frame`` whose outcome is known (rows censored before the horizon and
    rows with a missing outcome are left out)."""
    o = spec.outcome
    ids = frame[ID_COLUMN].astype(str).to_numpy()
    arms = frame[ARM_COLUMN].astype(str).to_numpy() if not spec.is_dose and ARM_COLUMN in frame else [None] * len(ids)
    if o.type in ("continuous", "binary"):
        y = pd.to_numeric(frame[o.column], errors="coerce").to_numpy(float)
    else:
        time = pd.to_numeric(frame[o.time_column], errors="coerce").to_numpy(float)
        event = pd.to_numeric(frame[o.event_column], errors="coerce").to_numpy(float)
        y = np.full(len(ids), np.nan)
        y[(event == 1) & (time <= o.horizon)] = 1.0
        y[(time > o.horizon) | ((time == o.horizon) & (event == 0))] = 0.0
    return [CaseTruth(str(pid), float(v), None if arm is None else str(arm))
            for pid, v, arm in zip(ids, y, arms) if np.isfinite(v)]

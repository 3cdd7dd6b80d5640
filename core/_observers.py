"""Observers of what is shown: the kinds of result, the ``Shown`` event and the one place that notifies them.

:mod:`core.service` hands every result a person will see to :func:`_shown` before returning it; the audit
log and access checks register with :func:`observe`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# kinds of result handed to observers
PATIENT_REPORT = "patient_report"
REFUSED_RECORD = "refused_record"
WHAT_IF = "what_if"
COUNTERFACTUAL = "counterfactual"
EFFECT_CURVE = "effect_curve"
MODEL_CARD = "model_card"
SUBGROUP_AUDIT = "subgroup_audit"
CALIBRATION = "calibration_curve"
CDS_CARD = "cds_card"
CDS_FEEDBACK = "cds_feedback"
EXPORT = "export"
DECISION = "decision"
BUNDLE_TRAINED = "bundle_trained"
BUNDLE_REFUSED = "bundle_refused"
MONITORING = "monitoring"
# trainee mode (core/service/training.py): the only kinds whose results may carry manipulated advice
TRAINING_SESSION = "training_session"
TRAINING_CASE = "training_case"
TRAINING_ADVICE = "training_advice"
TRAINING_ANSWER = "training_answer"
TRAINING_DEBRIEF = "training_debrief"
TRAINING_REPORT = "training_report"
TRAINING_KINDS = (TRAINING_SESSION, TRAINING_CASE, TRAINING_ADVICE, TRAINING_ANSWER, TRAINING_DEBRIEF,
                  TRAINING_REPORT)
SIGN_IN = "sign_in"          # a person signed in (or, in local mode, started a session): once per session
SIGN_OUT = "sign_out"
BOARD_MEETING = "board_meeting"          # a tumor-board meeting created
BOARD_CASE = "board_case"                # a case added (form, test patient, CSV rows), reordered or triaged
BOARD_SNAPSHOT = "board_snapshot"        # a case presented: its frozen snapshot (and the current model's, if changed)
BOARD_DECISION = "board_decision"        # a version of the board's decision
BOARD_SIGNOFF = "board_signoff"          # the chair's sign-off of a decision version
BOARD_FOLLOWUP = "board_followup"        # implemented or not, and why
BOARD_COMMENT = "board_comment"          # a board member's comment on a case
BOARD_VIEW = "board_view"                # a meeting's agenda, snapshots and decisions shown
SITE_VALIDATION = "site_validation"
FEDERATED_COMPARISON = "federated_comparison"  # a federated training run and its four-regime comparison


@dataclass(frozen=True)
class Shown:
    """One result about to be shown: what kind, from which bundle (None for none), the result object
    itself, the patient's identifier and record when there is one, and plain details (texts, integers)."""

    kind: str
    bundle_id: str | None
    bundle_sha256: str | None
    result: Any
    patient_id: str | None = None
    record: Mapping[str, Any] | None = None
    details: Mapping[str, Any] | None = None


_OBSERVERS: list[Callable[[Shown], None]] = []


def observe(callback: Callable[[Shown], None]) -> Callable[[], None]:
    """Call ``callback(shown)`` for every result this module returns; returns a function that stops it.

    An observer that raises stops the result from being returned: nothing is shown that could not be
    recorded.
    """
    _OBSERVERS.append(callback)
    return lambda: _OBSERVERS.remove(callback) if callback in _OBSERVERS else None


def _shown(kind: str, bundle: Any, result, *, patient_id: str | None = None, record=None,
           details: Mapping[str, Any] | None = None):
    event = Shown(kind, bundle and bundle.bundle_id, bundle and bundle.sha256, result, patient_id, record, details)
    for callback in list(_OBSERVERS):
        callback(event)
    return result

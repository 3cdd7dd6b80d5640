"""Trainee mode: practise deciding with machine advice that is sometimes deliberately wrong, then read the scores.

Cases come from a bundle's held-out test split only; the truth is the observed outcome (never the model's
output); a seeded share of the advice is made wrong by construction; the scores follow the exact
definitions in :mod:`core.training.scores`; answers are read as typed, and the final one starts from the
trainee's own first answer (:mod:`core.training.answers`). Storage and the order of answers (decide first, then advice)
and its value objects are in :mod:`core.training.sessions`, the rows in :mod:`core.training.repository`; the
service applying them is :mod:`core.service.training`.
"""

from .answers import (DOSE_LIMITS, AnswerError, answer_text, final_answer_start, parse_answer, parse_confidence,
                      shown_answer, unit)
from .cases import (ADVICE_FIRST, CONDITIONS, DECIDE_FIRST, DebriefCase, SessionSettings, TrainingCase,
                    display_cues)
from .sampling import (DOSE_RANGE, DOSE_SHIFT, MAX_CASES, RISK_MARGIN, TrainingSetupError, manipulate,
                       manipulated_positions, sample_cases, shown_advice)
from .scores import (ESTIMATE, INSUFFICIENT, MIN_N, NOT_AVAILABLE, SCORE_LABELS, SCORE_NAMES, CaseRow, describe, Score, TrainingScores,
                     score_rows, session_scores, wilson_interval)
from .sessions import CONSENT_TEXT, Debrief, TrainingError, TrainingReport, TrainingSession
from .truth import (DOSE, DOSE_SAME, DOSE_TOLERANCE, KINDS, RISK, RISK_THRESHOLD, CaseTruth,
                    case_truths, is_correct, is_same, kind_of)

__all__ = [
    "DOSE_LIMITS", "AnswerError", "answer_text", "final_answer_start", "parse_answer", "parse_confidence",
    "shown_answer", "unit",
    "ADVICE_FIRST", "CONDITIONS", "CaseRow", "CaseTruth", "DECIDE_FIRST", "DOSE", "DOSE_RANGE", "DOSE_SAME",
    "DOSE_SHIFT", "DOSE_TOLERANCE", "DebriefCase", "ESTIMATE", "INSUFFICIENT", "KINDS", "MAX_CASES", "MIN_N",
    "NOT_AVAILABLE", "RISK", "RISK_MARGIN", "RISK_THRESHOLD", "SCORE_LABELS", "SCORE_NAMES", "Score",
    "SessionSettings", "TrainingCase", "TrainingScores", "TrainingSetupError", "case_truths", "describe", "display_cues",
    "is_correct", "is_same", "kind_of", "manipulate", "manipulated_positions", "sample_cases", "score_rows", "session_scores",
    "shown_advice", "wilson_interval",
    "CONSENT_TEXT", "Debrief", "TrainingError", "TrainingReport", "TrainingSession",
]

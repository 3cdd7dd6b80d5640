"""The kinds of warning a patient's report can carry: one enumeration, so a producer cannot invent a kind that the
screens do not know (each kind's title and default severity are in :mod:`core.reporting.banners`).

A :class:`WarningKind` is a ``str`` (``StrEnum``). Producers write its ``.value`` into a warning, so reports hold plain
text (JSON-ready as they come), and any ``"kind"`` reads back with ``WarningKind(text)``, which refuses an unknown
kind.
"""

from __future__ import annotations

from enum import StrEnum


class WarningKind(StrEnum):
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"   # an interval too wide to support any statement
    OUT_OF_DISTRIBUTION = "out_of_distribution"       # a value, or the whole patient, outside the training data
    OUTSIDE_EVIDENCE = "outside_evidence"             # outside what the trial or cohort studied (a spec caveat)
    WORSE_PERFORMANCE = "worse_performance"           # the model was less accurate for one of the patient's groups
    UNDERREPRESENTED = "underrepresented"             # few patients like this one in the training data
    NON_RANDOMIZED = "non_randomized"                 # arms were not randomized in the training data
    IMPLAUSIBLE_VALUE = "implausible_value"           # an unusual value: please check
    MISSING_VALUE = "missing_value"                   # an input left empty

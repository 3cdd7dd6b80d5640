"""The inputs a report used, as entered and in clinical words: unknown stays unknown, unusual values marked."""

from __future__ import annotations

import re
from typing import Mapping

from ..data.spec import CohortSpec
from ..explain.explanation import clinical_phrase
from .._kinds import WarningKind

NOTE_UNKNOWN = "not entered: the estimate does not assume a value"
NOTES = {WarningKind.IMPLAUSIBLE_VALUE: "unusual value: please check",
         WarningKind.OUT_OF_DISTRIBUTION: "outside the training data"}


def input_rows(spec: CohortSpec, report: Mapping) -> list[dict]:
    """One row per feature of ``report`` (a ``PatientReport.to_dict()``): ``Input``, ``Value``, ``Note``."""
    flagged = {}
    for w in report.get("warnings", ()):
        name = w.get("field") or w.get("feature")
        if w.get("kind") in NOTES and name:
            flagged.setdefault(name, NOTES[w["kind"]])
    rows = []
    for f in spec.features:
        value = report["patient"].get(f.name)
        label = re.split(r" decade| \(", f.label)[0] if f.unit == "decades" else f.label  # 'Age', not its coding
        phrase = clinical_phrase(f, value)
        shown = phrase[len(label):].lstrip(": ").strip() if phrase.startswith(label) else phrase
        note = NOTE_UNKNOWN if value is None else ""
        rows.append({"Input": label, "Value": shown or phrase, "Note": flagged.get(f.name, note)})
    return rows

"""Caveats a cohort spec declares: where the patient's question lies outside what the trial or cohort measured.

A caveat names one feature and a rule on its value (``in`` a list of categories, ``below``/``above`` a number,
``outside`` a range). It fires only on a known value: an unknown value never triggers a caveat, and never
silences one either — the report lists unknown inputs separately. Each caveat carries its source (a
guideline or the trial's eligibility criteria), so the clinician can check it. A high-severity caveat may carry a
``headline``: the guideline's own advice (e.g. "choose the dose clinically"), which then becomes the report's
headline state, before the model's number (:data:`core.reporting.summary.STATE_GUIDELINE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .._errors import SpecError
from .._format import short_number
from .._kinds import WarningKind

RULES = ("in", "below", "above", "outside")
SEVERITIES = ("high", "medium", "low")

MSG_BAD_CAVEAT = "Caveat {i} of the cohort spec: {problem}."


@dataclass(frozen=True)
class Caveat:
    """``feature`` satisfying ``rule`` on ``values`` raises ``message`` (``{value}`` is the patient's value)."""

    id: str
    feature: str
    rule: str
    values: tuple
    severity: str
    message: str
    source: str = ""
    headline: str = ""  # a guideline's advice that comes before the model's number when the caveat applies

    def applies(self, value: Any) -> bool:
        if value is None:
            return False
        if self.rule == "in":
            return str(value) in {str(v) for v in self.values}
        x = float(value)
        if self.rule == "below":
            return x < float(self.values[0])
        if self.rule == "above":
            return x > float(self.values[0])
        return not float(self.values[0]) <= x <= float(self.values[1])


def parse_caveats(raw: Any, feature_names: list[str]) -> tuple[Caveat, ...]:
    """The spec's ``caveats`` list, checked; raises SpecError naming the caveat and what is wrong."""
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        raise SpecError("The cohort spec's 'caveats' must be a list.")
    out = []
    for i, c in enumerate(raw):
        def bad(problem: str):
            return SpecError(MSG_BAD_CAVEAT.format(i=i, problem=problem))
        if not isinstance(c, dict):
            raise bad("expected an object")
        missing = [k for k in ("id", "feature", "rule", "values", "severity", "message") if k not in c]
        if missing:
            raise bad(f"missing {missing}")
        if c["feature"] not in feature_names:
            raise bad(f"unknown feature {c['feature']!r}")
        if c["rule"] not in RULES:
            raise bad(f"rule must be one of {list(RULES)}, got {c['rule']!r}")
        if c["severity"] not in SEVERITIES:
            raise bad(f"severity must be one of {list(SEVERITIES)}, got {c['severity']!r}")
        values = tuple(c["values"]) if isinstance(c["values"], (list, tuple)) else (c["values"],)
        need = {"in": None, "below": 1, "above": 1, "outside": 2}[c["rule"]]
        if (need is None and not values) or (need is not None and len(values) != need):
            raise bad(f"rule {c['rule']!r} needs {'one or more categories' if need is None else need} value(s), "
                      f"got {list(values)!r}")
        if need is not None and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise bad(f"rule {c['rule']!r} needs numbers, got {list(values)!r}")
        headline = c.get("headline", "")
        if not isinstance(headline, str):
            raise bad("'headline' must be text: the guideline's advice shown before the model's number")
        if headline and c["severity"] != "high":
            raise bad("a caveat with a 'headline' must have severity 'high'")
        out.append(Caveat(str(c["id"]), str(c["feature"]), str(c["rule"]), values, str(c["severity"]),
                          str(c["message"]), str(c.get("source", "")), headline))
    return tuple(out)


def caveat_warnings(spec, values: Mapping[str, Any]) -> list[dict]:
    """The warnings for the caveats that apply to a validated patient's ``values``."""
    out = []
    for c in spec.caveats:
        value = values.get(c.feature)
        if not c.applies(value):
            continue
        f = spec.feature(c.feature)
        shown = short_number(value) if f.is_numeric else str(value)
        w = {"kind": WarningKind.OUTSIDE_EVIDENCE.value, "severity": c.severity, "caveat": c.id, "feature": c.feature,
             "value": value, "source": c.source,
             "message": c.message.replace("{value}", shown + (f" {f.unit}" if f.is_numeric and f.unit else ""))}
        if c.headline:
            w["headline"] = c.headline
        out.append(w)
    return out

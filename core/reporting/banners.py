"""Calm warnings: every warning gets a severity, and the screen shows at most a few banners, one per kind.

A warning that fires for everyone is noise. The report keeps every warning (with its numbers) for the
record; :func:`shown_warnings` leaves out those that would print a number the headline withholds;
:func:`digest` decides what is prominent: high and medium warnings, consolidated into one banner
per kind, most serious first, at most ``max_banners``; the rest (and every low-severity note) go into one
"more notes" list that the page shows folded.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._json import jsonable
from .._kinds import WarningKind

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
MAX_BANNERS = 3

# kind -> (plain-words title, severity when the producer gave none)
KINDS = {
    WarningKind.INSUFFICIENT_EVIDENCE: ("Insufficient evidence", "high"),
    WarningKind.OUT_OF_DISTRIBUTION: ("Outside the training data", "high"),
    WarningKind.OUTSIDE_EVIDENCE: ("Outside what the trial or cohort studied", "medium"),
    WarningKind.WORSE_PERFORMANCE: ("The model was less accurate for a group this patient belongs to", "medium"),
    WarningKind.UNDERREPRESENTED: ("Few patients like this in the training data", "medium"),
    WarningKind.NON_RANDOMIZED: ("Arms were not randomized", "medium"),
    WarningKind.IMPLAUSIBLE_VALUE: ("Unusual value: please check", "medium"),
    WarningKind.MISSING_VALUE: ("Missing input", "low"),
}
assert set(KINDS) == set(WarningKind), "every kind of warning has a title and a default severity"
MSG_UNKNOWN_KIND = "A warning of unknown kind {kind!r} (known: {known}): every producer uses core._kinds.WarningKind."


def kind_of(warning: dict) -> WarningKind:
    """The warning's kind; a kind outside :class:`~core._kinds.WarningKind` is a bug of ours, refused by name
    (it used to become a medium banner with an empty title)."""
    try:
        return WarningKind(warning.get("kind"))
    except ValueError:
        raise ValueError(MSG_UNKNOWN_KIND.format(kind=warning.get("kind"), known=", ".join(WarningKind))) from None


def with_severity(warning: dict) -> dict:
    """The warning with a ``severity`` (its own, else the default for its kind)."""
    if warning.get("severity") in SEVERITY_ORDER:
        return warning
    return {**warning, "severity": KINDS[kind_of(warning)][1]}


@dataclass(frozen=True)
class Banner:
    """One kind of warning, consolidated: its title, the most serious severity, and each message."""

    kind: str
    severity: str
    title: str
    messages: tuple[str, ...]

    def to_dict(self) -> dict:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class WarningDigest:
    """What the page shows prominently (``banners``) and what it folds away (``more``)."""

    banners: tuple[Banner, ...]
    more: tuple[Banner, ...]

    def to_dict(self) -> dict:
        return {"banners": [b.to_dict() for b in self.banners], "more": [b.to_dict() for b in self.more]}


def _title(kind: str) -> str:
    return KINDS[WarningKind(kind)][0]


def digest(warnings: list[dict] | tuple[dict, ...], *, max_banners: int = MAX_BANNERS,
           fold: tuple[str, ...] = ()) -> WarningDigest:
    """Group ``warnings`` by kind; high/medium kinds become banners (at most ``max_banners``), the rest fold.

    ``fold`` names kinds that are already said elsewhere on screen (e.g. insufficient evidence in the
    headline): they go to the folded list whatever their severity.
    """
    groups: dict[str, list[dict]] = {}
    for w in map(with_severity, warnings):
        groups.setdefault(kind_of(w), []).append(w)
    kind_order = list(KINDS)
    consolidated = []
    for kind, items in groups.items():
        severity = min((w["severity"] for w in items), key=SEVERITY_ORDER.__getitem__)
        messages = tuple(dict.fromkeys(str(w.get("message", "")) for w in items))
        consolidated.append(Banner(kind, severity, _title(kind), messages))
    consolidated.sort(key=lambda b: (SEVERITY_ORDER[b.severity],
                                     kind_order.index(b.kind) if b.kind in kind_order else len(kind_order)))
    prominent = [b for b in consolidated if b.severity != "low" and b.kind not in fold]
    banners = tuple(prominent[:max_banners])
    more = tuple(b for b in consolidated if b not in banners)
    return WarningDigest(banners, more)


def shown_warnings(report: dict) -> list[dict]:
    """The warnings a reader is shown beside the report's headline (on screen and in every export alike).

    When the evidence is insufficient no number is shown, so the insufficient-evidence warnings, which carry
    the very interval that was too wide, are left out: the summary's reasons say the same in words.
    """
    items = list(report.get("warnings") or ())
    if (report.get("summary") or {}).get("state") != "insufficient_evidence":
        return items
    return [w for w in items if w.get("kind") != WarningKind.INSUFFICIENT_EVIDENCE]

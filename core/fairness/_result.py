"""The subgroup audit as a value: query it like fairlearn's ``MetricFrame``, store it as plain JSON.

:class:`SubgroupAudit` holds one :class:`MetricValue` per metric overall (``.overall``) and per
group (``.groups`` / ``.group(attribute, group)`` / the tidy ``.by_group`` table); ``.flagged()``
lists where a group is worse than the rest of the patients after correcting for every test made. A metric computed elsewhere (c-for-benefit by group) is
added with :meth:`SubgroupAudit.with_metric`, so the audit owns every metric it reports.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

import pandas as pd

from .._errors import BundleIntegrityError
from .._format import finite_or_none
from .._json import jsonable
from .groups import INTERSECTION_SEPARATOR, intersection_name, is_intersection

__all__ = ["MetricValue", "GroupResult", "FlaggedMetric", "SubgroupAudit"]

REASON_TOO_FEW = "{kind}={count} < {minimum}"  # why a metric is insufficient data: "n=12 < 50", "events=3 < 10"
REASON_NOT_COMPUTED = "not computed"  # a metric added with with_metric that has no value for this group

MSG_BAD_DICT = "Not a subgroup audit dict (as written by SubgroupAudit.to_dict()): {problem}."
MSG_OLD_FORMAT = ("this audit has format version {got}, written before flags compared each group with the rest and "
                  "were corrected for multiple testing (version {expected}); train the bundle again")
AUDIT_FORMAT_VERSION = 2
MSG_METRIC_EXISTS = "The audit already reports a metric {name!r}; with_metric adds a new one."
MSG_NO_GROUP = "The audit has no group {group!r} of {attribute!r}. Audited attributes: {attributes}."


@dataclass(frozen=True)
class MetricValue:
    """One metric for one group: a value with its bootstrap interval, or insufficient data.

    For groups (not the overall sample), ``complement`` is the metric on every other audited patient
    (the rest), ``difference`` is group minus rest with its bootstrap interval. For a metric that may
    flag, ``p_value`` is the one-sided p-value that the group is worse than the rest, ``p_adjusted``
    the p-value corrected for every test of the audit and ``correction`` the method ("holm",
    "fdr_bh"); ``flagged`` is ``p_adjusted < alpha`` (see the audit module). ``compared=False``
    marks a metric whose difference is not estimated (one added with
    :meth:`SubgroupAudit.with_metric`, e.g. c-for-benefit): it is stored with its flag and no
    difference. ``note`` is an optional remark stored with the value.
    """

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    insufficient_data: bool = False
    reason: str | None = None
    difference: float | None = None
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    flagged: bool = False
    compared: bool = True
    note: str | None = None
    complement: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    correction: str | None = None

    @property
    def tested(self) -> bool:
        """Whether this metric entered the audit's family of tests (it has a p-value)."""
        return self.p_value is not None

    @classmethod
    def insufficient(cls, reason: str) -> "MetricValue":
        return cls(insufficient_data=True, reason=reason)

    def to_dict(self, *, with_difference: bool = True) -> dict:
        if self.insufficient_data:
            return {"insufficient_data": True, "reason": self.reason}
        out = {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}
        if not self.compared:
            out["flagged"] = self.flagged
        elif with_difference:
            out.update(flagged=self.flagged, complement=self.complement, difference=self.difference,
                       difference_ci_low=self.difference_ci_low,
                       difference_ci_high=self.difference_ci_high)
            if self.p_value is not None:
                out.update(p_value=self.p_value, p_adjusted=self.p_adjusted, correction=self.correction)
        if self.note is not None:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, raw: Mapping) -> "MetricValue":
        if raw.get("insufficient_data"):
            return cls.insufficient(str(raw.get("reason", "")))
        note = raw.get("note")
        return cls(value=finite_or_none(raw.get("value")), ci_low=finite_or_none(raw.get("ci_low")),
                   ci_high=finite_or_none(raw.get("ci_high")), difference=finite_or_none(raw.get("difference")),
                   difference_ci_low=finite_or_none(raw.get("difference_ci_low")),
                   difference_ci_high=finite_or_none(raw.get("difference_ci_high")),
                   flagged=bool(raw.get("flagged", False)),
                   compared="difference" in raw or "flagged" not in raw,
                   note=None if note is None else str(note), complement=finite_or_none(raw.get("complement")),
                   p_value=finite_or_none(raw.get("p_value")), p_adjusted=finite_or_none(raw.get("p_adjusted")),
                   correction=None if raw.get("correction") is None else str(raw["correction"]))


@dataclass(frozen=True)
class GroupResult:
    """One group of one attribute (or intersection), e.g. attribute 'race x sex', group 'Black x female'."""

    attribute: str
    group: str
    n: int
    share: float
    metrics: dict[str, MetricValue]
    train_n: int | None = None
    train_share: float | None = None

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "group": self.group, "n": self.n, "share": self.share,
                "train_n": self.train_n, "train_share": self.train_share,
                "metrics": {k: v.to_dict() for k, v in self.metrics.items()}}

    @classmethod
    def from_dict(cls, raw: Mapping) -> "GroupResult":
        return cls(attribute=str(raw["attribute"]), group=str(raw["group"]), n=int(raw["n"]),
                   share=float(raw["share"]),
                   metrics={k: MetricValue.from_dict(v) for k, v in raw["metrics"].items()},
                   train_n=None if raw.get("train_n") is None else int(raw["train_n"]),
                   train_share=finite_or_none(raw.get("train_share")))


class FlaggedMetric(NamedTuple):
    attribute: str
    group: str
    metric: str


_BY_GROUP_COLUMNS = ["attribute", "group", "n", "share", "train_n", "train_share", "metric", "value",
                     "ci_low", "ci_high", "insufficient", "reason", "complement", "difference", "difference_ci_low",
                     "difference_ci_high", "p_value", "p_adjusted", "flagged"]


@dataclass(frozen=True)
class SubgroupAudit:
    """The result of :func:`audit_subgroups`: query it, or store it with :meth:`to_dict`.

    Attributes
    ----------
    n : int
        Patients audited.
    overall : dict[str, MetricValue]
        Each metric on the whole sample.
    groups : tuple[GroupResult, ...]
        Every group of every attribute, then of every pairwise intersection.
    settings : dict
        How the audit was run (task, n_boot, seed, confidence, min_sizes, attributes, ...).
    """

    n: int
    overall: dict[str, MetricValue]
    groups: tuple[GroupResult, ...]
    settings: dict = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.overall)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Audited attributes, then their intersections ('race x sex'), in report order."""
        return tuple(dict.fromkeys(g.attribute for g in self.groups))

    @property
    def by_group(self) -> pd.DataFrame:
        """Tidy table: one row per (attribute, group, metric)."""
        rows = []
        for g in self.groups:
            for name, mv in g.metrics.items():
                rows.append([g.attribute, g.group, g.n, g.share, g.train_n, g.train_share, name,
                             mv.value, mv.ci_low, mv.ci_high, mv.insufficient_data, mv.reason, mv.complement,
                             mv.difference, mv.difference_ci_low, mv.difference_ci_high, mv.p_value,
                             mv.p_adjusted, mv.flagged])
        frame = pd.DataFrame(rows, columns=_BY_GROUP_COLUMNS)
        for col in ("value", "ci_low", "ci_high", "complement", "difference", "difference_ci_low",
                    "difference_ci_high", "p_value", "p_adjusted", "share", "train_share"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return frame

    def group(self, attribute: str, group: str) -> GroupResult:
        """One audited group, e.g. ``audit.group("race x sex", "Black x female")``; KeyError if not audited."""
        for g in self.groups:
            if g.attribute == attribute and g.group == group:
                return g
        raise KeyError(MSG_NO_GROUP.format(group=group, attribute=attribute, attributes=", ".join(self.attributes)))

    def difference(self, metric: str | None = None) -> pd.DataFrame:
        """Group minus the rest of the patients, with bootstrap interval, p-values and flag, per reportable metric."""
        cols = ["attribute", "group", "metric", "difference", "difference_ci_low",
                "difference_ci_high", "p_value", "p_adjusted", "flagged"]
        frame = self.by_group
        frame = frame[~frame["insufficient"]]
        if metric is not None:
            frame = frame[frame["metric"] == metric]
        return frame[cols].reset_index(drop=True)

    def flagged(self) -> list[FlaggedMetric]:
        """The (attribute, group, metric) entries where the group is worse than the rest after correction."""
        return [FlaggedMetric(g.attribute, g.group, name)
                for g in self.groups for name, mv in g.metrics.items() if mv.flagged]

    def groups_of(self, patient_attrs: Mapping[str, Any]) -> list[GroupResult]:
        """The entries for one patient's own groups and their intersections.

        ``{"race": "Black", "sex": "female"}`` gives race=Black, sex=female and
        race x sex=Black x female. Attributes the audit does not cover are ignored; a group with no
        audited patients comes back with n=0 and every metric insufficient.
        """
        values = {str(k): str(v) for k, v in patient_attrs.items() if v is not None}
        index = {(g.attribute, g.group): g for g in self.groups}
        singles = self.settings.get("attributes") or [a for a in self.attributes if not is_intersection(a)]
        combos = [(a,) for a in singles]
        if self.settings.get("intersections", True):
            combos += list(itertools.combinations(singles, 2))
        out = []
        for parts in combos:
            if not all(p in values for p in parts):
                continue
            attribute = intersection_name(parts)
            name = INTERSECTION_SEPARATOR.join(values[p] for p in parts)
            out.append(index.get((attribute, name)) or self._empty_group(attribute, name))
        return out

    def with_metric(self, name: str, *, overall: MetricValue,
                    by_group: Mapping[tuple[str, str], MetricValue]) -> "SubgroupAudit":
        """A new audit that also reports ``name``: ``overall`` and, per ``(attribute, group)``, ``by_group``.

        Groups missing from ``by_group`` report the metric as insufficient data ("not computed");
        entries for groups the audit does not have are ignored.
        """
        if name in self.overall:
            raise ValueError(MSG_METRIC_EXISTS.format(name=name))
        missing = MetricValue.insufficient(REASON_NOT_COMPUTED)
        groups = tuple(dataclasses.replace(g, metrics={**g.metrics, name: by_group.get((g.attribute, g.group), missing)})
                       for g in self.groups)
        return dataclasses.replace(self, overall={**self.overall, name: overall}, groups=groups)

    def _empty_group(self, attribute: str, group: str) -> GroupResult:
        reason = REASON_TOO_FEW.format(kind="n", count=0, minimum=self.settings.get("min_sizes", {}).get("n", 1))
        return GroupResult(attribute, group, 0, 0.0,
                           {name: MetricValue.insufficient(reason) for name in self.metrics},
                           train_n=None, train_share=None)

    def to_dict(self) -> dict:
        """Pure-JSON representation (``json.dumps`` works as is; ``from_dict`` reverses it)."""
        return {"overall": {"n": self.n, "metrics": {k: v.to_dict(with_difference=False)
                                                     for k, v in self.overall.items()}},
                "groups": [g.to_dict() for g in self.groups],
                "settings": jsonable(self.settings)}

    @classmethod
    def from_dict(cls, raw: Mapping) -> "SubgroupAudit":
        """Rebuild from :meth:`to_dict`; raises :class:`BundleIntegrityError` for anything else."""
        version = (raw.get("settings") or {}).get("version", AUDIT_FORMAT_VERSION) if isinstance(raw, Mapping) else None
        if isinstance(version, int) and version < AUDIT_FORMAT_VERSION:
            raise BundleIntegrityError(MSG_BAD_DICT.format(problem=MSG_OLD_FORMAT.format(
                got=version, expected=AUDIT_FORMAT_VERSION)))
        try:
            return cls(n=int(raw["overall"]["n"]),
                       overall={k: MetricValue.from_dict(v)
                                for k, v in raw["overall"]["metrics"].items()},
                       groups=tuple(GroupResult.from_dict(g) for g in raw["groups"]),
                       settings=dict(raw.get("settings", {})))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BundleIntegrityError(MSG_BAD_DICT.format(problem=f"{type(exc).__name__}: {exc}")) from None

    def __repr__(self) -> str:
        return (f"SubgroupAudit(task={self.settings.get('task')!r}, n={self.n}, "
                f"groups={len(self.groups)}, flagged={len(self.flagged())})")

"""Who is in which group: partitions by protected attribute and pairwise intersection, named one way.

An intersection of two attributes is named by joining them with :data:`INTERSECTION_SEPARATOR`:
attribute ``'race x sex'``, group ``'Black x female'``. The audit, c-for-benefit by group, the
patient's own groups and the model card all name intersections through this module.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..data.spec import CohortSpec

__all__ = ["INTERSECTION_SEPARATOR", "Partition", "intersection_name", "is_intersection", "labelled_partitions",
           "partitions", "patient_groups"]

INTERSECTION_SEPARATOR = " x "


def intersection_name(parts: Sequence) -> str:
    """``('race', 'sex')`` -> ``'race x sex'``; ``('Black', 'female')`` -> ``'Black x female'``."""
    return INTERSECTION_SEPARATOR.join(str(p) for p in parts)


def is_intersection(attribute: str) -> bool:
    """Whether an audited attribute name is an intersection (``'race x sex'``) rather than one attribute."""
    return INTERSECTION_SEPARATOR in attribute


@dataclass(frozen=True)
class Partition:
    """One attribute (or intersection): its sorted group labels and each patient's code into them."""

    attribute: str
    labels: tuple[str, ...]
    codes: np.ndarray


def as_labels(series: pd.Series) -> np.ndarray:
    """A column's values as the strings groups are named by."""
    return series.astype(str).to_numpy(dtype=object)


def partitions(groups: pd.DataFrame, intersections: bool) -> list[Partition]:
    """Every attribute (labels sorted), then every pairwise intersection (by the two attributes' orders)."""
    singles = []
    for column in groups.columns:
        codes, labels = pd.factorize(as_labels(groups[column]), sort=True)
        singles.append(Partition(str(column), tuple(str(v) for v in labels), codes.astype(np.intp)))
    pairs = []
    if intersections:
        for a, b in itertools.combinations(singles, 2):
            codes, uniques = pd.factorize(a.codes * len(b.labels) + b.codes, sort=True)
            labels = tuple(f"{a.labels[u // len(b.labels)]}{INTERSECTION_SEPARATOR}"
                           f"{b.labels[u % len(b.labels)]}" for u in uniques)
            pairs.append(Partition(f"{a.attribute}{INTERSECTION_SEPARATOR}{b.attribute}", labels,
                                   codes.astype(np.intp)))
    return singles + pairs


def labelled_partitions(groups: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """``(attribute, each patient's group label)`` for every attribute, then every pairwise intersection."""
    columns = list(groups.columns)
    parts = [(c, groups[c].astype(str)) for c in columns]
    parts += [(intersection_name((a, b)), groups[a].astype(str) + INTERSECTION_SEPARATOR + groups[b].astype(str))
              for i, a in enumerate(columns) for b in columns[i + 1:]]
    return parts


def patient_groups(spec: "CohortSpec", record: dict) -> list[tuple[str, str]]:
    """The patient's (attribute, group) pairs, single attributes and pairwise intersections, as the audit names them."""
    from ..data.cohorts import patient_frame, protected_attributes

    attrs = protected_attributes(spec, patient_frame(spec, [record])).iloc[0].to_dict()
    names = list(attrs)
    pairs = [(a, str(attrs[a])) for a in names]
    pairs += [(intersection_name((a, b)), intersection_name((attrs[a], attrs[b])))
              for i, a in enumerate(names) for b in names[i + 1:]]
    return pairs

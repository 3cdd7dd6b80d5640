"""Pre-built encoders: validated patients straight to the model's matrices with numpy, no pandas typing per call.

:class:`Design` turns a typed pandas frame into the linear and tree matrices; building that frame
(``pd.Categorical`` and ``astype`` per column) costs far more than the model itself for one patient.
:class:`Encoder` is built once per bundle from the same :class:`Design` and gives the *same* matrices
(element for element: the same arithmetic on the same floats) from plain values: one float per feature,
a category's position in the spec's list (``NaN`` when unknown). ``tests/test_fast_reports.py`` checks
both against each other on every bundled cohort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .design import Design

NUMERIC_TYPES = ("numeric", "binary")


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


@dataclass(frozen=True)
class Encoder:
    """Encodes records (dicts of canonical values) into the matrices of one :class:`Design`."""

    design: Design
    numeric: tuple[bool, ...]
    lookups: tuple[dict | None, ...]
    groups: np.ndarray

    @classmethod
    def from_design(cls, design: Design) -> "Encoder":
        numeric = tuple(f["type"] in NUMERIC_TYPES for f in design.features)
        lookups = tuple(None if num else {c: float(k) for k, c in enumerate(f["categories"])}
                        for num, f in zip(numeric, design.features))
        groups = []
        for gi, f in enumerate(design.features):
            groups += [gi] * (1 if f["type"] in NUMERIC_TYPES else len(f["categories"]) - 1)
            groups += [gi] if f["missing_column"] else []
        groups += [len(design.features)] * sum(a != design.reference for a in design.arms)
        return cls(design, numeric, lookups, np.asarray(groups))

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.design.features]

    def codes(self, records) -> np.ndarray:
        """(rows × features): a number as a float, a category as its index; NaN when missing or unknown."""
        out = np.empty((len(records), len(self.numeric)))
        for j, (name, num, lookup) in enumerate(zip(self.names, self.numeric, self.lookups)):
            col = out[:, j]
            for i, r in enumerate(records):
                v = r.get(name)
                if _is_missing(v):
                    col[i] = np.nan
                elif num:
                    col[i] = float(v)
                else:
                    col[i] = lookup.get(v, np.nan)
        return out

    def with_arms(self, codes: np.ndarray, arms: list[str] | None = None) -> np.ndarray:
        """Tree matrix: each row of ``codes`` repeated once per arm (patient-major), the arm's index last.
        Without ``arms`` (or for a dose design) the codes themselves."""
        if not self.design.arms or arms is None:
            return codes
        k = len(arms)
        x = np.empty((len(codes) * k, codes.shape[1] + 1))
        x[:, :-1] = np.repeat(codes, k, axis=0)
        x[:, -1] = np.tile(np.array([float(self.design.arms.index(a)) for a in arms]), len(codes))
        return x

    def linear(self, x: np.ndarray) -> np.ndarray:
        """The linear design matrix of tree matrix ``x`` (as :meth:`Design.linear_matrix`)."""
        blocks = []
        for j, (f, num) in enumerate(zip(self.design.features, self.numeric)):
            col = x[:, j]
            missing = np.isnan(col)
            if num:
                blocks.append(np.where(missing, 0.0, (col - f["mean"]) / f["sd"]))
            else:
                for k in range(1, len(f["categories"])):
                    blocks.append((col == k).astype(float))
            if f["missing_column"]:
                blocks.append(missing.astype(float))
        if self.design.arms:
            arm = x[:, len(self.design.features)]
            for k, name in enumerate(self.design.arms):
                if name != self.design.reference:
                    blocks.append((arm == k).astype(float))
        return np.column_stack(blocks)

"""Who the model was trained on: one value of one protected attribute, with its training and test counts (the model
card's population table and the limitations read it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PopulationGroup:
    """One value of one protected attribute: how many training (and test) patients had it."""

    attribute: str
    group: str
    n: int
    share: float
    test_n: int
    test_share: float
    underrepresented: bool

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "group": self.group, "n": self.n, "share": self.share,
                "test_n": self.test_n, "test_share": self.test_share, "underrepresented": self.underrepresented}

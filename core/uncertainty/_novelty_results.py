"""What the novelty detector says about a patient: the range flags of single values and the overall assessment."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeatureFlag", "NoveltyAssessment", "KIND_RANGE", "KIND_TAIL", "KIND_UNOBSERVED"]

KIND_RANGE = "outside_range"
KIND_TAIL = "outside_p01_p99"
KIND_UNOBSERVED = "never_observed"

MSG_OOD_WARNING = "This patient is unlike the training data: {details}."
MSG_OOD_SCORE = (
    "novelty score {score:.3g} is above the threshold {threshold:.3g} (higher than {percentile:.1f}% "
    "of in-distribution calibration patients)"
)
MSG_FLAG_UNOBSERVED = "{feature} = {value} (never observed in training: missing in every row)"
MSG_FLAG_RANGE = "{feature} = {value} is {direction} the training range [{lo}, {hi}]"
MSG_FLAG_TAIL = "{feature} = {value} is {direction} the training 1st–99th percentiles [{lo}, {hi}]"


@dataclass(frozen=True)
class FeatureFlag:
    """One column of a row outside what training saw.

    ``kind`` is ``'outside_range'`` (outside training [min, max]), ``'outside_p01_p99'`` (inside the
    range but outside the 1st–99th percentiles; only with ``include_tails=True``) or
    ``'never_observed'`` (the column was missing in every training row). ``direction`` is
    ``'below'``/``'above'`` (None for never_observed).
    """

    feature: str
    value: float
    kind: str
    direction: str | None
    train_min: float | None
    train_max: float | None
    p01: float | None
    p99: float | None

    @property
    def message(self) -> str:
        if self.kind == KIND_UNOBSERVED:
            return MSG_FLAG_UNOBSERVED.format(feature=self.feature, value=_g(self.value))
        if self.kind == KIND_RANGE:
            return MSG_FLAG_RANGE.format(feature=self.feature, value=_g(self.value), direction=self.direction,
                                         lo=_g(self.train_min), hi=_g(self.train_max))
        return MSG_FLAG_TAIL.format(feature=self.feature, value=_g(self.value), direction=self.direction,
                                    lo=_g(self.p01), hi=_g(self.p99))

    def to_dict(self) -> dict:
        return {"feature": self.feature, "value": float(self.value), "kind": self.kind,
                "direction": self.direction, "train_min": self.train_min, "train_max": self.train_max,
                "p01": self.p01, "p99": self.p99, "message": self.message}


@dataclass(frozen=True)
class NoveltyAssessment:
    """One patient's novelty: score, its percentile among calibration patients, and range flags."""

    score: float
    threshold: float
    percentile: float
    is_novel: bool
    flags: tuple[FeatureFlag, ...] = ()
    n_missing: int = 0

    @property
    def out_of_distribution(self) -> bool:
        """Novel score, or a value outside a training range."""
        return self.is_novel or any(f.kind != KIND_TAIL for f in self.flags)

    @property
    def message(self) -> str:
        parts = []
        if self.is_novel:
            parts.append(MSG_OOD_SCORE.format(score=self.score, threshold=self.threshold,
                                              percentile=self.percentile))
        parts += [f.message for f in self.flags if f.kind != KIND_TAIL]
        return MSG_OOD_WARNING.format(details="; ".join(parts)) if parts else ""

    def to_dict(self) -> dict:
        return {"score": self.score, "threshold": self.threshold, "percentile": self.percentile,
                "is_novel": self.is_novel, "out_of_distribution": self.out_of_distribution,
                "n_missing": self.n_missing, "flags": [f.to_dict() for f in self.flags],
                "message": self.message}


def _g(x) -> str:
    """A range limit or value in a flag's message (``:g``; ``NA`` when unknown)."""
    return "NA" if x is None else f"{x:g}"

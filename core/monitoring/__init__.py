"""Monitoring a deployed model over time: per window (week or month) the subgroup audit of its predictions
against later outcomes, input drift (population stability index) against the training data, and alerts against
training-time performance (``drift``)."""

from .drift import FeatureDrift, Monitoring, WindowResult, monitor, psi

__all__ = ["FeatureDrift", "Monitoring", "WindowResult", "monitor", "psi"]

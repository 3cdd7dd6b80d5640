"""Explain one patient's prediction: exact contributions, what-if, counterfactuals, effect curves and sliders."""

from .explanation import Explanation, explain_difference, explain_dose, feature_labels, row_values
from ._common import CAVEAT, FeatureChange, OutsideTraining
from .counterfactual import Counterfactual, counterfactual
from .effect_curves import ICECurve, ice_curve
from .sliders import SliderSpec, slider_specs
from .whatif import ArmDelta, DoseDelta, IntervalChange, WhatIfResult, what_if

__all__ = [
    "CAVEAT", "ArmDelta", "Counterfactual", "DoseDelta", "Explanation", "FeatureChange", "ICECurve", "IntervalChange",
    "OutsideTraining", "SliderSpec", "WhatIfResult", "counterfactual",
    "explain_difference", "explain_dose", "feature_labels", "ice_curve", "row_values", "slider_specs", "what_if",
]

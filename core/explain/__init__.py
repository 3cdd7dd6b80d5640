"""Explain: the Explanation value object (exact SHAP on the headline's scale), what-if, the counterfactual
search, effect (ICE) curves and the slider specs a clinician moves."""

from .explanation import Explanation, explain_difference, explain_dose, feature_labels, row_values
from .whatif import (CAVEAT, Counterfactual, ICECurve, SliderSpec, WhatIfResult, counterfactual, ice_curve,
                     slider_specs, what_if)

__all__ = [
    "CAVEAT", "Counterfactual", "Explanation", "ICECurve", "SliderSpec", "WhatIfResult", "counterfactual",
    "explain_difference", "explain_dose", "feature_labels", "ice_curve", "row_values", "slider_specs", "what_if",
]

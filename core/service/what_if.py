"""What if: the levers for a patient, predictions under changes, the smallest change that alters the comparison,
and effect curves. Each result is handed to the observers before it is returned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._observers import COUNTERFACTUAL, EFFECT_CURVE, WHAT_IF, _shown
from ..modeling.bundle import ModelBundle


def slider_specs(bundle: ModelBundle, record: Mapping[str, Any]):
    """The what-if inputs for this patient (which features a clinician can change, and their ranges)."""
    from ..explain import slider_specs as _slider_specs

    return _slider_specs(bundle, record)


def what_if(bundle: ModelBundle, record: Mapping[str, Any], changes: Mapping[str, Any]):
    """The patient's predictions with ``changes`` applied, beside the original ones."""
    from ..explain import what_if as _what_if

    return _shown(WHAT_IF, bundle, _what_if(bundle, record, changes), record=record)


def counterfactual(bundle: ModelBundle, record: Mapping[str, Any], **options):
    """The smallest change to actionable features that alters the comparison (or the dose), if any."""
    from ..explain import counterfactual as _counterfactual

    return _shown(COUNTERFACTUAL, bundle, _counterfactual(bundle, record, **options), record=record)


def effect_curve(bundle: ModelBundle, record: Mapping[str, Any], feature: str, **options):
    """How the prediction moves as one feature varies, the others held at the patient's values (ICE)."""
    from ..explain import ice_curve

    return _shown(EFFECT_CURVE, bundle, ice_curve(bundle, record, feature, **options), record=record)

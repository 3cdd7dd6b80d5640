"""Reporting: one patient's report, the model card with the held-out calibration and decision curves, and the
figures that draw them."""

from . import figures, tables, words
from .calibration import calibration_curve
from .decision_curve import decision_curve
from .model_card import ModelCard, model_card
from .patient_report import PatientReport, error_report, predict_patient

__all__ = ["calibration_curve", "decision_curve", "ModelCard", "PatientReport", "error_report", "figures", "model_card",
           "predict_patient", "tables", "words"]

"""Reporting: one patient's report, the model card, and the figures that draw them."""

from . import figures, tables, words
from .model_card import ModelCard, model_card
from .patient_report import PatientReport, error_report, predict_patient

__all__ = ["ModelCard", "PatientReport", "error_report", "figures", "model_card", "predict_patient", "tables", "words"]

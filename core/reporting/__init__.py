"""Reporting: one patient's report (and its export, with the patient-facing view), the model card with the held-out
calibration and decision curves, tables and labels in clinical words, and the figures that draw them."""

from . import figures, tables, words
from .calibration import calibration_curve
from .decision_curve import decision_curve
from .model_card import ModelCard, model_card
from .patient_export import ExportContent, export_content, patient_report_html, patient_report_pdf
from .patient_report import PatientReport, error_report, predict_patient
from .patient_view import IconOption, PatientView, icon_count, icon_svg, patient_view

__all__ = ["calibration_curve", "decision_curve", "ModelCard", "PatientReport", "error_report", "figures", "model_card",
           "predict_patient", "tables", "words", "ExportContent", "export_content", "patient_report_html",
           "patient_report_pdf", "IconOption", "PatientView", "icon_count", "icon_svg", "patient_view"]

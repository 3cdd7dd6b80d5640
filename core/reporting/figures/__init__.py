"""Plotly figures for Equipoise reports, audits and checks: drawing only, nothing is estimated here.

Each builder takes a JSON-like dict core already produces (``PatientReport.to_dict()``, ``SubgroupAudit.to_dict()``,
...) and returns a ``plotly.graph_objects.Figure``. Colours are Okabe–Ito (:data:`PALETTE`) and never carry meaning
alone (symbols, dashes, signed numbers and labels say the same); every axis names its unit; the look is set in
``_style._style``; texts describe estimates and never tell anyone what to do. Per-patient charts live in
``_patient``, population and check charts in ``_population``.
"""

from ._patient import arm_forest, difference_figure, dose_figure, ice_figure, icon_array, waterfall
from ._monitoring import drift_figure, monitoring_figure
from ._population import calibration_figure, coverage_figure, decision_curve_figure, subgroup_forest
from ._sites import site_figure
from ._tradeoff import race_gap_figure
from ._training import trainee_scores_figure
from ._style import BLACK, BLUE, GREEN, ORANGE, PALETTE, PURPLE, SKY, VERMILLION, YELLOW  # noqa: F401 (named colours)

__all__ = ["PALETTE", "arm_forest", "calibration_figure", "coverage_figure", "decision_curve_figure",
           "difference_figure", "dose_figure", "drift_figure", "icon_array", "ice_figure", "monitoring_figure",
           "race_gap_figure", "site_figure", "subgroup_forest", "trainee_scores_figure", "waterfall"]

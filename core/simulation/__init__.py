"""Simulated trials and doses with a known truth, run through the full pipeline: the statistical test bench."""

from .harness import DoseRun, TrialRun, run_doses, run_trial, summarise_trials
from .trials import SCENARIOS, SimulatedCohort, simulate_doses, simulate_trial

__all__ = ["SCENARIOS", "DoseRun", "SimulatedCohort", "TrialRun", "run_doses", "run_trial", "simulate_doses",
           "simulate_trial", "summarise_trials"]

"""Vocabulary for callers, with no computation in it: input bounds and their bounded readers, the one strict
reader of typed numbers, others' text made inert, the plain names of audit metrics, every table and label in clinical words, and the
rules for every ``--out`` file. Re-exported by :mod:`core.service` so pages and the CLI need no deep import."""

from __future__ import annotations

from .._format import inert_markdown, visible_strings, visible_text
from .._outfile import check_out_path, replacing as replacing_out, write_out
from ..data import limits
from ..data.numbers import number_text, parse_number
from ..fairness.groups import is_intersection
from ..fairness.patient_warnings import METRIC_NAMES
from ..reporting import tables, words

__all__ = ["limits", "number_text", "parse_number", "inert_markdown", "visible_text", "visible_strings", "METRIC_NAMES", "tables", "words",
           "is_intersection", "check_out_path", "replacing_out", "write_out"]

"""What-if reports come from the numeric fast path (issue 29: a slider's numbers sooner). They must be the reports
the reference path gives: predict_patient on the patient as recorded and with the changes applied."""

from __future__ import annotations

import warnings

import pytest

from core import service
from core.explain import what_if
from core.reporting.patient_report import predict_patient
from tests.test_fast_reports import assert_same


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_what_if_reports_match_the_reference_path(bundles):
    bundle = bundles("colon")
    spec = bundle.spec
    numeric = [f for f in spec.features if f.is_numeric]
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)[:12]]
    for i, record in enumerate(records):
        f = numeric[i % len(numeric)]
        changes = {f.name: f.plausible[i % 2]}  # the low or high end of the usual range
        result = what_if(bundle, record, changes)
        assert_same(result.baseline, predict_patient(bundle, dict(record)).to_dict(), "baseline")
        assert_same(result.modified, predict_patient(bundle, {**record, **changes}).to_dict(), "modified")
        assert [c.feature for c in result.changes] == ([f.name] if record[f.name] != changes[f.name] else [])

"""The numeric fast path gives the same reports as the reference pandas path, one patient and in chunks."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from core._json import jsonable
from core.data.cohorts import ARM, patient_frame
from core.modeling.encoder import Encoder
from core.reporting.fast_report import ReportEngine, Refused
from core.reporting.patient_report import predict_patient
from core import service

COHORTS = ("actg175", "colon", "warfarin")
N_PATIENTS = 120
TOLERANCE = 1e-12


def assert_same(a, b, path="report"):
    """Equal JSON, floats within 1e-12 (relative above 1): the same numbers up to the last bits."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {sorted(set(a) ^ set(b))}"
        for k in a:
            assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths {len(a)} and {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool) and isinstance(b, (int, float)):
        assert math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _records(bundle, n=N_PATIENTS):
    records = [{k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)][:n]
    # and some with an optional input left out, so the missing-input scenarios are exercised
    optional = [f.name for f in bundle.spec.features if not f.required]
    for i, name in enumerate(optional):
        records.append({**records[i], name: None})
    # and some at a field's hard limit, beyond the training data: the out-of-distribution checks run per patient
    numeric = [f for f in bundle.spec.features if f.is_numeric][:3]
    for i, f in enumerate(numeric):
        records.append({**records[i], f.name: f.limits[1]})
    return records


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("cohort", COHORTS)
def test_the_encoder_builds_the_designs_matrices_exactly(bundles, cohort):
    bundle = bundles(cohort)
    spec, design = bundle.spec, bundle.model.design
    engine = ReportEngine.of(bundle)
    values = [p.values for p in engine.validate(_records(bundle, 60))]
    frame = patient_frame(spec, values)
    enc = Encoder.from_design(design)
    codes = enc.codes([engine._typed(v) for v in values])
    if spec.is_dose:
        x = enc.with_arms(codes)
        want_x = design.tree_matrix(frame)
        want_z, want_groups = design.linear_matrix(frame)
    else:
        x = enc.with_arms(codes, spec.arms)
        stacked = frame.iloc[np.repeat(np.arange(len(frame)), len(spec.arms))].reset_index(drop=True)
        stacked[ARM] = spec.arms * len(frame)
        want_x = design.tree_matrix(stacked)
        want_z, want_groups = design.linear_matrix(stacked)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(enc.linear(x), want_z)
    np.testing.assert_array_equal(enc.groups, want_groups)


@pytest.mark.parametrize("cohort", COHORTS)
def test_fast_reports_equal_the_reference_reports(bundles, cohort):
    bundle = bundles(cohort)
    engine = ReportEngine.of(bundle)
    records = _records(bundle)
    if any(not f.required for f in bundle.spec.features):
        assert any(engine.validate([r])[0].missing for r in records), "no patient with a missing input was compared"
    for record in records:
        ref = jsonable(predict_patient(bundle, record, patient_id="p").to_dict())
        fast = jsonable(engine.report(record, patient_id="p").to_dict())
        assert_same(ref, fast)
        json.dumps(fast, allow_nan=False)


@pytest.mark.parametrize("cohort", COHORTS)
def test_a_chunk_of_patients_gives_each_patients_own_report(bundles, cohort):
    bundle = bundles(cohort)
    engine = ReportEngine.of(bundle)
    records = _records(bundle)
    patients = engine.validate(records)
    batch = engine.reports(patients, [str(i) for i in range(len(patients))])
    assert len(batch) == len(records)
    for i, (record, report) in enumerate(zip(records, batch)):
        assert_same(jsonable(predict_patient(bundle, record, patient_id=str(i)).to_dict()), jsonable(report.to_dict()))


def test_without_explanations_the_numbers_are_the_same(bundles):
    bundle = bundles("actg175")
    engine = ReportEngine.of(bundle)
    patients = engine.validate(_records(bundle, 30))
    full = [r.to_dict() for r in engine.reports(patients)]
    bare = [r.to_dict() for r in engine.reports(patients, explanations=False)]
    for f, b in zip(full, bare):
        assert "explanation" not in b and "arm_explanations" not in b and "difference_explanation" not in b
        assert_same({k: v for k, v in f.items() if "explanation" not in k}, b)


def test_a_refused_record_gets_its_error_report(bundles):
    bundle = bundles("actg175")
    engine = ReportEngine.of(bundle)
    good = _records(bundle, 2)
    bad = {**good[0], bundle.spec.features[0].name: "not a number"}
    out = engine.validate([good[0], bad, good[1]], id_column=None)
    assert isinstance(out[1], Refused) and not isinstance(out[0], Refused) and not isinstance(out[2], Refused)
    assert out[1].report["row"] == 2
    assert out[1].report["errors"][0]["field"] == bundle.spec.features[0].name

"""Audits over time: a synthetic stream of the test split, perturbed after a date, is flagged only after it."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from core import service
from core._errors import InputFileError
from core.cli import main
from core.data.cohorts import protected_attributes
from core.modeling.heldout import held_out_split
from core.monitoring import psi

CHANGE = 8  # months 1-8 as at training time, months 9-12 perturbed


def _stream(bundle, *, outcomes=False, inputs=False, rows=400, seed=0):
    """Twelve months of held-out test patients (resampled), with the model's risk for the arm received."""
    split = held_out_split(bundle)
    keep = split.weight > 0
    frame = split.frame[keep].reset_index(drop=True)
    y, p = split.y[keep], bundle.model.predict(split.frame)[keep]
    attrs = protected_attributes(bundle.spec, frame)
    features = [c for c in bundle.spec.feature_names if c not in attrs.columns]
    rng = np.random.default_rng(seed)
    parts = []
    for month in range(12):
        idx = rng.integers(0, len(frame), rows)
        part = pd.concat([frame.iloc[idx][features].reset_index(drop=True), attrs.iloc[idx].reset_index(drop=True)],
                         axis=1)
        yy = y[idx].copy()
        if month >= CHANGE and outcomes:
            yy[rng.random(rows) < 0.35] = 1.0  # many more events than the model expects
        if month >= CHANGE and inputs:
            part["cd4_cells_per_ul"] = part["cd4_cells_per_ul"] + 250.0  # a different population of patients
        part["outcome"], part["risk"] = yy, p[idx]
        part["scored_at"] = pd.Timestamp(2025, month + 1, 1) + pd.to_timedelta(rng.integers(0, 27, rows), unit="D")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _months_with(result, kind):
    return sorted({int(a["window"][-2:]) for a in result.alerts() if a["kind"] == kind})


def test_perturbed_outcomes_are_flagged_after_the_change_only(bundles):
    bundle = bundles("actg175")
    result = service.monitor_predictions(_stream(bundle, outcomes=True), time_column="scored_at", window="month",
                                         label="outcome", score="risk", bundle=bundle, n_boot=100)
    assert [w.window for w in result.windows] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert _months_with(result, "performance") == list(range(CHANGE + 1, 13))
    assert _months_with(result, "drift") == []  # the inputs did not change
    late = [a for a in result.alerts() if a["kind"] == "performance" and a["attribute"] == "overall"]
    assert {a["metric"] for a in late} >= {"calibration_intercept"}
    assert all(a["p_adjusted"] < 0.05 and a["correction"] == "holm" for a in late)
    # every window carries the audit overall and per group, with intervals
    first = result.windows[0].audit
    assert first["overall"]["n"] == 400 and first["overall"]["metrics"]["auc"]["ci_low"] is not None
    assert {g["attribute"] for g in first["groups"]} >= {"race", "sex", "race x sex"}


def test_shifted_inputs_are_flagged_as_drift_after_the_change_only(bundles):
    bundle = bundles("actg175")
    result = service.monitor_predictions(_stream(bundle, inputs=True), time_column="scored_at", window="month",
                                         label="outcome", score="risk", bundle=bundle, n_boot=20)
    assert _months_with(result, "drift") == list(range(CHANGE + 1, 13))
    drifted = {a["feature"] for a in result.alerts() if a["kind"] == "drift"}
    assert drifted == {"cd4_cells_per_ul"}
    assert _months_with(result, "performance") == []


def test_psi_matches_its_definition():
    e, a = np.array([0.2, 0.3, 0.5]), np.array([0.25, 0.25, 0.5])
    assert psi(e, a) == pytest.approx(sum((x - y) * math.log(x / y) for x, y in zip(a, e)), rel=1e-12)
    assert psi(e, e) == 0.0


def test_the_cli_prints_windows_and_alerts(bundles, bundle_dirs, tmp_path, capsys):
    bundle = bundles("actg175")
    path = tmp_path / "stream.parquet"
    stream = _stream(bundle, outcomes=True, rows=200)
    stream.to_parquet(path, index=False)
    code = main(["monitor", "--predictions", str(path), "--time-column", "scored_at", "--window", "month",
                 "--label", "outcome", "--score", "risk", "--bundle", str(bundle_dirs("actg175")), "--n-boot", "50"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert len(result["windows"]) == 12 and result["settings"]["reference"] == "training-time test-split audit"
    assert "alert" in err  # a summary line per window with alerts goes to stderr
    code = main(["monitor", "--predictions", str(path), "--time-column", "nope", "--window", "month",
                 "--label", "outcome", "--score", "risk", "--attributes", "race"])
    assert code == 2 and "no column(s) 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_file_is_read_for_the_columns_monitoring_needs_only(bundles, tmp_path, monkeypatch, suffix):
    """A batch output carries each whole report as JSON: monitoring its scores reads only the time, label,
    score, attribute and model-feature columns, and gives what the same table in memory gives."""
    import core.service.scale as scale_service

    bundle = bundles("actg175")
    stream = _stream(bundle, rows=60)
    stream["report"] = "{" + "x" * 2_000 + "}"  # as heavy as a report
    path = tmp_path / f"stream{suffix}"
    stream.to_parquet(path, index=False) if suffix == ".parquet" else stream.to_csv(path, index=False)
    seen = []
    real = scale_service.read_predictions
    monkeypatch.setattr(scale_service, "read_predictions",
                        lambda p, **kw: (seen.append(kw.get("columns")), real(p, **kw))[1])
    args = dict(time_column="scored_at", label="outcome", score="risk", bundle=bundle, n_boot=20)
    from_file = service.monitor_predictions(path, **args)
    assert len(seen) == 1 and "report" not in seen[0] and {"scored_at", "outcome", "risk", "race"} <= set(seen[0])
    in_memory = service.monitor_predictions(real(path), **args)
    assert from_file.to_dict() == in_memory.to_dict()
    with pytest.raises(InputFileError, match=r"no column\(s\) 'nope'.*Available columns: .*report"):
        service.monitor_predictions(path, **{**args, "label": "nope"})

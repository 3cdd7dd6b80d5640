"""The partition-wise audit (Poisson bootstrap, sufficient statistics): the same result whatever the
partitioning and on Dask as in one process; close to the in-memory audit it stands in for."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from core import service
from core._errors import InputFileError
from core.cli import main
from core.fairness import audit_subgroups
from core.scale import audit_local
from core.scale.sufficient import poisson_weights

N = 12_000


def _data(seed=1, n=N):
    rng = np.random.default_rng(seed)
    race = rng.choice(["White", "Black", "Asian", "Other"], n, p=[0.6, 0.2, 0.15, 0.05])
    sex = rng.choice(["female", "male"], n)
    logit = rng.normal(-1, 1, n)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + 0.5 * (race == "Black"))))).astype(float)  # miscalibrated for one group
    return y, p, {"race": race, "sex": sex}


def _close(a, b, tol, path="audit"):
    """Every number of two audit dicts within ``tol`` (structure and texts identical)."""
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _close(a[k], b[k], tol, f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, tol, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=tol, abs_tol=tol), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def test_a_rows_weights_depend_on_its_position_only():
    whole = poisson_weights(0, 20_000, 50, seed=7)
    assert np.array_equal(whole[:, 0], np.ones(20_000))
    for start, size in [(0, 1), (8191, 3), (12_345, 5_000)]:
        assert np.array_equal(poisson_weights(start, size, 50, seed=7), whole[start:start + size])
    assert not np.array_equal(poisson_weights(0, 100, 50, seed=8), whole[:100])
    w = whole[:, 1:]
    assert abs(w.mean() - 1) < 0.01 and abs(w.var() - 1) < 0.02  # Poisson(1)


def test_the_result_does_not_depend_on_the_partitioning():
    y, p, groups = _data()
    one = audit_local(y, p, groups, partition_rows=N, n_boot=100, seed=3).to_dict()
    many = audit_local(y, p, groups, partition_rows=2_500, n_boot=100, seed=3).to_dict()
    _close(one, many, 1e-9)


def test_it_agrees_with_the_in_memory_audit():
    y, p, groups = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = audit_subgroups(y, p, pd.DataFrame(groups), n_boot=200, seed=0)
    ours = audit_local(y, p, groups, partition_rows=5_000, n_boot=200, seed=0)
    assert [(g.attribute, g.group, g.n) for g in ours.groups] == [(g.attribute, g.group, g.n) for g in exact.groups]
    for name in ("outcome_rate", "mean_predicted", "brier"):  # exact sums
        assert ours.overall[name].value == pytest.approx(exact.overall[name].value, rel=1e-12)
    assert ours.overall["auc"].value == pytest.approx(exact.overall["auc"].value, abs=1e-3)  # binned scores
    assert ours.overall["calibration_slope"].value == pytest.approx(exact.overall["calibration_slope"].value, abs=0.01)
    for g, e in zip(ours.groups, exact.groups):
        for name in ("auc", "calibration_intercept"):
            mine, theirs = g.metrics[name], e.metrics[name]
            if theirs.value is None:
                continue
            spread = theirs.ci_high - theirs.ci_low  # another bootstrap: intervals agree to a fraction of their width
            assert abs(mine.ci_low - theirs.ci_low) < 0.25 * spread and abs(mine.ci_high - theirs.ci_high) < 0.25 * spread
    assert {(f.attribute, f.group, f.metric) for f in ours.flagged()} == {(f.attribute, f.group, f.metric)
                                                                          for f in exact.flagged()}
    assert any(f.group.startswith("Black") for f in ours.flagged())


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        yield client


def _parquet_folder(tmp_path, y, p, groups, sizes):
    folder = tmp_path / "predictions"
    folder.mkdir()
    frame = pd.DataFrame({"outcome": y.astype(int), "risk": p, **groups})
    start = 0
    for i, size in enumerate(sizes):
        frame.iloc[start:start + size].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
        start += size
    return folder


def test_dask_gives_the_same_metrics_and_intervals_as_one_process(tmp_path, dask_client):
    y, p, groups = _data()
    folder = _parquet_folder(tmp_path, y, p, groups, [5_000, 4_000, 3_000])
    options = dict(label="outcome", score="risk", attributes=["race", "sex"], n_boot=100, seed=11)
    local = service.audit_partitioned(folder, engine="local", **options).to_dict()
    dask = service.audit_partitioned(folder, engine="dask", client=dask_client, **options).to_dict()
    _close(local, dask, 1e-9)
    # and the same as the arrays cut differently, in memory
    _close(local, audit_local(y, p, groups, partition_rows=N, n_boot=100, seed=11).to_dict(), 1e-9)


def test_the_cli_audits_a_parquet_folder_with_dask(tmp_path, capsys, monkeypatch, dask_client):
    y, p, groups = _data(n=3_000)
    folder = _parquet_folder(tmp_path, y, p, groups, [2_000, 1_000])
    monkeypatch.setattr("core.scale.distributed.dask_client", lambda scheduler=None: _same(dask_client))
    code = main(["audit", "--predictions", str(folder), "--label", "outcome", "--score", "risk",
                 "--attributes", "race,sex", "--engine", "dask", "--n-boot", "50"])
    out, err = capsys.readouterr()
    assert code == 0, err
    audit = json.loads(out)
    assert audit["overall"]["n"] == 3_000 and "Poisson" in audit["settings"]["bootstrap"]
    code = main(["audit", "--predictions", str(folder), "--label", "nope", "--score", "risk",
                 "--attributes", "race", "--engine", "dask"])
    assert code == 2 and "no column(s) 'nope'" in capsys.readouterr().err


class _same:
    def __init__(self, client):
        self.client = client

    def __enter__(self):
        return self.client

    def __exit__(self, *exc):
        return False


def _doses(seed=2, n=N):
    """Stable weekly doses (mg) and a model's predictions, worse for one group (as IWPC's are for some)."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["White", "Black", "Asian", "Other"], n, p=[0.6, 0.2, 0.15, 0.05])
    sex = rng.choice(["female", "male"], n)
    y = np.round(rng.lognormal(np.log(30), 0.4, n), 1)
    noise = np.where(race == "Black", 0.35, 0.15)
    p = y * np.exp(rng.normal(0, noise, n))
    return y, p, {"race": race, "sex": sex}


def test_doses_are_audited_partition_wise_like_in_memory():
    """A continuous outcome: every point estimate is a ratio of exact sums, so it equals the in-memory audit's
    to rounding; intervals agree to a fraction of their width; the same groups are flagged; and the result
    does not depend on the partitioning."""
    y, p, groups = _doses()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = audit_subgroups(y, p, pd.DataFrame(groups), task="regression", n_boot=200, seed=0)
    ours = audit_local(y, p, groups, partition_rows=5_000, n_boot=200, seed=0, task="regression")
    assert ours.settings["task"] == "regression" and "exact weighted sums" in ours.settings["bootstrap"]
    assert [(g.attribute, g.group, g.n) for g in ours.groups] == [(g.attribute, g.group, g.n) for g in exact.groups]
    for name in ("mae", "mape", "mean_error", "within_20", "mean_outcome"):
        assert ours.overall[name].value == pytest.approx(exact.overall[name].value, rel=1e-10)
        for g, e in zip(ours.groups, exact.groups):
            mine, theirs = g.metrics[name], e.metrics[name]
            assert (mine.value is None) == (theirs.value is None)
            if theirs.value is None:
                continue
            assert mine.value == pytest.approx(theirs.value, rel=1e-10)
            # two different bootstraps of 200 resamples, whose 2.5th percentiles rest on 5 resamples each:
            # the ends agree to a third of the interval's width (the worst here, a group of 305, is at 0.30)
            spread = theirs.ci_high - theirs.ci_low
            assert abs(mine.ci_low - theirs.ci_low) < 0.35 * spread and abs(mine.ci_high - theirs.ci_high) < 0.35 * spread
    assert {(f.attribute, f.group, f.metric) for f in ours.flagged()} == {(f.attribute, f.group, f.metric)
                                                                          for f in exact.flagged()}
    assert any(f.group.startswith("Black") for f in ours.flagged())
    again = audit_local(y, p, groups, partition_rows=2_500, n_boot=200, seed=0, task="regression")
    _close(ours.to_dict(), again.to_dict(), 1e-9)


def test_dask_audits_doses_as_one_process(tmp_path, dask_client):
    y, p, groups = _doses(n=6_000)
    folder = tmp_path / "doses"
    folder.mkdir()
    frame = pd.DataFrame({"dose": y, "predicted": p, **groups})
    frame.iloc[:3_500].to_parquet(folder / "a.parquet", index=False)
    frame.iloc[3_500:].to_parquet(folder / "b.parquet", index=False)
    options = dict(label="dose", score="predicted", attributes=["race", "sex"], n_boot=60, seed=5, task="regression")
    local = service.audit_partitioned(folder, engine="local", **options).to_dict()
    dask = service.audit_partitioned(folder, engine="dask", client=dask_client, **options).to_dict()
    _close(local, dask, 1e-9)
    _close(local, audit_local(y, p, groups, partition_rows=6_000, n_boot=60, seed=5, task="regression").to_dict(), 1e-9)
    frame.loc[7, "predicted"] = np.inf
    frame.to_parquet(folder / "a.parquet", index=False)
    with pytest.raises(InputFileError, match=r"'predicted' column \(the score\) .* finite numbers"):
        service.audit_partitioned(folder, engine="local", **options)

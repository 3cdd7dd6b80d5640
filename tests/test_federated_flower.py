"""A real Flower run (simulation engine, one virtual SuperNode per IWPC site), small setting: what reached the
server, the federated linear fit against an independent pooled OLS, and the four-regime table.

One run is shared by the module (about 30 s: Ray's start dominates).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from core.federated import (COEFFICIENTS, FEDERATED, LINEAR_MODEL, LOCAL, OTHER, PERSONALIZED, POOLED, REGIMES,
                            SMALL_ROUNDS, TREE_MODEL, UNSEEN, bundled_partition, run_federated_comparison)
from core.federated._apps import LINEAR, TREES
from core.federated._linear import AUGMENTED

XGB_TREE_FIELDS = {"base_weights", "categories", "categories_nodes", "categories_segments", "categories_sizes",
                   "default_left", "id", "left_children", "loss_changes", "parents", "right_children",
                   "split_conditions", "split_indices", "split_type", "sum_hessian", "tree_param"}
PATIENT_ID = re.compile(rb"PA\d{5,}")


@pytest.fixture(scope="module")
def report():
    return run_federated_comparison("warfarin", rounds=SMALL_ROUNDS, n_boot=100, keep_contents=True)


@pytest.fixture(scope="module")
def data():
    return bundled_partition("warfarin")


def leaks(phase: str, content, *, site_sizes: set[int], patient_ids: set[bytes]) -> list[str]:
    """Everything in one site's reply that is not a parameter, a statistic, a tree or a count."""
    problems = []
    if set(content.array_records) - {"arrays"} or set(content.metric_records) - {"metrics"}:
        problems.append(f"unexpected records {sorted(content.keys())}")
    if content.config_records:
        problems.append("a config record")
    for rec in content.metric_records.values():
        if set(rec) != {"num-examples"}:
            problems.append(f"metrics {sorted(rec)}")
    p = len(AUGMENTED)
    for rec in content.array_records.values():
        for name, arr in rec.items():
            a = arr.numpy()
            raw = bytes(arr.data)
            if PATIENT_ID.search(raw) or any(pid in raw for pid in patient_ids):
                problems.append(f"a patient identifier in array {name!r}")
            if phase == LINEAR:
                if not ((name == "xtx" and a.shape == (p, p)) or (name == "xty" and a.shape == (p,))):
                    problems.append(f"array {name!r} of shape {a.shape}")
            elif phase == TREES:
                if a.dtype != np.uint8 or a.ndim != 1:
                    problems.append(f"tree array {name!r} of {a.dtype} {a.shape}")
                    continue
                try:
                    model = json.loads(a.tobytes())
                except ValueError:
                    problems.append(f"tree array {name!r} is not an XGBoost model")
                    continue
                if set(model) != {"learner", "version"}:
                    problems.append(f"model keys {sorted(model)}")
                for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
                    if set(tree) - XGB_TREE_FIELDS:
                        problems.append(f"tree fields {sorted(set(tree) - XGB_TREE_FIELDS)}")
            if phase == LINEAR and a.ndim and a.shape[0] in site_sizes and a.shape[0] != p:
                problems.append(f"array {name!r} has one entry per patient")
    return problems


def test_site_replies_carry_only_statistics_trees_and_counts(report, data):
    cohort, part = data
    sizes = {int(part.train_rows(s).sum()) for s in part.names}
    ids = {str(v).encode() for v in cohort.frame["patient_id"]}
    fit = report.fit
    assert len(fit.contents) == fit.n_sites * (1 + SMALL_ROUNDS) == len(fit.messages)
    for phase, _round, content in fit.contents:
        assert leaks(phase, content, site_sizes=sizes, patient_ids=ids) == []
    counts = sorted(int(c["metrics"]["num-examples"]) for ph, _r, c in fit.contents if ph == LINEAR)
    assert counts == sorted(int(part.train_rows(s).sum()) for s in part.names)


def test_the_leak_check_catches_rows_and_identifiers(data):
    """The check above is not vacuous: a reply carrying a site's rows, or an identifier, is caught."""
    from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict

    cohort, part = data
    rows = part.train_rows("7")
    n = int(rows.sum())
    x = cohort.frame.loc[rows, ["age_decade", "weight_kg"]].to_numpy(float)
    sizes, ids = {n}, {str(cohort.frame.loc[rows, "patient_id"].iloc[0]).encode()}
    with_rows = RecordDict({"arrays": ArrayRecord({"xtx": Array(x)}), "metrics": MetricRecord({"num-examples": n})})
    assert leaks(LINEAR, with_rows, site_sizes=sizes, patient_ids=ids)
    pid = np.frombuffer(next(iter(ids)), dtype=np.uint8)
    with_id = RecordDict({"arrays": ArrayRecord([pid]), "metrics": MetricRecord({"num-examples": n})})
    assert leaks(TREES, with_id, site_sizes=sizes, patient_ids=ids)
    with_cfg = RecordDict({"config": ConfigRecord({"site": "7"}), "metrics": MetricRecord({"num-examples": n})})
    assert leaks(LINEAR, with_cfg, site_sizes=sizes, patient_ids=ids)


def test_flower_run_linear_fit_equals_pooled_ols(report, data):
    from tests.test_federated_linear import statsmodels_fit

    cohort, part = data
    train = ~part.held_out
    ref = statsmodels_fit(cohort.frame[train], cohort.frame.loc[train, "dose_mg_per_week"])
    got = dict(zip(COEFFICIENTS, report.fit.linear.coefficients))
    for name in COEFFICIENTS:
        assert got[name] == pytest.approx(ref[name], abs=1e-6), name
    assert report.fit.n_patients == int(train.sum())


def test_trees_grow_by_sites_times_rounds(report):
    fit = report.fit
    assert fit.trees.n_trees == fit.n_sites * SMALL_ROUNDS * fit.settings.local_trees
    assert report.training()["trees"]["n_trees"] == fit.trees.n_trees


def test_four_regimes_scored_on_the_same_held_out_rows(report, data):
    cohort, part = data
    c = report.comparison
    overall = c.rows_for(group_kind="overall")
    assert {r.regime for r in overall if r.model == TREE_MODEL} == set(REGIMES)
    assert {r.regime for r in overall if r.model == LINEAR_MODEL} == {*REGIMES, UNSEEN}
    assert {r.n for r in overall} == {int(part.held_out.sum())}
    # pooled and federated linear: the same model, so the same errors
    assert c.row("all sites", LINEAR_MODEL, FEDERATED).mae == pytest.approx(c.row("all sites", LINEAR_MODEL, POOLED).mae,
                                                                             abs=1e-9)
    small = set(part.small_sites)
    assert small and c.row(OTHER, LINEAR_MODEL, LOCAL).n == sum(int(part.test_rows(s).sum()) for s in small)
    for r in c.rows:
        lo, hi = r.mae_ci
        assert lo <= r.mae <= hi
    assert {r.group for r in c.rows_for(group_kind="race")} == set(cohort.frame["race"].astype(str))


def test_formula_baseline_matches_the_published_formula(report, data):
    """Every row's formula MAE is recomputed here from the formula's coefficients (site medians for height)."""
    cohort, part = data
    c = report.comparison
    site = next(s for s in part.names if s not in part.small_sites and cohort.frame.loc[part.sites == s, "height_cm"].notna().all())
    test = cohort.frame[part.test_rows(site)]
    root = (5.6044 - 0.2614 * test["age_decade"] + 0.0087 * test["height_cm"] + 0.0128 * test["weight_kg"]
            + test["vkorc1_1639"].astype(object).map({"G/G": 0, "A/G": -0.8677, "A/A": -1.6974}).fillna(-0.4854)
            + test["cyp2c9"].astype(object).map({"*1/*1": 0, "*1/*2": -0.5211, "*1/*3": -0.9357, "*2/*2": -1.0616,
                                                 "*2/*3": -1.9206, "*3/*3": -2.3312}).fillna(-0.2188)
            + test["race"].astype(object).map({"White": 0, "Asian": -0.1092, "Black or African American": -0.2760})
            .fillna(-0.1032) + 1.1816 * test["enzyme_inducer"].fillna(0) - 0.5503 * test["amiodarone"].fillna(0))
    mae = float(np.mean(np.abs(root.astype(float) ** 2 - test["dose_mg_per_week"])))
    assert c.row(site, LINEAR_MODEL, PERSONALIZED).formula_mae == pytest.approx(mae, rel=1e-9)


def test_report_json_has_the_documented_schema(report):
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"cohort", "sites", "rows", "overall", "training", "linear_coefficients", "min_site_n", "notes",
            "wall_seconds"} <= set(d)
    assert d["training"]["linear"]["equals_pooled_fit_max_abs_difference"] < 1e-6
    row = d["rows"][0]
    assert {"group_kind", "group", "model", "regime", "n", "mae", "mae_ci", "within_20", "within_20_ci",
            "mean_error", "mean_error_ci", "formula_mae", "mae_minus_formula_ci", "verdict"} <= set(row)


# --- the command line (the module's run stands in for a new one: the plumbing is what is tested here) -----

def test_cli_prints_the_json_report_and_writes_the_models(report, monkeypatch, tmp_path, capsys):
    from core import federated
    from core.cli import main

    seen = {}

    def stand_in(cohort, *, rounds, n_boot, progress):
        seen.update(cohort=cohort, rounds=rounds, n_boot=n_boot)
        progress("stand-in run")
        return report

    monkeypatch.setattr(federated, "run_federated_comparison", stand_in)  # the name core.service.federated calls
    out = tmp_path / "fed"
    code = main(["federated", "--cohort", "warfarin", "--rounds", "7", "--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert seen == {"cohort": "warfarin", "rounds": 7, "n_boot": 500}
    assert "[equipoise] stand-in run" in captured.err
    printed = json.loads(captured.out)
    assert printed["overall"][LINEAR_MODEL][FEDERATED] == pytest.approx(report.comparison.overall()[LINEAR_MODEL][FEDERATED])
    assert json.loads((out / "federated.json").read_text()) == printed
    linear = json.loads((out / "linear.json").read_text())
    assert list(linear["coefficients"]) == list(COEFFICIENTS)
    import xgboost as xgb

    bst = xgb.Booster()
    bst.load_model(str(out / "trees.json"))
    assert bst.num_boosted_rounds() == report.fit.trees.n_trees // federated.TreeSettings().local_trees
    # again without --force: refused before any training
    assert main(["federated", "--cohort", "warfarin", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_cli_table_lists_every_regime(report, monkeypatch, capsys):
    from core import federated
    from core.cli import main

    monkeypatch.setattr(federated, "run_federated_comparison", lambda *a, **k: report)
    assert main(["federated", "--cohort", "warfarin"]) == 0
    out = capsys.readouterr().out
    for regime in (*REGIMES, UNSEEN):
        assert regime in out
    assert "IWPC" in out and "max |coefficient difference|" in out


@pytest.mark.parametrize("argv, message", [
    (["--cohort", "actg175"], "Federated training runs over the sites of a multi-site dose cohort: warfarin. "
                              "Got 'actg175' instead"),
    (["--cohort", "warfarin", "--rounds", "0"], "--rounds must be an integer from 1 to 500"),
    (["--cohort", "warfarin", "--rounds", "many"], "--rounds must be an integer from 1 to 500"),
])
def test_cli_refuses_bad_input_clearly(argv, message, capsys):
    from core.cli import main

    try:
        code = main(["federated", *argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_real_sites_node_reads_its_own_file_and_holds_out_the_same_rows(data, tmp_path):
    """A SuperNode at a hospital is given ``data-path``: its training rows are those the simulation gives the site."""
    from core.federated._apps import local_rows

    cohort, part = data
    site = cohort.frame[part.sites == "7"].rename(columns={"patient_id": cohort.spec.patient_id})
    path = tmp_path / "site7.csv"
    site.to_csv(path, index=False)
    rows = local_rows({"data-path": str(path), "site": "hospital-a"})
    simulated = local_rows({"partition-id": part.names.index("7")})
    assert rows.site == "hospital-a" and simulated.site == "7"
    assert np.array_equal(rows.dose, simulated.dose)
    assert len(rows.dose) == int(part.train_rows("7").sum())


@pytest.mark.slow
def test_a_site_that_fails_stops_the_run_instead_of_fitting_another_model():
    """23 virtual SuperNodes for 22 sites: the 23rd cannot find its rows and replies with an error."""
    from core.federated import TreeSettings, run_federated
    from core.federated._apps import FederationIncomplete

    with pytest.raises(FederationIncomplete, match="Only 22 of 23 sites returned their statistics"):
        run_federated(23, TreeSettings(rounds=1), with_trees=False)


def test_federated_trees_equal_the_sum_of_each_sites_tree_grown_independently(report, data):
    """An independent bagging: starting from the federated linear model, every round each site's tree grown by plain
    ``xgb.train`` from the current margin (``base_margin``), scaled by its share, summed by hand. The Flower run's
    model must predict the same."""
    import xgboost as xgb

    from core.federated import feature_matrix

    cohort, part = data
    fit = report.fit
    s = fit.settings
    x, _ = feature_matrix(cohort.spec, cohort.frame)
    y = np.sqrt(cohort.frame["dose_mg_per_week"].to_numpy(float))
    rows = [part.train_rows(site) for site in part.names]
    n_total = sum(int(r.sum()) for r in rows)
    margin = fit.linear.predict_sqrt(cohort.frame)      # the trees start from the federated linear model
    everyone = xgb.DMatrix(x)
    for _ in range(s.rounds):
        step = np.zeros(len(y))
        for r in rows:
            params = {**s.params(learning_rate=s.learning_rate * r.sum() / n_total), "base_score": 0.0}
            tree = xgb.train(params, xgb.DMatrix(x[r], label=y[r], base_margin=margin[r]),
                             num_boost_round=s.local_trees)
            step += tree.predict(everyone, output_margin=True)
        margin = margin + step
    np.testing.assert_allclose(fit.trees.predict_sqrt(x, fit.linear.predict_sqrt(cohort.frame)), margin, atol=1e-5)
    assert np.abs(margin - fit.linear.predict_sqrt(cohort.frame)).max() > 0.05  # the trees did add something

"""The `equipoise` CLI end to end: clear messages and exit codes, never a traceback."""

import json

import pytest

from core.cli import main


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_cohorts_lists_all_three_with_design_and_source(capsys):
    code, out, _ = run(capsys, "cohorts", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and set(rows) == {"actg175", "colon", "warfarin"}
    assert rows["actg175"]["n"] == 2139 and "Randomized" in rows["actg175"]["design"]
    assert "lifelines" in rows["actg175"]["source"] and "Moertel" in rows["colon"]["citation"]
    assert rows["warfarin"]["exclusions"] and "arms" not in rows["warfarin"]


def test_train_prints_model_beside_baselines(bundle_dirs, capsys):
    # the session fixture trained through the CLI; check what that table looks like on a re-run of colon
    code, out, err = run(capsys, "train", "--cohort", "colon", "--out", bundle_dirs("colon").parent / "colon-again")
    assert code == 0
    assert "equipoise" in out and "logistic regression" in out and "auc" in out and "c_for_benefit" in out
    assert "held-out test split" in out.lower()
    assert "tuning" in err  # progress goes to stderr


def test_template_output_is_accepted_back_and_report_patient_round_trips(bundle_dirs, capsys, tmp_path):
    bundle = bundle_dirs("actg175")
    code, out, _ = run(capsys, "template", "--cohort", "actg175")
    template = json.loads(out)
    assert template["fields"]["cd4_cells_per_ul"]["unit"] == "cells/µL"
    assert template["fields"]["cd4_cells_per_ul"]["limits"] == [0, 3000]
    path = tmp_path / "p.json"
    path.write_text(out)
    code, out, _ = run(capsys, "predict", "--bundle", bundle, "--patient", path)
    report = json.loads(out)
    assert code == 0
    assert [a["arm"] for a in report["arms"]] == ["ZDV", "ZDV+ddI", "ZDV+ddC", "ddI"]
    assert all(0 < a["probability"] < 1 for a in report["arms"])
    assert {"favoured", "reference", "difference"} <= set(report["comparison"])
    assert report["explanation"]["scale"] == "log-odds"
    assert report["model"]["bundle_id"].startswith("actg175-") and len(report["model"]["sha256"]) == 64
    # the report's patient is exactly what --patient accepts back, and gives the same answer
    path.write_text(json.dumps(report["patient"]))
    code, again, _ = run(capsys, "predict", "--bundle", bundle, "--patient", path)
    assert json.loads(again)["arms"] == report["arms"]


def test_dose_report(bundle_dirs, capsys, tmp_path):
    code, out, _ = run(capsys, "template", "--cohort", "warfarin")
    patient = json.loads(out)["patient"]
    patient["weight_kg"] = 200  # implausible, not impossible
    path = tmp_path / "w.json"
    path.write_text(json.dumps(patient))
    code, out, err = run(capsys, "predict", "--bundle", bundle_dirs("warfarin"), "--patient", path)
    assert code == 0, err
    report = json.loads(out)
    assert code == 0 and 5 < report["dose"]["mg_per_week"] < 150
    assert report["explanation"]["scale"] == "mg/week"
    assert any(w["kind"] == "implausible_value" and w["field"] == "weight_kg" and w["message"].startswith("Weight ")
               for w in report["warnings"])


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"age_years": 35', "is not valid JSON"),
        ("[1, 2]", "must hold one JSON object"),
        (None, "does not exist"),
    ],
)
def test_malformed_patient_files(bundle_dirs, capsys, tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--patient", path)
    assert code == 2 and message in err and "Traceback" not in err


def test_impossible_value_is_refused_with_field_range_and_unit(bundle_dirs, capsys, tmp_path):
    code, out, _ = run(capsys, "template", "--cohort", "actg175")
    patient = json.loads(out)["patient"] | {"weight_kg": 700, "race": "martian"}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(patient))
    code, out, err = run(capsys, "predict", "--bundle", bundle_dirs("actg175"), "--patient", path)
    assert code == 2
    assert "Weight must be a number from 20 to 300 kg. Got 700 instead." in err
    assert {e["field"] for e in json.loads(out)["errors"]} == {"weight_kg", "race"}


def test_csv_gives_one_report_per_row_and_refused_rows_keep_their_errors(bundle_dirs, capsys, tmp_path):
    code, out, _ = run(capsys, "template", "--cohort", "colon")
    good = json.loads(out)["patient"]
    rows = [good, good | {"positive_nodes": "many"}, good | {"positive_nodes": ""}]
    import pandas as pd

    csv = tmp_path / "patients.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    code, out, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--csv", csv)
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3 and code == 1 and "1 of 3 row(s) were refused" in err
    assert "arms" in lines[0] and lines[1]["errors"][0]["field"] == "positive_nodes"
    assert "arms" in lines[2] and lines[2]["patient"]["positive_nodes"] is None  # optional: missing is allowed


def test_split_test_reports_every_held_out_patient(bundles, bundle_dirs, capsys):
    code, out, _ = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--split", "test")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["patient_id"] for r in lines] == bundles("colon").test_patient_ids


@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "--bundle", "/nonexistent", "--split", "test"], "does not exist or is not a directory"),
        (["train", "--cohort", "nope"], "Unknown cohort 'nope'"),
        (["train", "--csv", "x.csv"], "also needs `--spec"),
        (["template", "--spec", "/nonexistent.json"], "does not exist"),
    ],
)
def test_usage_errors_are_messages_not_tracebacks(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err

"""A user's own CSV plus a cohort spec: train, predict and audit end to end through the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.data.cohorts import load_cohort, load_spec


@pytest.fixture(scope="module")
def own_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    frame = load_cohort("colon").frame.rename(columns={"patient_id": "id"})
    frame["id"] = "P" + frame["id"].astype(str)
    csv = root / "mytrial.csv"
    frame.to_csv(csv, index=False)
    spec = load_spec("colon").to_dict() | {"name": "mytrial", "title": "My trial", "patient_id": "id"}
    spec_path = root / "mytrial.json"
    spec_path.write_text(json.dumps(spec))
    return root, csv, spec_path


def test_train_predict_and_audit_own_csv(own_data, capsys):
    root, csv, spec = own_data
    out = root / "bundle"
    assert main(["train", "--csv", str(csv), "--spec", str(spec), "--out", str(out)]) == 0
    assert "logistic regression" in capsys.readouterr().out
    assert main(["predict", "--bundle", str(out), "--split", "test"]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert reports and all(r["patient_id"].startswith("P") and r["cohort"] == "mytrial" for r in reports)
    assert main(["audit", "--bundle", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["cohort"] == "mytrial"


def test_own_csv_with_an_impossible_value_is_refused_with_row_and_field(own_data, tmp_path, capsys):
    _, csv, spec = own_data
    frame = pd.read_csv(csv)
    frame.loc[7, "age_years"] = 400
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    assert main(["train", "--csv", str(bad), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "row 8 (patient P8): Age must be a whole number from 12 to 110 years. Got 400 instead." in err


def test_audit_any_models_predictions_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame({"race": rng.choice(["A", "B", "C"], n), "sex": rng.choice(["f", "m"], n)})
    frame["score"] = rng.uniform(0, 1, n)
    frame["y"] = (rng.uniform(0, 1, n) < frame["score"]).astype(int)
    path = tmp_path / "scores.parquet"
    frame.to_parquet(path)
    args = ["audit", "--predictions", str(path), "--label", "y", "--score", "score", "--attributes", "race,sex",
            "--n-boot", "50", "--seed", "3"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {g["attribute"] for g in doc["groups"]} == {"race", "sex", "race x sex"}
    from sklearn.metrics import roc_auc_score

    assert doc["overall"]["metrics"]["auc"]["value"] == pytest.approx(roc_auc_score(frame["y"], frame["score"]))
    assert main(args[:-2] + ["--seed", "3"]) == 0 and json.loads(capsys.readouterr().out) == doc  # reproducible
    assert main(["audit", "--predictions", str(path), "--label", "nope", "--score", "score",
                 "--attributes", "race"]) == 2
    assert "nope" in capsys.readouterr().err

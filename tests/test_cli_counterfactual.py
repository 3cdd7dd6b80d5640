"""`equipoise counterfactual`: one JSON object {found, changes: [{feature, from, to}], effect, within_uncertainty,
message}, exit 0; bad input gives a clear message and a non-zero exit, never a traceback."""

import json
import warnings

import pytest

from core.cli import EXIT_BAD_INPUT, main
from core.explain import counterfactual
from core.modeling.bundle import load_bundle
from core.modeling.heldout import held_out_records

CONTRACT = {"found", "changes", "effect", "within_uncertainty", "message"}


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def patient_file(tmp_path, record, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(record))
    return path


def held_out(bundle_dir, n=200):
    bundle = load_bundle(bundle_dir)
    return bundle, [{k: v for k, v in r.items() if k != "patient_id"} for r in held_out_records(bundle)[:n]]


def narrowed(bundle_dir, out):
    """The warfarin bundle resealed with its dose intervals narrowed (conformal quantiles x 0.3): with only the
    established levers and honest intervals, few held-out patients have a stop that moves the dose beyond its
    interval, and this test needs one to check the JSON of a found change."""
    from _bundle_helpers import bundle_files, reseal

    doc = json.loads(bundle_files(bundle_dir)["uncertainty.json"])
    for g in doc["conformal"]["fitted"]["groups"]:
        g["quantile"] = None if g["quantile"] is None else g["quantile"] * 0.3
    return reseal(bundle_dir, out, change={"uncertainty.json": json.dumps(doc).encode()})


def test_the_json_contract_matches_the_library_for_a_dose_change(bundle_dirs, capsys, tmp_path):
    path = narrowed(bundle_dirs("warfarin"), tmp_path / "narrow")
    bundle, records = held_out(path, n=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record, expected = next((r, cf) for r in records
                                if (cf := counterfactual(bundle, r, dose_change_mg_per_week=5.0)).found)
    code, out, err = run(capsys, "counterfactual", "--bundle", path, "--patient",
                         patient_file(tmp_path, record), "--dose-change", 5)
    doc = json.loads(out)
    assert code == 0 and err == "" and CONTRACT <= set(doc)
    assert doc["found"] is True and doc["within_uncertainty"] is False and doc["message"] == expected.message
    assert doc["changes"] == [{"feature": c.feature, "from": c.old, "to": c.new} for c in expected.changes]
    assert all(set(c) == {"feature", "from", "to"} for c in doc["changes"])
    assert doc["changes"][0]["from"] == 1 and doc["changes"][0]["to"] == 0  # a stop
    assert doc["effect"]["kind"] == "dose" and doc["effect"]["after"] > doc["effect"]["interval"][1]
    assert doc["effect"]["delta"] == pytest.approx(expected.dose_after - expected.dose_before)


def test_within_uncertainty_and_nothing_to_change_are_reported_in_the_same_shape(bundle_dirs, capsys, tmp_path):
    bundle, records = held_out(bundle_dirs("warfarin"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = next(r for r in records if counterfactual(bundle, r, dose_change_mg_per_week=5.0).within_uncertainty)
    code, out, _ = run(capsys, "counterfactual", "--bundle", bundle_dirs("warfarin"), "--patient",
                       patient_file(tmp_path, record), "--dose-change", 5)
    doc = json.loads(out)
    assert code == 0 and doc["found"] is False and doc["within_uncertainty"] is True and doc["changes"] == []
    assert doc["message"].startswith("No change clearly alters the comparison.")
    assert doc["effect"]["interval"][0] <= doc["effect"]["after"] <= doc["effect"]["interval"][1]

    _, records = held_out(bundle_dirs("actg175"), n=1)
    code, out, _ = run(capsys, "counterfactual", "--bundle", bundle_dirs("actg175"), "--patient",
                       patient_file(tmp_path, records[0], "a.json"))
    doc = json.loads(out)
    assert code == 0 and CONTRACT <= set(doc)
    assert (doc["found"], doc["changes"], doc["effect"], doc["within_uncertainty"]) == (False, [], None, False)
    assert doc["message"].startswith("The choice of treatment arm is the only lever in this decision: none of the "
                                     "patient's recorded values is something a clinician changes")


@pytest.mark.parametrize("cohort, extra, patient, message", [
    ("warfarin", [], None, "error: Cohort 'warfarin' predicts a dose: pass --dose-change MG"),
    ("actg175", ["--dose-change", "5"], None, "error: Cohort 'actg175' compares treatment arms: --dose-change applies "
                                              "only to a dose cohort. Got 5 instead."),
    ("warfarin", ["--dose-change", "0"], None, "error: --dose-change must be a finite, non-zero number of mg/week. "
                                               "Got 0 instead."),
    ("warfarin", ["--dose-change", "nan"], None, "error: --dose-change must be a finite, non-zero number of mg/week."),
    ("actg175", [], {"weight_kg": 700}, "Weight must be a number from 20 to 300 kg. Got 700 instead."),
    ("actg175", [], "missing", "error: Patient file"),
    ("actg175", [], "[1, 2]", "must hold one JSON object"),
])
def test_bad_input_gives_a_clear_message_and_a_non_zero_exit(bundle_dirs, capsys, tmp_path, cohort, extra, patient,
                                                             message):
    _, records = held_out(bundle_dirs(cohort), n=1)
    if patient == "missing":
        path = tmp_path / "nope.json"
    elif isinstance(patient, str):
        path = tmp_path / "bad.json"
        path.write_text(patient)
    else:
        path = patient_file(tmp_path, records[0] | (patient or {}))
    code, out, err = run(capsys, "counterfactual", "--bundle", bundle_dirs(cohort), "--patient", path, *extra)
    assert code == EXIT_BAD_INPUT and out == ""
    assert message in err and "Traceback" not in err


def test_a_missing_bundle_is_refused(capsys, tmp_path):
    code, out, err = run(capsys, "counterfactual", "--bundle", tmp_path / "nowhere", "--patient", tmp_path / "p.json")
    assert code == EXIT_BAD_INPUT and out == "" and err.startswith("error: ") and "Traceback" not in err

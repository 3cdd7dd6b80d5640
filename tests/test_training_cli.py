"""`equipoise training` on SQLite and PostgreSQL: new prints the id last, cases hide truth and manipulation,
answer records a file, report's scores are recomputed from its rows; bad input gives a message, not a traceback."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from _store_fixtures import db_url  # noqa: F401  (fixture)
from test_training_scores import reference_scores


def run(*argv):
    from core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's refusal of an option's value (usage + message, status 2)
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(db_url, bundle_dirs, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_DATABASE_URL", db_url)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("warfarin").parent))
    return db_url


def test_a_whole_study_from_the_command_line(env, tmp_path):
    code, out, err = run("training", "new", "--cohort", "warfarin", "--cases", "6", "--manipulated-share", "0.5",
                         "--seed", "4", "--log", "--user", "prof")
    assert code == 0, err
    session = out.strip().splitlines()[-1]
    assert len(session) == 16 and out.strip() == session
    code, out, _ = run("training", "cases", "--session", session)
    cases = json.loads(out)
    assert [c["case"] for c in cases] == [1, 2, 3, 4, 5, 6]
    for c in cases:
        assert isinstance(c["advice"], float) and c["inputs"] and "truth" not in c and "manipulated" not in c
        assert "model_advice" not in c and "patient_id" not in c
    answers = [{"case": c["case"], "initial": 35.0, "confidence": 50, "final": c["advice"]} for c in cases]
    (tmp_path / "a.json").write_text(json.dumps(answers))
    code, _, err = run("training", "answer", "--session", session, "--trainee", "ann", "--answers", str(tmp_path / "a.json"))
    assert code == 0 and "6 case(s) recorded" in err
    code, out, _ = run("training", "report", "--session", session, "--trainee", "ann")
    report = json.loads(out)
    assert [r["advice"] for r in report["rows"]] == [c["advice"] for c in cases]
    assert sum(r["advice_manipulated"] for r in report["rows"]) == 3 == report["n_manipulated"]
    for name, (value, n) in reference_scores("dose", report["rows"]).items():
        assert report[name]["n"] == n, name
        assert report[name]["value"] == (pytest.approx(value) if value is not None else None), name
    assert report["weight_of_advice"]["value"] in (None, pytest.approx(1.0))  # ann always took the advice
    code, out, _ = run("training", "scores", "--session", session)  # every trainee (alias of report)
    whole = json.loads(out)
    assert code == 0 and whole["rows"][0]["trainee"] == "ann" and whole["trainee"] is None
    assert whole["trainees"]["ann"]["accuracy_final"] == report["accuracy_final"]  # per trainee and per session
    code, again, err = run("training", "answer", "--session", session, "--trainee", "ann", "--answers", str(tmp_path / "a.json"))
    assert code == 2 and "recorded once and never changed" in err and "Traceback" not in err
    code, out, _ = run("training", "sessions")
    assert [s["id"] for s in json.loads(out)] == [session]


@pytest.mark.parametrize("argv, message", [
    (["new", "--cohort", "nope", "--cases", "3", "--manipulated-share", "0.2", "--seed", "1"], "Unknown cohort 'nope'"),
    (["new", "--cohort", "warfarin", "--cases", "3", "--manipulated-share", "1.2", "--seed", "1"],
     "--manipulated-share must be a number from 0 to 1. Got '1.2'"),
    (["new", "--cohort", "warfarin", "--cases", "0", "--manipulated-share", "0.2", "--seed", "1"],
     "--cases must be an integer from 1 to 200"),
    (["report", "--session", "missing"], "There is no training session 'missing'"),
])
def test_bad_input_is_a_message(env, argv, message):
    code, out, err = run("training", *argv)
    assert code == 2 and message in err and "Traceback" not in err

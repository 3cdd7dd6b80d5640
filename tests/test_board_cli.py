"""``equipoise board`` on SQLite and PostgreSQL: a whole meeting from the command line — a CSV agenda with a bad
row refused by name, each case presented (snapshot frozen), three decisions (one that differs from the model),
sign-off, the PDF report whose text holds every label, decision and the bundle id — then a model retrained with
``train --seed`` leaves the snapshots byte-identical and the report says the model has changed."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from _board_helpers import AGREES, DIFFERS, board_roots, patients  # noqa: F401  (fixtures)
from _store_fixtures import db_url  # noqa: F401  (fixture)

from core import service
from core.cli import main

LABELS = ["MDT-01", "MDT-02", "MDT-03", "MDT-04", "MDT-05"]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(db_url, board_roots, monkeypatch, tmp_path):
    monkeypatch.setenv("EQUIPOISE_DATABASE_URL", db_url)
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(board_roots["original"]))
    return tmp_path


def _csv(path, rows: list[tuple[str, dict, str]]) -> None:
    header = ["label", "context", *rows[0][1]]
    lines = [",".join(header)] + [",".join([label, f'"{ctx}"', *("" if v is None else str(v) for v in r.values())])
                                  for label, r, ctx in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _meeting(tmp_path) -> str:
    code, out, err = run("board", "new", "--title", "Colorectal MDT", "--date", "2026-12-03", "--chair", "dr.chair",
                         "--attendee", "Dr Okafor:oncology", "--attendee", "Dr Lindqvist:surgery",
                         "--quorum", "oncology", "--quorum", "radiology", "--user", "dr.chair")
    assert code == 0, err
    assert "Quorum not met: no attendee for radiology" in err
    return out.strip().splitlines()[-1]


def test_a_whole_meeting_from_the_command_line(env, board_roots):
    tmp_path = env
    meeting = _meeting(tmp_path)
    bundle = service.open_bundle(board_roots["original"] / "colon")
    records = patients(bundle, 6)
    rows = [(label, r, f"Stage III case {label}; ECOG 1") for label, (_, r) in zip(LABELS, records)]
    bad = dict(records[5][1], positive_nodes=-3)
    _csv(tmp_path / "agenda.csv", rows + [("MDT-BAD", bad, "bad row")])
    code, out, err = run("board", "add", "--meeting", meeting, "--cohort", "colon", "--csv", str(tmp_path / "agenda.csv"),
                         "--label-column", "label", "--context-column", "context", "--question", "Adjuvant therapy?")
    assert code == 1
    assert "5 of 6 row(s) added" in err and "Row 6 (MDT-BAD) refused" in err and "Positive lymph nodes must be a whole number" in err
    added = json.loads(out)
    assert [c["label"] for c in added["added"]] == LABELS and added["refused"][0]["label"] == "MDT-BAD"

    frozen = {}
    for label in LABELS:
        code, out, err = run("board", "present", "--meeting", meeting, "--case", label)
        assert code == 0, err
        shown = json.loads(out)
        assert shown["frozen_now"] and shown["snapshot"]["bundle_id"] == bundle.bundle_id
        frozen[label] = shown["snapshot"]
    explained = dict(AGREES, recommendation="Obs", agreement_note="Estimates accepted; the patient declines chemotherapy.")
    decisions = {"MDT-01": AGREES, "MDT-02": DIFFERS, "MDT-03": explained}
    for label, decision in decisions.items():
        (tmp_path / f"{label}.json").write_text(json.dumps(decision), encoding="utf-8")
        code, out, err = run("board", "decide", "--meeting", meeting, "--case", label,
                             "--decision", str(tmp_path / f"{label}.json"), "--user", "dr.member")
        assert code == 0, err
        assert json.loads(out)["version"] == 1
        code, out, err = run("board", "sign-off", "--meeting", meeting, "--case", label, "--user", "dr.chair")
        assert code == 0 and json.loads(out)["signed_off_by"] == "dr.chair", err

    code, out, err = run("board", "comment", "--meeting", meeting, "--case", "MDT-04", "--text", "Radiology: CT clear.",
                         "--user", "dr.member")
    assert code == 0 and json.loads(out)["created_by"] == "dr.member", err
    code, out, err = run("board", "export", "--meeting", meeting, "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert code == 0, err
    text = _pdf_text(tmp_path / "r.pdf")
    for label in LABELS:
        assert label in text
    for decision in decisions.values():
        assert decision["recommendation"] in text
    assert DIFFERS["disagreement_reason"] in text and bundle.bundle_id in text
    assert explained["agreement_note"] in " ".join(text.split())
    assert "Model output is decision support" in text and "model has changed" not in text
    assert "Radiology: CT clear." in text

    # retrain the cohort with another seed: the snapshots stay byte-identical, the report says so
    env_root = board_roots["retrained"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EQUIPOISE_BUNDLE_DIR", str(env_root))
        code, out, err = run("board", "present", "--meeting", meeting, "--case", "MDT-02")
        assert code == 0, err
        again = json.loads(out)
        assert again["snapshot"] == frozen["MDT-02"] and again["model_changed"] and not again["frozen_now"]
        assert again["current_estimate"]["model"]["bundle_id"] != bundle.bundle_id
        assert "has changed since this case was presented" in err
        code, _, err = run("board", "export", "--meeting", meeting, "--format", "pdf", "--out", str(tmp_path / "r2.pdf"))
        assert code == 0, err
        assert "The model has changed since this snapshot was frozen" in " ".join(_pdf_text(tmp_path / "r2.pdf").split())

    code, out, _ = run("board", "show", "--meeting", meeting)
    shown = json.loads(out)
    assert [c["case"]["label"] for c in shown["cases"]] == LABELS
    assert [c["snapshot"]["report_sha256"] for c in shown["cases"]] == [frozen[x]["report_sha256"] for x in LABELS]
    assert [c["status"] for c in shown["cases"]][:3] == ["decision v1 signed off"] * 3
    code, out, err = run("log", "verify")
    assert code == 0 and "chain intact" in out, err


@pytest.mark.parametrize("decision, message", [
    ({**AGREES, "recomendation": "x"}, "unknown key 'recomendation'"),
    ({k: v for k, v in AGREES.items() if k != "rationale"}, "not complete, so nothing was recorded: write the rationale"),
    ({**AGREES, "agrees_with_model": False}, "'disagreement_reason' must say why"),
    ({**AGREES, "agrees_with_model": "yes"}, "'agrees_with_model' must be true or false"),
    ({**AGREES, "actions": [{"action": "x", "owner": "y", "due": "soon"}]}, "'actions\\[0\\].due' field must be a date"),
])
def test_a_bad_decision_is_refused_naming_the_key(env, board_roots, decision, message):
    tmp_path = env
    meeting = _meeting(tmp_path)
    bundle = service.open_bundle(board_roots["original"] / "colon")
    (tmp_path / "p.json").write_text(json.dumps(patients(bundle, 1)[0][1]), encoding="utf-8")
    assert run("board", "add", "--meeting", meeting, "--cohort", "colon", "--patient", str(tmp_path / "p.json"),
               "--label", "A")[0] == 0
    assert run("board", "present", "--meeting", meeting, "--case", "A")[0] == 0
    (tmp_path / "d.json").write_text(json.dumps(decision), encoding="utf-8")
    code, out, err = run("board", "decide", "--meeting", meeting, "--case", "A", "--decision", str(tmp_path / "d.json"))
    assert code == 2 and out == ""
    assert __import__("re").search(message, err), err
    assert "Traceback" not in err


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)

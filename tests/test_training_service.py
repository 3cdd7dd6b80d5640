"""Trainee mode through the service, on SQLite and PostgreSQL: decide first (advice refused before the
initial answer), answers never overwritten (constraint and triggers), cases from the test split, the
report's scores recomputed independently, and manipulated advice never in a clinical view (the Patient
page's call, a tumor board's frozen snapshot, `equipoise predict`) or its log entries."""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import pytest
from sqlalchemy import text

from _store_fixtures import db_url  # noqa: F401  (fixture)
from test_training_scores import reference_scores


@pytest.fixture
def warfarin(bundles):
    return bundles("warfarin")


def _session(service, db_url, bundle, **kw):
    options = dict(cases=8, manipulated_share=0.5, seed=7)
    options.update(kw)
    return service.new_training_session(bundle.spec.name, url=db_url, bundle=bundle, **options)


def test_decide_first_order_and_answers_are_never_overwritten(db_url, warfarin):
    from core import service

    s = _session(service, db_url, warfarin)
    with pytest.raises(service.TrainingError, match="has not consented"):
        service.next_training_case(s.id, "ann", url=db_url)
    service.consent_to_training(s.id, "ann", url=db_url)
    first = service.next_training_case(s.id, "ann", url=db_url)
    assert first["case"] == 1 and first["stage"] == "initial"
    assert not {"advice", "truth", "manipulated", "model_advice", "interval", "warnings"} & set(first)
    with pytest.raises(service.TrainingError, match="Decide first"):
        service.release_advice(s.id, "ann", 1, url=db_url)
    with pytest.raises(service.TrainingError, match="advice has not been shown"):
        service.commit_final_answer(s.id, "ann", 1, value=30.0, url=db_url)
    with pytest.raises(service.TrainingError, match=r"'initial' answer must be a number in the range \[1, 200\] mg/week"):
        service.commit_initial_answer(s.id, "ann", 1, value=900, confidence=50, url=db_url)
    service.commit_initial_answer(s.id, "ann", 1, value=30.0, confidence=60, url=db_url)
    with pytest.raises(service.TrainingError, match="recorded once and never changed"):
        service.commit_initial_answer(s.id, "ann", 1, value=45.0, confidence=90, url=db_url)
    waiting = service.next_training_case(s.id, "ann", url=db_url)
    assert waiting["stage"] == "advice" and "advice" not in waiting  # decided, advice not yet released
    shown = service.release_advice(s.id, "ann", 1, url=db_url)
    assert isinstance(shown["advice"], float) and "truth" not in shown and "manipulated" not in shown
    assert service.next_training_case(s.id, "ann", url=db_url)["advice"] == shown["advice"]
    service.commit_final_answer(s.id, "ann", 1, value=shown["advice"], url=db_url)
    assert service.next_training_case(s.id, "ann", url=db_url)["case"] == 2
    with pytest.raises(service.TrainingError, match="every case is finished: 1 of 8"):
        service.training_debrief(s.id, "ann", url=db_url)
    report = service.training_report(s.id, trainee="ann", url=db_url).to_dict()
    assert [r["initial"] for r in report["rows"]] == [30.0]  # the first answer stands


@pytest.mark.parametrize("table, statement", [
    ("training_answers", "UPDATE training_answers SET value = 99"),
    ("training_answers", "DELETE FROM training_answers"),
    ("training_cases", "UPDATE training_cases SET body = '{}'"),
    ("training_cases", "DELETE FROM training_cases"),
    ("training_sessions", "UPDATE training_sessions SET settings = '{}'"),
    ("training_sessions", "DELETE FROM training_sessions")])
def test_triggers_refuse_update_and_delete(db_url, warfarin, table, statement):
    from core import service
    from core.service.training import _store

    s = _session(service, db_url, warfarin, cases=2)
    service.submit_training_answers(s.id, "ann", [{"case": 1, "initial": 30, "confidence": 50, "final": 31}],
                                    url=db_url)
    with pytest.raises(Exception, match="append-only"):
        with _store(db_url).engine.connect() as conn:
            conn.execute(text(statement))
            conn.commit()
    assert service.training_report(s.id, url=db_url).rows[0].initial == 30.0


def test_cases_come_from_the_held_out_test_split_and_the_share_is_wrong_by_construction(db_url, warfarin):
    from core import service
    from core.service.training import _cases
    from core.training import is_correct

    s = _session(service, db_url, warfarin, cases=12, manipulated_share=0.25)
    cases = _cases(s.id, db_url)
    assert {c.patient_id for c in cases} <= set(warfarin.test_patient_ids) and len(cases) == 12
    assert sum(c.manipulated for c in cases) == 3
    for c in cases:
        if c.manipulated:
            assert not is_correct("dose", c.advice, c.truth) and c.advice != c.model_advice
        else:
            assert c.advice == c.model_advice
    again = _session(service, db_url, warfarin, cases=12, manipulated_share=0.25)
    assert [c.to_dict() for c in _cases(again.id, db_url)] == [c.to_dict() for c in cases]  # seeded


def test_report_scores_recomputed_from_its_rows(db_url, bundles):
    from core import service

    colon = bundles("colon")
    s = _session(service, db_url, colon, cases=10, manipulated_share=0.3, seed=3)
    answers = [{"case": i, "initial": round(0.1 * i, 2), "confidence": 10 * i, "final": round(0.9 - 0.08 * i, 2)}
               for i in range(1, 11)]
    assert service.submit_training_answers(s.id, "bo", answers, url=db_url) == 10
    report = service.training_report(s.id, trainee="bo", url=db_url).to_dict()
    assert report["kind"] == "risk" and report["n_manipulated"] == 3 and len(report["rows"]) == 10
    for name, (value, n) in reference_scores("risk", report["rows"]).items():
        assert report[name]["n"] == n and (report[name]["value"] == pytest.approx(value) if value is not None
                                           else report[name]["value"] is None), name
    debrief = service.training_debrief(s.id, "bo", url=db_url).to_dict()
    assert sum(c["manipulated"] for c in debrief["cases"]) == 3
    assert all(c["advice_correct"] is False for c in debrief["cases"] if c["manipulated"])
    # the debrief table as the page shows it: answers typed, truth in words, correct by the 50% rule
    shown = service.training_debrief(s.id, "bo", url=db_url)
    by_case = {a["case"]: a for a in answers}
    for row, case in zip(shown.rows(), debrief["cases"]):
        assert row["your final answer"] == f"{100 * by_case[row['case']]['final']:.0f}%"
        assert row["truth"] == ("event" if case["truth"] == 1 else "no event")
        assert row["final correct"] == ("yes" if (by_case[row["case"]]["final"] >= 0.5) == (case["truth"] == 1) else "no")
    assert "50%" in shown.correctness_rule
    csv_text = service.training_cases_csv(s.id, url=db_url)
    assert csv_text.splitlines()[0].startswith("trainee,case,initial") and len(csv_text.splitlines()) == 11


def _numbers(obj, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k != "patient":  # the patient's own inputs (weights, heights) are not advice
                _numbers(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _numbers(v, out)
    elif isinstance(obj, float):
        out.add(round(obj, 6))
    return out


def test_manipulated_advice_never_reaches_a_clinical_view_or_its_log_entries(db_url, warfarin, bundle_dirs):
    from core import service
    from core._observers import TRAINING_KINDS
    from core.service.training import _cases
    from core.cli import main

    log = service.open_log(db_url)
    with service.log_context(log, user="trainee1", page="Training"):
        s = _session(service, db_url, warfarin, cases=6, manipulated_share=1.0, seed=11)
        service.submit_training_answers(s.id, "trainee1", [{"case": i, "initial": 30, "confidence": 50, "final": 30}
                                                           for i in range(1, 7)], url=db_url)
        cases = _cases(s.id, db_url)
        wrong = {round(c.advice, 6) for c in cases} | {round(v, 6) for c in cases for v in c.interval or ()}
        assert all(c.manipulated for c in cases)
    clinical_outputs = []
    with service.log_context(log, user="clinician1", page="Patient"):
        for c in cases:  # the same patients, seen clinically (the Patient page's call) ...
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clinical_outputs.append(service.predict(warfarin, dict(c.inputs)).to_dict())
        meeting = service.new_meeting(title="Anticoagulation board", date="2026-12-03", chair="Dr Chair")
        for c in cases:  # ... on a tumor board's agenda, frozen when presented ...
            service.add_case(meeting.id, warfarin, dict(c.inputs), label=f"T-{c.case}")
            clinical_outputs.append(service.present(meeting.id, f"T-{c.case}", bundle=warfarin).snapshot.report)
    for c in cases:  # ... and through `equipoise predict`
        path = bundle_dirs("warfarin").parent / f"training-iso-{c.case}.json"
        path.write_text(json.dumps(dict(c.inputs)))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["predict", "--bundle", str(bundle_dirs("warfarin")), "--patient", str(path)]) == 0
        clinical_outputs.append(json.loads(out.getvalue()))
    for report, c in zip(clinical_outputs, cases + cases + cases):
        assert report["dose"]["mg_per_week"] == pytest.approx(c.model_advice)
        assert not _numbers(report, set()) & wrong, "a manipulated value in a clinical report"
    entries = list(log.export(reports=True))
    clinical = [e for e in entries if e["body"]["kind"] not in TRAINING_KINDS]
    training = [e for e in entries if e["body"]["kind"] in TRAINING_KINDS]
    assert len(clinical) >= len(cases) and any(e["body"]["kind"] == "training_advice" for e in training)
    assert any(_numbers(e["report"], set()) & wrong for e in training)  # the test can see them where they are
    for e in clinical:
        assert not _numbers(e.get("report"), set()) & wrong, e["body"]["kind"]
        assert s.id not in json.dumps(e) and "manipulated" not in json.dumps(e)
    log.store.close()


def test_migration_0003_downgrades_and_upgrades_again(db_url):
    from alembic import command
    from sqlalchemy import inspect

    from core.store import open_store
    from core.store._migrate import alembic_config, upgrade

    store = open_store(db_url)
    assert {"training_sessions", "training_cases", "training_answers"} <= set(inspect(store.engine).get_table_names())
    config = alembic_config()
    with store.engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    store.engine.dispose()
    assert not {t for t in inspect(store.engine).get_table_names() if t.startswith("training_")}
    assert store.revision() == "0002"
    assert upgrade(store) == "0004"
    assert "training_answers" in inspect(store.engine).get_table_names()
    store.close()


def test_advice_first_condition_takes_no_initial_answer(db_url, warfarin):
    from core import service

    s = _session(service, db_url, warfarin, cases=3, condition="advice_first")
    service.consent_to_training(s.id, "cy", url=db_url)
    view = service.next_training_case(s.id, "cy", url=db_url)
    assert view["stage"] == "advice" and "advice" not in view
    with pytest.raises(service.TrainingError, match="advice-first condition: it takes no initial answer"):
        service.commit_initial_answer(s.id, "cy", 1, value=30.0, confidence=50, url=db_url)
    service.submit_training_answers(s.id, "cy", [{"case": i, "final": 40.0} for i in (1, 2, 3)], url=db_url)
    report = service.training_report(s.id, trainee="cy", url=db_url)
    assert report.scores["accuracy_final"].n == 3
    for name in ("accuracy_initial", "rair", "rsr", "over_reliance", "weight_of_advice", "overconfidence",
                 "confidence_brier"):
        assert report.scores[name].value is None and report.scores[name].n == 0  # not available, never 0

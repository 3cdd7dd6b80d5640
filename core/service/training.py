"""Trainee mode (re-exported by :mod:`core.service`): create a session, consent, decide first, release advice,
answer, debrief, report.

The order (:mod:`core.training.sessions`) is enforced here on the stored answers
(:mod:`core.training.repository`): a case's advice is released only after its initial answer and confidence
(decide-first; advice-first has no initial answer), and the final answer only after the advice. Every answer is a
new row; none is ever overwritten. Everything shown goes through ``_shown`` with a ``training_*`` kind, the only
kinds that may carry manipulated advice.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

from .._csv import csv_text
from .._observers import (TRAINING_ADVICE, TRAINING_ANSWER, TRAINING_CASE, TRAINING_DEBRIEF, TRAINING_REPORT,
                          TRAINING_SESSION, _shown)
from ..training import SCORE_LABELS, describe as describe_score  # noqa: F401  (for pages)
from ..training import DOSE_LIMITS, final_answer_start, parse_answer, parse_confidence  # noqa: F401 (pages)
from ..training import unit as training_unit  # noqa: F401  (for pages)
from ..training import (ADVICE_FIRST, DebriefCase, SessionSettings, TrainingCase, display_cues, is_correct,
                        score_rows, session_scores)
from ..training import repository as repo
from ..training.advice import build_cases
from ..training.sessions import (ADVICE, CONSENT, CONSENT_TEXT, FINAL, INITIAL, MSG_ADVICE_FIRST,  # noqa: F401
                                 MSG_DECIDE_FIRST, MSG_NO_ADVICE_YET, Debrief, TrainingError, TrainingReport,
                                 TrainingSession, case_rows, check_confidence, check_trainee as _trainee,
                                 check_value as _check_value, first_answer as _first_answer, may_release_advice,
                                 require_consent as _require_consent)
from .bundles import ensure_bundle
from .log import record_export
from .stores import current_store


def _store(url: str | None):
    return current_store(url=url)


def _cases(session_id: str, url) -> list[TrainingCase]:
    return repo.cases(_store(url), session_id)


def _answers(session_id: str, trainee: str | None, url) -> dict:
    return repo.answers(_store(url), session_id, trainee)


def _append(session_id, trainee, case_no, stage, value=None, confidence=None, *, url) -> None:
    repo.append_answer(_store(url), session_id, trainee, case_no, stage, value, confidence)


def new_training_session(cohort: str, *, cases: int, manipulated_share: float, seed: int,
                         condition: str = "decide_first", show_explanation: bool = True, show_interval: bool = True,
                         show_warnings: bool = True, created_by: str = "local", url: str | None = None,
                         bundle=None) -> TrainingSession:
    """Draw the cases from ``cohort``'s held-out test split, manipulate the chosen share, store them all."""
    settings = SessionSettings(cohort, cases, manipulated_share, seed, condition, show_explanation, show_interval,
                               show_warnings)
    bundle = bundle or ensure_bundle(cohort)
    built = build_cases(bundle, settings)
    session = TrainingSession(secrets.token_hex(8), settings, built[0].kind, bundle.bundle_id, repo.now(), created_by)
    repo.insert_session(_store(url), session, cohort, built)
    return _shown(TRAINING_SESSION, bundle, session, details={"session": session.id})


def training_session(session_id: str, *, url: str | None = None) -> TrainingSession:
    return repo.get_session(_store(url), session_id)


def training_sessions(*, url: str | None = None) -> list[TrainingSession]:
    return [training_session(i, url=url) for i in repo.session_ids(_store(url))]


def _case(session_id, case_no, url) -> tuple[TrainingSession, TrainingCase]:
    session = training_session(session_id, url=url)
    for c in _cases(session.id, url):
        if c.case == case_no:
            return session, c
    raise TrainingError(f"Session {session_id!r} has no case {case_no!r}; its cases are 1 to {session.settings.n_cases}.")


def consent_text() -> str:
    return CONSENT_TEXT


def consent_to_training(session_id: str, trainee: str, *, url: str | None = None) -> None:
    """Record that ``trainee`` read :data:`CONSENT_TEXT` and agreed (once)."""
    session, trainee = training_session(session_id, url=url), _trainee(trainee)
    if (trainee, 0, CONSENT) not in _answers(session.id, trainee, url):
        _append(session.id, trainee, 0, CONSENT, url=url)
        _shown(TRAINING_ANSWER, None, {"session": session.id, "stage": CONSENT, "text": CONSENT_TEXT},
               details={"session": session.id, "stage": CONSENT})


def has_consented(session_id: str, trainee: str, *, url: str | None = None) -> bool:
    session, trainee = training_session(session_id, url=url), _trainee(trainee)
    return (trainee, 0, CONSENT) in _answers(session.id, trainee, url)






def next_training_case(session_id: str, trainee: str, *, url: str | None = None) -> dict | None:
    """The trainee's next unfinished case as they may see it now (advice only once it is released), or None."""
    session, trainee = training_session(session_id, url=url), _trainee(trainee)
    answers = _answers(session.id, trainee, url)
    _require_consent(session.id, trainee, answers)
    for c in _cases(session.id, url):
        if (trainee, c.case, FINAL) not in answers:
            released = (trainee, c.case, ADVICE) in answers
            view = c.view(session.settings, with_advice=released)
            decided = session.settings.condition == ADVICE_FIRST or (trainee, c.case, INITIAL) in answers
            view.update(stage=FINAL if released else ADVICE if decided else INITIAL, of=session.settings.n_cases,
                        first_answer=_first_answer(answers, trainee, c.case))
            return _shown(TRAINING_ADVICE if released else TRAINING_CASE, None, view,
                          details={"session": session.id, "case": c.case})
    return None


def training_case_sheet(session_id: str, *, url: str | None = None) -> list[dict]:
    """Every case as a trainee sees it once its advice is released (for a study on paper or another tool):
    ``case``, the patient's ``inputs`` (and ``arm``), ``advice`` and what the settings show with it. No truth,
    no manipulation flag."""
    session = training_session(session_id, url=url)
    sheet = [c.view(session.settings, with_advice=True) for c in _cases(session.id, url)]
    return _shown(TRAINING_ADVICE, None, sheet, details={"session": session.id, "case": "all"})




def commit_initial_answer(session_id: str, trainee: str, case: int, *, value: float, confidence: float,
                          url: str | None = None) -> None:
    """Commit the initial answer and confidence (0-100) of a case, before its advice is released."""
    session, c = _case(session_id, case, url)
    trainee = _trainee(trainee)
    answers = _answers(session.id, trainee, url)
    _require_consent(session.id, trainee, answers)
    if session.settings.condition == ADVICE_FIRST:
        raise TrainingError(MSG_ADVICE_FIRST.format(session=session.id))
    value, confidence = _check_value(c.kind, value, "initial"), check_confidence(confidence)
    _append(session.id, trainee, c.case, INITIAL, value, confidence, url=url)
    _shown(TRAINING_ANSWER, None, {"session": session.id, "case": c.case, "stage": INITIAL, "value": value,
                                   "confidence": float(confidence)}, details={"session": session.id, "case": c.case})


def release_advice(session_id: str, trainee: str, case: int, *, url: str | None = None) -> dict:
    """Release a case's advice to the trainee: refused before the initial answer in the decide-first condition."""
    session, c = _case(session_id, case, url)
    trainee = _trainee(trainee)
    answers = _answers(session.id, trainee, url)
    _require_consent(session.id, trainee, answers)
    if not may_release_advice(session.settings, trainee, c.case, answers):
        raise TrainingError(MSG_DECIDE_FIRST.format(case=c.case))
    if (trainee, c.case, ADVICE) not in answers:
        _append(session.id, trainee, c.case, ADVICE, c.advice, url=url)
    view = {**c.view(session.settings, with_advice=True), "stage": FINAL, "of": session.settings.n_cases,
            "first_answer": _first_answer(answers, trainee, c.case)}
    return _shown(TRAINING_ADVICE, None, view, details={"session": session.id, "case": c.case})


def commit_final_answer(session_id: str, trainee: str, case: int, *, value: float, url: str | None = None) -> None:
    """Commit the final answer of a case, after its advice was released."""
    session, c = _case(session_id, case, url)
    trainee = _trainee(trainee)
    if (trainee, c.case, ADVICE) not in _answers(session.id, trainee, url):
        raise TrainingError(MSG_NO_ADVICE_YET.format(case=c.case, trainee=trainee))
    value = _check_value(c.kind, value, "final")
    _append(session.id, trainee, c.case, FINAL, value, url=url)
    _shown(TRAINING_ANSWER, None, {"session": session.id, "case": c.case, "stage": FINAL, "value": value},
           details={"session": session.id, "case": c.case})


def commit_typed_answer(session_id: str, trainee: str, case: int, *, stage: str, answer: str,
                        confidence: str | None = None, url: str | None = None) -> None:
    """Commit an answer as the trainee typed it (mg/week, or a risk in %; the ``initial`` one with how sure they
    are, 0-100), read strictly (:mod:`core.training.answers`): an empty or unreadable answer records nothing
    and is refused with a message saying what to type."""
    _, c = _case(session_id, case, url)
    if stage == INITIAL:
        commit_initial_answer(session_id, trainee, case, value=parse_answer(c.kind, answer, stage=INITIAL),
                              confidence=parse_confidence(confidence), url=url)
    elif stage == FINAL:
        commit_final_answer(session_id, trainee, case, value=parse_answer(c.kind, answer, stage=FINAL), url=url)
    else:
        raise TrainingError(f"An answer's stage is {INITIAL!r} or {FINAL!r}. Got {stage!r} instead.")


def submit_training_answers(session_id: str, trainee: str, answers: Iterable[Mapping], *,
                            url: str | None = None) -> int:
    """Record answers given elsewhere (on paper, another tool): each ``{case, initial, confidence, final}`` in
    the same order as on screen (consent, initial, advice, final). Returns how many cases were recorded."""
    session, trainee = training_session(session_id, url=url), _trainee(trainee)
    consent_to_training(session.id, trainee, url=url)
    n = 0
    for i, a in enumerate(answers):
        if not isinstance(a, Mapping) or "case" not in a or "final" not in a:
            raise TrainingError(f"Answer {i + 1} must be an object with 'case', 'initial', 'confidence' and 'final'. Got {a!r}.")
        if session.settings.condition != ADVICE_FIRST:
            commit_initial_answer(session.id, trainee, a["case"], value=a.get("initial"),
                                  confidence=a.get("confidence"), url=url)
        release_advice(session.id, trainee, a["case"], url=url)
        commit_final_answer(session.id, trainee, a["case"], value=a["final"], url=url)
        n += 1
    return n


def _rows(session: TrainingSession, trainee: str | None, url) -> list:
    return case_rows(_cases(session.id, url), _answers(session.id, trainee, url), trainee)


def training_report(session_id: str, *, trainee: str | None = None, url: str | None = None) -> TrainingReport:
    """Scores and per-case rows of a session, or of one trainee in it (finished cases only)."""
    session = training_session(session_id, url=url)
    trainee = None if trainee is None else _trainee(trainee)
    rows = _rows(session, trainee, url)
    names = sorted({r.trainee for r in rows}) if trainee is None else []
    by_trainee = tuple((n, score_rows(session.kind, [r for r in rows if r.trainee == n])) for n in names)
    overall = score_rows(session.kind, rows) if trainee is not None else session_scores(session.kind, rows)
    report = TrainingReport(session.id, trainee, overall, tuple(rows), by_trainee)
    return _shown(TRAINING_REPORT, None, report, details={"session": session.id, "trainee": trainee})


def training_trainees(session_id: str, *, url: str | None = None) -> list[str]:
    return sorted({t for t, _, _ in _answers(str(session_id), None, url)})


def training_debrief(session_id: str, trainee: str, *, url: str | None = None) -> Debrief:
    """Reveal, once every case is finished, the truth, the manipulation and the cues of each case."""
    session, trainee = training_session(session_id, url=url), _trainee(trainee)
    rows = {r.case: r for r in _rows(session, trainee, url)}
    if len(rows) < session.settings.n_cases:
        raise TrainingError(f"The debrief opens when every case is finished: {len(rows)} of "
                            f"{session.settings.n_cases} so far.")
    out = []
    for c in _cases(session.id, url):
        r, ok = rows[c.case], (lambda x, c=c: None if x is None else is_correct(c.kind, x, c.truth))
        out.append(DebriefCase(c.case, c.advice, c.model_advice, c.manipulated, c.truth, r.initial, r.final,
                               ok(r.initial), ok(r.final), ok(c.advice), display_cues(c, session.settings)))
    debrief = Debrief(session.id, trainee, tuple(out), score_rows(session.kind, rows.values()))
    return _shown(TRAINING_DEBRIEF, None, debrief, details={"session": session.id})


def training_cases_csv(session_id: str, *, url: str | None = None) -> str:
    """Every trainee's per-case rows as CSV (for an instructor); the export is recorded before it is returned."""
    report = training_report(session_id, url=url)
    fields = ["trainee", "case", "initial", "confidence", "advice", "advice_manipulated", "final", "truth"]
    content = csv_text((r.to_dict() for r in report.rows), fields)  # text cells a spreadsheet would run: '-prefixed
    record_export("training_cases_csv", content=content, details={"session": report.session})
    return content

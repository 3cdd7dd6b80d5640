"""Service functions of trainee mode (re-exported by :mod:`core.service`): create a session, consent, decide
first, release advice, answer, debrief, report.

The order is enforced here, on the stored answers: a case's advice is released only after its initial
answer and confidence are committed (decide-first condition; in the advice-first condition there is no
initial answer), and the final answer only after the advice. Every answer is a new row; none is ever
overwritten. Everything shown goes through ``_shown`` with a ``training_*`` kind, the only kinds that may
carry manipulated advice.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ._csv import csv_text
from ._errors import EquipoiseError
from ._observers import (TRAINING_ADVICE, TRAINING_ANSWER, TRAINING_CASE, TRAINING_DEBRIEF, TRAINING_REPORT,
                         TRAINING_SESSION, _shown)
from .store.training_tables import (ADVICE, CONSENT, FINAL, INITIAL, TrainingAnswerRow, TrainingCaseRow,
                                    TrainingSessionRow)
from .training import SCORE_LABELS, describe as describe_score  # noqa: F401  (for pages)
from .training import DOSE_LIMITS, final_answer_start, parse_answer, parse_confidence  # noqa: F401 (pages)
from .training import unit as training_unit  # noqa: F401  (for pages)
from .training import (ADVICE_FIRST, DOSE, CaseRow, DebriefCase, SessionSettings, TrainingCase, TrainingScores,
                       display_cues, is_correct, score_rows, session_scores)

CONSENT_TEXT = ("In this training session some of the advice is deliberately wrong, and you will not be told "
                "which until the debrief. Your answers, confidence and timing are recorded in the store and the "
                "audit log under your name. The cases are real (de-identified) patients from a held-out test "
                "split; nothing you answer reaches any patient's care.")
_STORES: dict = {}


class TrainingError(EquipoiseError, ValueError):
    """A training action out of order, for an unknown session or case, or with a bad answer."""


@dataclass(frozen=True)
class TrainingSession:
    """A created session: its id, settings, kind (dose or risk) and bundle."""

    id: str
    settings: SessionSettings
    kind: str
    bundle_id: str
    created: str
    created_by: str

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "bundle_id": self.bundle_id, "created": self.created,
                "created_by": self.created_by, **self.settings.to_dict()}


@dataclass(frozen=True)
class TrainingReport:
    """Scores of a session (or of one trainee in it) with the per-case rows they were computed from."""

    session: str
    trainee: str | None
    scores: TrainingScores
    rows: tuple[CaseRow, ...]
    by_trainee: tuple[tuple[str, TrainingScores], ...] = ()  # a whole session's report: each trainee's scores

    def to_dict(self) -> dict:
        out = {"session": self.session, "trainee": self.trainee, **self.scores.to_dict(),
               "rows": [r.to_dict() for r in self.rows]}
        if self.trainee is None:
            out["trainees"] = {name: scores.to_dict() for name, scores in self.by_trainee}
        return out


@dataclass(frozen=True)
class Debrief:
    """What the debrief reveals to one trainee: each case's truth, manipulation and cues, and the scores."""

    session: str
    trainee: str
    cases: tuple[DebriefCase, ...]
    scores: TrainingScores

    def to_dict(self) -> dict:
        return {"session": self.session, "trainee": self.trainee, "cases": [c.to_dict() for c in self.cases],
                "scores": self.scores.to_dict()}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _store(url: str | None):
    from .store import database_url, open_store

    key = url or database_url()
    if key not in _STORES:
        _STORES[key] = open_store(key)
    return _STORES[key]


def new_training_session(cohort: str, *, cases: int, manipulated_share: float, seed: int,
                         condition: str = "decide_first", show_explanation: bool = True, show_interval: bool = True,
                         show_warnings: bool = True, created_by: str = "local", url: str | None = None,
                         bundle=None) -> TrainingSession:
    """Draw the cases from ``cohort``'s held-out test split, manipulate the chosen share, store them all."""
    from . import service
    from .training.advice import build_cases

    settings = SessionSettings(cohort, cases, manipulated_share, seed, condition, show_explanation, show_interval,
                               show_warnings)
    bundle = bundle or service.ensure_bundle(cohort)
    built = build_cases(bundle, settings)
    session = TrainingSession(secrets.token_hex(8), settings, built[0].kind, bundle.bundle_id, _now(), created_by)
    with _store(url).session(write=True) as db:
        db.add(TrainingSessionRow(id=session.id, created=session.created, created_by=created_by, cohort=cohort,
                                  kind=session.kind, bundle_id=session.bundle_id,
                                  settings=json.dumps(settings.to_dict())))
        db.flush()
        db.add_all([TrainingCaseRow(session_id=session.id, case_no=c.case, body=json.dumps(c.to_dict()))
                    for c in built])
    return _shown(TRAINING_SESSION, bundle, session, details={"session": session.id})


def training_session(session_id: str, *, url: str | None = None) -> TrainingSession:
    with _store(url).session() as db:
        row = db.get(TrainingSessionRow, str(session_id))
        if row is None:
            raise TrainingError(f"There is no training session {session_id!r}. See `equipoise training sessions`.")
        return TrainingSession(row.id, SessionSettings(**json.loads(row.settings)), row.kind, row.bundle_id,
                               row.created, row.created_by)


def training_sessions(*, url: str | None = None) -> list[TrainingSession]:
    with _store(url).session() as db:
        ids = db.scalars(select(TrainingSessionRow.id).order_by(TrainingSessionRow.created)).all()
    return [training_session(i, url=url) for i in ids]


def _cases(session_id: str, url) -> list[TrainingCase]:
    with _store(url).session() as db:
        rows = db.scalars(select(TrainingCaseRow).where(TrainingCaseRow.session_id == session_id)
                          .order_by(TrainingCaseRow.case_no)).all()
        return [TrainingCase.from_dict(json.loads(r.body)) for r in rows]


def _answers(session_id: str, trainee: str | None, url) -> dict:
    """{(trainee, case, stage): row} of a session (one trainee, or all)."""
    query = select(TrainingAnswerRow).where(TrainingAnswerRow.session_id == session_id)
    if trainee is not None:
        query = query.where(TrainingAnswerRow.trainee == trainee)
    with _store(url).session() as db:
        return {(r.trainee, r.case_no, r.stage): r for r in db.scalars(query.order_by(TrainingAnswerRow.id)).all()}


def _append(session_id, trainee, case_no, stage, value=None, confidence=None, *, url) -> None:
    try:
        with _store(url).session(write=True) as db:
            db.add(TrainingAnswerRow(session_id=session_id, trainee=trainee, case_no=case_no, stage=stage,
                                     value=value, confidence=confidence, time=_now()))
    except IntegrityError:
        raise TrainingError(f"Case {case_no} already has its {stage} answer from {trainee!r}: an answer is "
                            "recorded once and never changed.") from None


def _trainee(trainee) -> str:
    if not isinstance(trainee, str) or not trainee.strip() or len(trainee) > 256:
        raise TrainingError(f"The 'trainee' must be a non-empty name of at most 256 characters. Got {trainee!r}.")
    return trainee.strip()


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


def _require_consent(session_id, trainee, answers):
    if (trainee, 0, CONSENT) not in answers:
        raise TrainingError(f"{trainee!r} has not consented to session {session_id!r} yet: show the consent text first.")


def _first_answer(answers: dict, trainee: str, case_no: int) -> float | None:
    """The trainee's own committed first answer to a case (None before it, or in the advice-first condition)."""
    row = answers.get((trainee, case_no, INITIAL))
    return None if row is None else row.value


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


def _check_value(kind, value, what):
    lo, hi, unit = (*DOSE_LIMITS, " mg/week") if kind == DOSE else (0.0, 1.0, " (a risk from 0 to 1)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise TrainingError(f"The '{what}' answer must be a number in the range [{lo:g}, {hi:g}]{unit}. Got {value!r} instead.")
    return float(value)


def commit_initial_answer(session_id: str, trainee: str, case: int, *, value: float, confidence: float,
                          url: str | None = None) -> None:
    """Commit the initial answer and confidence (0-100) of a case, before its advice is released."""
    session, c = _case(session_id, case, url)
    trainee = _trainee(trainee)
    answers = _answers(session.id, trainee, url)
    _require_consent(session.id, trainee, answers)
    if session.settings.condition == ADVICE_FIRST:
        raise TrainingError(f"Session {session.id!r} runs the advice-first condition: it takes no initial answer.")
    value = _check_value(c.kind, value, "initial")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 100:
        raise TrainingError(f"The 'confidence' must be a number in the range [0, 100] %. Got {confidence!r} instead.")
    _append(session.id, trainee, c.case, INITIAL, value, float(confidence), url=url)
    _shown(TRAINING_ANSWER, None, {"session": session.id, "case": c.case, "stage": INITIAL, "value": value,
                                   "confidence": float(confidence)}, details={"session": session.id, "case": c.case})


def release_advice(session_id: str, trainee: str, case: int, *, url: str | None = None) -> dict:
    """Release a case's advice to the trainee: refused before the initial answer in the decide-first condition."""
    session, c = _case(session_id, case, url)
    trainee = _trainee(trainee)
    answers = _answers(session.id, trainee, url)
    _require_consent(session.id, trainee, answers)
    if session.settings.condition != ADVICE_FIRST and (trainee, c.case, INITIAL) not in answers:
        raise TrainingError(f"Decide first: commit your initial answer and confidence for case {c.case} before its "
                            "advice is shown.")
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
        raise TrainingError(f"Case {c.case}'s advice has not been shown to {trainee!r} yet: the final answer comes after it.")
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


def _rows(session: TrainingSession, trainee: str | None, url) -> list[CaseRow]:
    cases = {c.case: c for c in _cases(session.id, url)}
    answers = _answers(session.id, trainee, url)
    trainees = sorted({t for t, _, _ in answers}) if trainee is None else [trainee]
    rows = []
    for t in trainees:
        for no, c in cases.items():
            final = answers.get((t, no, FINAL))
            if final is None:
                continue  # a case counts once it is finished
            initial = answers.get((t, no, INITIAL))
            rows.append(CaseRow(case=no, initial=initial and initial.value, advice=c.advice,
                                advice_manipulated=c.manipulated, final=final.value, truth=c.truth,
                                confidence=initial and initial.confidence, trainee=t if trainee is None else None))
    return rows


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
    from . import service

    report = training_report(session_id, url=url)
    fields = ["trainee", "case", "initial", "confidence", "advice", "advice_manipulated", "final", "truth"]
    content = csv_text((r.to_dict() for r in report.rows), fields)  # text cells a spreadsheet would run: '-prefixed
    service.record_export("training_cases_csv", content=content, details={"session": report.session})
    return content

"""The board's record-integrity rules: what a case is called when nobody typed a label, and when a decision may
be recorded at all.

* A case's label comes from the patient actually chosen (cohort and source) unless the user typed one; no
  text from an earlier patient can become a later patient's label.
* A decision needs an explicit answer to each of its key questions: an untouched form records nothing.
* Contradictory answers are refused unless explained: a board that says it agrees with the model's summary
  but recommends an option outside the options that summary names must say why, in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .records import CSV_ROW, FORM, SOURCES, TEST_PATIENT, TRIAGE, BoardError, Decision, parse_decision

SOURCE_WORDS = {TEST_PATIENT: "test patient", CSV_ROW: "CSV", FORM: "patient entered by hand"}
QUESTIONS = {  # decision key: what the user must do, in the form's words
    "recommendation": "choose the board's recommendation (for another treatment, write it in words)",
    "agrees_with_model": "answer whether the board agrees with the model's summary (yes or no)",
    "rationale": "write the rationale",
}
MSG_UNANSWERED = "The decision is not complete, so nothing was recorded: {todo}."
MSG_CONTRADICTION = (
    "The decision says the board agrees with the model's summary, but it recommends {choice}, which is not among "
    "the options that summary names ({best}). Either answer 'No' to 'Agrees with the model's summary' and say "
    "why not, or explain how the board agrees in 'If the board agrees but chose another option: how'.")
ARMS_SHOWN = ("clear", "similar")  # summary states that name the options the evidence supports
CHAIR_ROLE = "board_chair"
MEMBER_ROLES = (CHAIR_ROLE, "board_member")  # may create meetings, add and present cases, decide and comment
MSG_ROLE = "{user} may not do this: it needs the role {roles}."
MSG_NOT_CHAIR = ("Only this meeting's chair, {chair}, signs off its decisions; you are signed in as {user}. A meeting's "
                 "chair is named by sign-in name when the meeting is created.")


def require_role(identity, *roles: str) -> str:
    """The acting person's name, if they hold one of ``roles``; BoardError naming the roles otherwise."""
    if not identity.has(*roles):
        raise BoardError(MSG_ROLE.format(user=identity.user, roles=" or ".join(roles)))
    return identity.user


def may_sign_off(meeting, identity) -> bool:
    """Whether ``identity`` may sign off this meeting's decisions: a board chair, and the one the meeting names."""
    return identity.has(CHAIR_ROLE) and identity.user == meeting.chair


def check_sign_off(meeting, user: str) -> None:
    """The sign-off rule of :func:`may_sign_off` for a user whose chair role is already checked, with the names."""
    if meeting.chair != user:
        raise BoardError(MSG_NOT_CHAIR.format(chair=meeting.chair, user=user))


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise BoardError(f"A case's source must be one of {', '.join(SOURCES)}. Got {source!r} instead.")


def check_triage(triage) -> None:
    if triage not in TRIAGE:
        raise BoardError(f"The 'triage' field must be one of {', '.join(TRIAGE)}. Got {str(triage)[:40]!r} instead.")


def default_label(cohort: str, source: str, source_ref: str = "") -> str:
    """The label of a case nobody named: the cohort and the patient chosen (``colon · test patient 6``)."""
    ref = str(source_ref or "").strip()
    if source == TEST_PATIENT:
        ref = ref if ref.casefold().startswith("test patient") else f"test patient {ref}".strip()
    elif source == FORM:
        ref = SOURCE_WORDS[FORM]
    return f"{cohort} · {ref or SOURCE_WORDS.get(source, source)}"


def case_label(typed, *, cohort: str, source: str, source_ref: str = "") -> str:
    """The label a case is recorded under: what the user typed, else :func:`default_label`."""
    text = typed.strip() if isinstance(typed, str) else typed
    return text if text else default_label(cohort, source, source_ref)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def require_answers(data: Mapping[str, Any]) -> None:
    """Refuse a decision that leaves a key question unanswered (an untouched form), naming every one."""
    todo = [words for key, words in QUESTIONS.items() if _blank(data.get(key))]
    if todo:
        raise BoardError(MSG_UNANSWERED.format(todo="; ".join(todo)))


def model_best_set(summary: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The options the frozen summary names as supported (empty when it names none: a dose or no evidence)."""
    summary = summary or {}
    return tuple(summary.get("best_set") or ()) if summary.get("state") in ARMS_SHOWN else ()


def check_agreement(*, recommendation: str, agrees_with_model: bool, agreement_note: str,
                    best_set: tuple[str, ...]) -> None:
    """Refuse 'agrees with the model' beside a recommendation outside the model's best set, unless explained."""
    if not agrees_with_model or not best_set or agreement_note:
        return
    if recommendation.casefold() not in {b.casefold() for b in best_set}:
        raise BoardError(MSG_CONTRADICTION.format(choice=recommendation, best=", ".join(best_set)))


def checked_decision(data: Mapping[str, Any], *, case_id: str, snapshot_report: Mapping[str, Any]) -> Decision:
    """A decision on a presented case, checked against every rule here and in :func:`parse_decision`: each key
    question answered, each type right, a disagreement or a non-concordance explained, and no unexplained
    'agrees with the model' beside an option outside the frozen summary's best set."""
    if isinstance(data, Mapping):
        require_answers(data)
    options = [a["arm"] for a in snapshot_report.get("arms") or []]
    decision = parse_decision(data, case_id=case_id, options=options)
    check_agreement(recommendation=decision.recommendation, agrees_with_model=decision.agrees_with_model,
                    agreement_note=decision.agreement_note, best_set=model_best_set(snapshot_report.get("summary")))
    return decision

"""The one entry point that the pages, the CLI and the audit log go through.

Every function here that produces something a person will see hands its result to the registered
observers before returning it (:func:`observe`), so recording what was shown — the audit log, access
checks — has exactly one place to live. Callers lay results out; they never reach into deep modules.
With a :func:`log_context` set, each such result is committed to the audit log before it is returned.

>>> from core import service
>>> bundle = service.ensure_bundle("actg175")            # trained and saved on first use only
>>> report = service.predict(bundle, service.held_out_patients(bundle)[0])
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import BundleIntegrityError, PatientValidationError
from .data.cohorts import BUNDLED, load_cohort  # noqa: F401  (BUNDLED: the bundled cohorts' names)
from .data import limits  # noqa: F401  (input bounds and bounded readers, for the CLI and pages)
from ._format import inert_markdown, visible_strings, visible_text  # noqa: F401  (others' text: inert Markdown, no bidi)
from .fairness.groups import is_intersection  # noqa: F401  (for pages: is an audited attribute an intersection?)
from .reporting import tables, words  # noqa: F401  (for pages: every table and label in clinical words, shares as %)
from .modeling.bundle import BundleRefusedError, ModelBundle, load_bundle, verify_bundle
from .modeling.signing import SigningConfigError, require_trusted_signer
from ._service_auth import (PAGE_ROLES, ROLES, Identity, RolesFileError, check_roles, local_identity,  # noqa: F401
                            local_mode_exposure, may_open, record_sign_in, record_sign_out, roles_file, signed_in_identity, signed_out_identity)

DEFAULT_COHORT = "actg175"

from . import _memo  # noqa: E402  (results computed once per bundle, below the logging)
from ._observers import (BUNDLE_REFUSED, BUNDLE_TRAINED, CALIBRATION, CDS_CARD, CDS_FEEDBACK,  # noqa: F401
                         COUNTERFACTUAL, DECISION, EFFECT_CURVE, EXPORT, MODEL_CARD, PATIENT_REPORT, REFUSED_RECORD,
                         SUBGROUP_AUDIT, WHAT_IF, _OBSERVERS, Shown, _shown, observe)
# Per-concept service functions (board, training, scale, ...) live in core/_service_<concept>.py, each
# re-exported here with one import line, so this module stays the single entry point and stays short.
from ._service_scale import audit_partitioned, monitor_predictions, read_predictions, score_file  # noqa: F401
from ._service_training import (CONSENT_TEXT, SCORE_LABELS, Debrief, TrainingError, TrainingReport, TrainingSession, commit_final_answer, commit_initial_answer, commit_typed_answer, consent_to_training, final_answer_start, training_unit, describe_score, has_consented, new_training_session, next_training_case, release_advice, submit_training_answers, training_case_sheet, training_cases_csv, training_debrief, training_report, training_session, training_sessions, training_trainees)  # noqa: F401,E501
from ._service_board import (add_case, add_cases_from_csv, board_export, board_store, comment, decide, default_label, follow_up,  # noqa: F401,E402,E501
                             may_sign_off, meeting_record, meetings, new_meeting, present, reorder_cases, set_triage,
                             sign_off)
from .data.numbers import number_text, parse_number  # noqa: F401,E402  (the one strict reader of typed numbers)
from ._service_quality import validate_by_site  # noqa: F401  (leave-one-site-out validation; core/_service_quality.py)
from ._outfile import check_out_path, replacing as replacing_out, write_out  # noqa: F401  (every --out file)
from ._service_log import rotate_log_key  # noqa: F401  (the audit log's MAC key)
from ._views import (cds_app, decode_link_record, input_rows, link_form_values, record_from_fhir,  # noqa: F401
                     shown_warnings, upload_frame, upload_record, warning_digest)


# --- bundles ---------------------------------------------------------------------------------------


def bundle_root() -> Path:
    """``$EQUIPOISE_BUNDLE_DIR`` or ``bundles/`` in the working directory (a build output, not source)."""
    return Path(os.environ.get("EQUIPOISE_BUNDLE_DIR", "bundles"))


def bundle_path(name: str) -> Path:
    return bundle_root() / name


READY, MISSING, REFUSED = "ready", "missing", "refused"


@dataclass(frozen=True)
class BundleStatus:
    """Whether a cohort's bundle can be used: ``state`` is ``ready``, ``missing`` (never trained; may be
    trained) or ``refused`` (exists but fails its manifest, its signature or does not parse; never retrained
    on its own). For a refusal, ``file`` names the file at fault (None when the whole bundle is) and
    ``problem`` says what failed; ``message`` is the full sentence; ``retrain`` is False when retraining
    cannot help (the signing configuration itself is unusable). ``signed_by`` says who signed a ready bundle."""

    name: str
    path: str
    state: str
    message: str = ""
    file: str | None = None
    problem: str = ""
    retrain: bool = True
    signed_by: dict | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "path": self.path, "state": self.state, "message": self.message,
                "file": self.file, "problem": self.problem, "retrain": self.retrain, "signed_by": self.signed_by}


def bundle_status(name: str) -> BundleStatus:
    """Check a cohort's bundle on disk (manifest, id, every file's sha256, signature) without training anything."""
    path = bundle_path(name)
    if not os.path.lexists(path):
        return BundleStatus(name, str(path), MISSING, f"No bundle for {name!r} at {str(path)!r} yet.")
    try:
        manifest = verify_bundle(path)
    except BundleRefusedError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), exc.file, exc.problem)
    except SigningConfigError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), None, str(exc), retrain=False)
    except BundleIntegrityError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), None, str(exc))
    else:
        return BundleStatus(name, str(path), READY, signed_by=manifest["signed_by"])
    return _shown(BUNDLE_REFUSED, None, status, details={"cohort": name, "file": status.file})


def bundle_is_ready(name: str) -> bool:
    """True if the cohort's bundle exists and passes its manifest."""
    return bundle_status(name).state == READY


def open_bundle(path: str | Path) -> ModelBundle:
    """Load a bundle after checking its manifest, id and signature; raises BundleIntegrityError naming what is wrong."""
    try:
        return load_bundle(path)
    except BundleRefusedError as exc:
        _shown(BUNDLE_REFUSED, None, {"path": str(path), "file": exc.file, "problem": exc.problem, "message": str(exc)},
               details={"file": exc.file})
        raise


def ensure_bundle(name: str, *, progress: Callable[[str], None] | None = None) -> ModelBundle:
    """Load the cohort's bundle; a bundled cohort whose bundle is *missing* is trained and saved first.

    A bundle that exists but fails its manifest (a changed, missing or extra file, an old format, a bad
    signature) is refused with a :class:`BundleRefusedError` naming the file and what failed; it is left
    untouched and never retrained here. Retraining it is an explicit action: :func:`retrain_bundle`.
    Two callers that find it missing at once train it once: the second waits, then loads the first's.
    """
    path = bundle_path(name)
    if not os.path.lexists(path) and name in BUNDLED:
        require_trusted_signer(name)
        train_bundle(load_cohort(name), path, progress=progress)
    return load_bundle(path)


def retrain_bundle(name: str, *, progress: Callable[[str], None] | None = None) -> ModelBundle:
    """Explicitly retrain a bundled cohort's bundle; whatever was on disk (e.g. a refused bundle) is moved aside
    into ``bundles/NAME.versions/`` (a verified one under its bundle id), never deleted."""
    if name not in BUNDLED:
        raise BundleIntegrityError(f"Only a bundled cohort can be retrained here ({', '.join(BUNDLED)}); got {name!r}. "
                                   "Train your own with `equipoise train --csv FILE --spec SPEC --out DIR`.")
    require_trusted_signer(name)
    path = bundle_path(name)
    train_bundle(load_cohort(name), path, progress=progress, force=True)
    return load_bundle(path)


def train_bundle(cohort, out: str | Path, *, progress: Callable[[str], None] | None = None, force: bool = False,
                 by_site: bool = False):
    """Train, evaluate and assess ``cohort`` and write the sealed bundle; returns (path, Evaluation).

    Refused before any training if ``out`` holds something that is not a verified bundle (unless ``force``,
    which moves it aside) or the signing key is unusable. One writer per path: a caller that finds another
    training the same path waits for it and, if a new bundle was finished meanwhile, loads that one instead
    of training again. Observers are told of every bundle trained. ``by_site``: also leave-one-site-out
    validation, stored in the bundle (warfarin; minutes).
    """
    from .modeling.bundle import MANIFEST
    from .modeling.bundle_store import bundle_lock, check_target, verified_sha
    from .modeling.pipeline import build_bundle
    from .modeling.signing import signer_from_env

    say = progress or (lambda _m: None)
    signer_from_env()  # an unusable key fails now, not after a minute of training
    check_target(out, force=force)
    before = verified_sha(out)
    with bundle_lock(out, on_wait=lambda: say(f"another session is training {out}; waiting for it")) as waited:
        after = verified_sha(out) if waited else None
        if after is not None and after != before:
            say(f"it finished meanwhile: using that bundle instead of training again ({out})")
            return Path(out), load_bundle(out).evaluation
        path, evaluation = build_bundle(cohort, out, progress=progress, force=force, by_site=by_site)
    manifest = Path(path) / MANIFEST
    bundle_id = json.loads(manifest.read_text(encoding="utf-8"))["bundle_id"]
    event = Shown(BUNDLE_TRAINED, bundle_id, hashlib.sha256(manifest.read_bytes()).hexdigest(), evaluation,
                  details={"cohort": cohort.spec.name, "path": str(path)})
    for callback in list(_OBSERVERS):
        callback(event)
    return path, evaluation


# --- cohorts ---------------------------------------------------------------------------------------


def cohort_summaries() -> list[dict]:
    """Name, title, design, size and source of every bundled cohort."""
    from .data.cohorts import list_cohorts

    return [load_cohort(name).summary() for name in list_cohorts()]


def cohort_from_csv(csv: str | Path, spec):
    """A user's own cohort: a CSV with one row per patient and a spec (JSON path or CohortSpec)."""
    from .data.cohorts import cohort_from_csv as _cohort_from_csv

    return _cohort_from_csv(csv, spec)


def template(*, cohort: str | None = None, spec: str | Path | None = None) -> dict:
    """An example patient for a bundled cohort (its most typical values) or for a spec file (limits only)."""
    from .data.spec import CohortSpec
    from .data.template import patient_template

    if spec is not None:
        return patient_template(CohortSpec.from_json(spec))
    data = load_cohort(cohort)
    return patient_template(data.spec, data.frame)


# --- patients --------------------------------------------------------------------------------------


def held_out_patients(bundle: ModelBundle) -> list[dict]:
    """The bundle's held-out test patients as input records (with ``patient_id``), in split order."""
    from .modeling.heldout import held_out_records

    return held_out_records(bundle)


def typical_patient(bundle: ModelBundle) -> dict:
    """The template record of the bundle's cohort (its most typical training values)."""
    from .data.template import patient_template
    from .modeling.heldout import bundle_cohort

    return patient_template(bundle.spec, bundle_cohort(bundle).frame)["patient"]


def validate(bundle: ModelBundle, record: Mapping[str, Any]):
    """Validate a record against the bundle's spec; raises PatientValidationError naming every bad field."""
    from .data.validation import validate_patient

    return validate_patient(bundle.spec, record)


# --- one patient -----------------------------------------------------------------------------------


def predict(bundle: ModelBundle, record: Mapping[str, Any], *, patient_id: str | None = None,
            ignore: tuple[str, ...] = ()):
    """The full report for one patient (every arm or the dose, intervals, explanations, warnings)."""
    from .reporting.fast_report import ReportEngine  # the numeric fast path; same report as predict_patient

    report = ReportEngine.of(bundle).report(dict(record), patient_id=patient_id, ignore=ignore)
    return _shown(PATIENT_REPORT, bundle, report, patient_id=patient_id, record=record)


def refusal(bundle: ModelBundle, error: PatientValidationError, *, row: int | None = None,
            patient_id: str | None = None) -> dict:
    """The report for a refused record: its errors, so nothing is dropped silently."""
    from .reporting.patient_report import error_report

    return _shown(REFUSED_RECORD, bundle, error_report(bundle, error, row=row, patient_id=patient_id),
                  patient_id=patient_id)


@dataclass(frozen=True)
class RecordResult:
    """One record of many: its 1-based row, and either its report or its refusal."""

    row: int
    patient_id: str | None
    report: Any = None
    refused: dict | None = None

    def to_dict(self) -> dict:
        if self.report is None:
            return self.refused
        return {**self.report.to_dict(), "row": self.row}


def predict_records(bundle: ModelBundle, records: Iterable[Mapping[str, Any]], *, id_column: str,
                    ignore: tuple[str, ...] = ()) -> Iterator[RecordResult]:
    """Report on each record in turn; a refused record yields its errors instead (never dropped)."""
    for i, record in enumerate(records, start=1):
        pid = record.get(id_column)
        pid = None if pid is None or (isinstance(pid, float) and pid != pid) else str(pid)
        try:
            yield RecordResult(i, pid, report=predict(bundle, record, patient_id=pid, ignore=ignore))
        except PatientValidationError as exc:
            yield RecordResult(i, pid, refused=refusal(bundle, exc, row=i, patient_id=pid))


def slider_specs(bundle: ModelBundle, record: Mapping[str, Any]):
    """The what-if inputs for this patient (which features a clinician can change, and their ranges)."""
    from .explain import slider_specs as _slider_specs

    return _slider_specs(bundle, record)


def what_if(bundle: ModelBundle, record: Mapping[str, Any], changes: Mapping[str, Any]):
    """The patient's predictions with ``changes`` applied, beside the original ones."""
    from .explain import what_if as _what_if

    return _shown(WHAT_IF, bundle, _what_if(bundle, record, changes), record=record)


def counterfactual(bundle: ModelBundle, record: Mapping[str, Any], **options):
    """The smallest change to actionable features that alters the comparison (or the dose), if any."""
    from .explain import counterfactual as _counterfactual

    return _shown(COUNTERFACTUAL, bundle, _counterfactual(bundle, record, **options), record=record)


def effect_curve(bundle: ModelBundle, record: Mapping[str, Any], feature: str, **options):
    """How the prediction moves as one feature varies, the others held at the patient's values (ICE)."""
    from .explain import ice_curve

    return _shown(EFFECT_CURVE, bundle, ice_curve(bundle, record, feature, **options), record=record)


# --- the population ---------------------------------------------------------------------------------


def model_card(bundle: ModelBundle):
    """What the model is for, how it was checked, and its limitations (computed once per bundle, logged per view)."""
    return _shown(MODEL_CARD, bundle, _memo.model_card(bundle))


def calibration_curve(bundle: ModelBundle, *, by: str | None = None, n_bins: int = 10) -> list[dict]:
    """Held-out calibration curves, overall or per group of a protected attribute (computed once, logged per view)."""
    return _shown(CALIBRATION, bundle, _memo.calibration_curves(bundle, by, n_bins))


def audit_predictions_file(path: str | Path, **options):
    """The subgroup audit of any model's predictions in a CSV or Parquet file."""
    from .fairness import audit_predictions_file as _audit_predictions_file

    return _audit_predictions_file(path, **options)


def patient_groups(bundle: ModelBundle, record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The patient's (attribute, group) pairs as the subgroup audit names them (intersections included)."""
    from .fairness import patient_groups as _patient_groups

    return _patient_groups(bundle.spec, dict(record))


def cds_card(bundle: ModelBundle, card: dict, *, hook_instance: str | None = None,
             claims: Mapping[str, Any] | None = None) -> dict:
    """A CDS Hooks card about to be returned to an EHR (observers record it first, with its hookInstance and
    what the request claimed, e.g. ``claimed_user``, beside the verified user)."""
    return _shown(CDS_CARD, bundle, card, details={"hook_instance": hook_instance, "card": card.get("uuid"),
                                                  **(claims or {})})


def cds_feedback(bundle: ModelBundle, feedback: dict, *, claims: Mapping[str, Any] | None = None) -> dict:
    """CDS Hooks feedback (accepted / overridden with a reason) for a card; observers record it."""
    return _shown(CDS_FEEDBACK, bundle, feedback, details={"card": feedback.get("card"),
                                                          "outcome": feedback.get("outcome"), **(claims or {})})


def subgroup_audit(bundle: ModelBundle):
    """The held-out subgroup audit stored in the bundle (None for a bundle trained without one)."""
    return _shown(SUBGROUP_AUDIT, bundle, bundle.audit)


# --- the store and the audit log ---------------------------------------------------------------------


def store_url() -> str:
    """The store's URL as configured now (``EQUIPOISE_DATABASE_URL``, else the data directory's SQLite file)."""
    from .store import database_url

    return database_url()


def upgrade_store(url: str | None = None):
    """Open the store (``EQUIPOISE_DATABASE_URL``, else the SQLite file in ``EQUIPOISE_DATA_DIR``) and
    apply its migrations; returns the :class:`~core.store.Store`."""
    from .store import open_store

    return open_store(url)


def open_log(url: str | None = None):
    """The audit log in the store (migrations applied first): an :class:`~core.audit.AuditLog`."""
    from .audit import AuditLog

    return AuditLog(upgrade_store(url))


def log_context(log, *, user: str | None = None, role: str | None = None, page: str | None = None,
                patient_id=None, session=None):
    """From now on in this script run or command, every result this module returns is first committed
    to ``log`` naming ``user`` (default: the OS user), ``role`` (default ``local``: local mode, every role)
    and ``page``; ``patient_id`` may be a function returning the current patient's identifier; ``session``
    (a :class:`~core.audit.LogSession`) skips exact repeats. ``with service.log_context(...):`` limits it."""
    from .audit import LOCAL_ROLE, LogContext, local_user, record, set_context

    if record not in _OBSERVERS:
        observe(record)
    return set_context(LogContext(log, user or local_user(), role or LOCAL_ROLE, page, patient_id, session))


def log_session():
    """A browser session's memory of what it has recorded (pass to :func:`log_context` every run)."""
    from .audit import LogSession

    return LogSession()


def record_decision(bundle: ModelBundle | None, *, decision: str, reason: str, about: str | None = None,
                    patient_id: str | None = None, record: Mapping[str, Any] | None = None):
    """Record what a person decided (``accepted``, ``overridden``, …) about a result, and why."""
    from .audit import Decision

    return _shown(DECISION, bundle, Decision(decision, reason, about), patient_id=patient_id, record=record,
                  details={"decision": decision})


def record_export(what: str, *, content: bytes | str | None = None, report=None, bundle: ModelBundle | None = None,
                  patient_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
    """Record that ``what`` is about to leave the application: call it before handing the content over."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    sealed = {} if data is None else {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _shown(EXPORT, bundle, report, patient_id=patient_id, details={**(details or {}), "what": what, **sealed})

"""The one entry point that the pages, the CLI and the CDS Hooks service go through.

One module per use; each hands every result a person will see to the observers before returning it
(:func:`observe`), so recording what was shown (the audit log, access checks) has exactly one place to live.
With a :func:`log_context` set, each such result is committed to the audit log before it is returned, cache
hit or not. Callers lay results out; they never reach into the concept packages for computation.

==========================  ======================================================================
``service.bundles``         a cohort's sealed bundle: status, open, train, retrain
``service.cohorts``         bundled cohorts, a user's CSV with its spec, example patients
``service.patients``        one patient's report or refusal, many records, inputs and warnings shown, its export
``service.inputs``          an uploaded CSV, an EHR deep link, a FHIR chart mapped to a record
``service.what_if``         levers, what-if, counterfactual, effect curves
``service.population``      model card, calibration, subgroup audit, a patient's groups
``service.quality``         leave-one-site-out validation
``service.federated``       federated training over the sites (Flower) beside pooled and site-local
``service.scale``           batch scoring, partitioned audits, monitoring of predictions
``service.board``           tumor boards: meetings, cases, snapshots, decisions, reports
``service.training``        trainee mode: sessions, answers, advice, debrief, reports
``service.auth``            sign-in identities and roles
``service.cds``             the cards and feedback the CDS Hooks service returns
``service.serve``           the CDS Hooks service as an ASGI app
``service.log``             the store, the audit log's context, decisions and exports
==========================  ======================================================================

>>> from core import service
>>> bundle = service.ensure_bundle("actg175")            # trained and saved on first use only
>>> report = service.predict(bundle, service.held_out_patients(bundle)[0])
"""

from __future__ import annotations

from .._observers import (BUNDLE_REFUSED, BUNDLE_TRAINED, CALIBRATION, CDS_CARD, CDS_FEEDBACK, COUNTERFACTUAL,
                          DECISION, EFFECT_CURVE, EXPORT, MODEL_CARD, PATIENT_REPORT, REFUSED_RECORD, SUBGROUP_AUDIT,
                          WHAT_IF, Shown, observe)
from .auth import (PAGE_ROLES, ROLES, Identity, RolesFileError, check_roles, local_identity, local_mode_exposure,
                   may_open, record_sign_in, record_sign_out, roles_file, signed_in_identity, signed_out_identity)
from .board import (add_case, add_cases_from_csv, board_export, board_store, comment, decide, default_label, follow_up,
                    may_sign_off, meeting_record, meetings, new_meeting, present, reorder_cases, set_triage, sign_off)
from .bundles import (MISSING, READY, REFUSED, BundleStatus, bundle_is_ready, bundle_path, bundle_root, bundle_status,
                      ensure_bundle, open_bundle, retrain_bundle, train_bundle)
from .cds import cds_card, cds_feedback
from .cohorts import BUNDLED, DEFAULT_COHORT, cohort_from_csv, cohort_summaries, load_cohort, template
from .inputs import decode_link_record, link_form_values, record_from_fhir, upload_frame, upload_record
from .log import (log_context, log_session, open_log, record_decision, record_export, rotate_log_key, store_url,
                  upgrade_store)
from .patients import (RecordResult, held_out_patients, input_rows, patient_export, patient_export_later, predict,
                       predict_records, refusal, shown_warnings, typical_patient, validate, warning_digest)
from .population import audit_predictions_file, calibration_curve, model_card, patient_groups, subgroup_audit
from .federated import federated_comparison
from .quality import validate_by_site
from .serve import cds_app
from .scale import audit_partitioned, monitor_predictions, read_predictions, score_file
from .training import (CONSENT_TEXT, SCORE_LABELS, Debrief, TrainingError, TrainingReport, TrainingSession,
                       commit_final_answer, commit_initial_answer, commit_typed_answer, consent_to_training,
                       describe_score, final_answer_start, has_consented, new_training_session, next_training_case,
                       release_advice, submit_training_answers, training_case_sheet, training_cases_csv,
                       training_debrief, training_report, training_session, training_sessions, training_trainees,
                       training_unit)
from .vocabulary import (METRIC_NAMES, check_out_path, inert_markdown, is_intersection, limits, number_text,
                         parse_number, replacing_out, tables, visible_strings, visible_text, words, write_out)
from .what_if import counterfactual, effect_curve, slider_specs, what_if

__all__ = [
    # what is shown, and who is told (the audit log registers here)
    "observe", "Shown", "PATIENT_REPORT", "REFUSED_RECORD", "WHAT_IF", "COUNTERFACTUAL", "EFFECT_CURVE",
    "MODEL_CARD", "SUBGROUP_AUDIT", "CALIBRATION", "CDS_CARD", "CDS_FEEDBACK", "EXPORT", "DECISION",
    "BUNDLE_TRAINED", "BUNDLE_REFUSED",
    # bundles and cohorts
    "READY", "MISSING", "REFUSED", "BundleStatus", "bundle_root", "bundle_path", "bundle_status", "bundle_is_ready",
    "open_bundle", "ensure_bundle", "retrain_bundle", "train_bundle",
    "BUNDLED", "DEFAULT_COHORT", "load_cohort", "cohort_summaries", "cohort_from_csv", "template",
    # one patient, and inputs from outside the form
    "held_out_patients", "typical_patient", "validate", "predict", "refusal", "RecordResult", "predict_records",
    "input_rows", "shown_warnings", "warning_digest", "patient_export",
    "patient_export_later",
    "upload_frame", "upload_record", "decode_link_record", "link_form_values", "record_from_fhir",
    # what if
    "slider_specs", "what_if", "counterfactual", "effect_curve",
    # the population and quality
    "model_card", "calibration_curve", "subgroup_audit", "patient_groups", "audit_predictions_file",
    "validate_by_site", "federated_comparison", "score_file", "read_predictions", "audit_partitioned", "monitor_predictions",
    # tumor boards
    "board_store", "new_meeting", "meetings", "meeting_record", "add_case", "add_cases_from_csv", "default_label",
    "reorder_cases", "set_triage", "present", "decide", "may_sign_off", "sign_off", "follow_up", "comment",
    "board_export",
    # trainee mode
    "CONSENT_TEXT", "SCORE_LABELS", "TrainingError", "TrainingSession", "TrainingReport", "Debrief",
    "new_training_session", "training_session", "training_sessions", "training_trainees", "consent_to_training",
    "has_consented", "next_training_case", "commit_initial_answer", "release_advice", "commit_final_answer",
    "commit_typed_answer", "final_answer_start", "submit_training_answers", "training_debrief", "training_report",
    "training_case_sheet", "training_cases_csv", "describe_score", "training_unit",
    # sign-in and roles
    "Identity", "RolesFileError", "ROLES", "PAGE_ROLES", "roles_file", "check_roles", "local_identity",
    "local_mode_exposure", "signed_in_identity", "signed_out_identity", "may_open", "record_sign_in",
    "record_sign_out",
    # the CDS Hooks service
    "cds_app", "cds_card", "cds_feedback",
    # the store and the audit log
    "store_url", "upgrade_store", "open_log", "log_context", "log_session", "record_decision", "record_export",
    "rotate_log_key",
    # vocabulary for callers: input bounds, strict numbers, inert text, output files (no computation)
    "limits", "number_text", "parse_number", "inert_markdown", "visible_text", "visible_strings", "METRIC_NAMES",
    "tables", "words", "is_intersection",
    "check_out_path", "replacing_out", "write_out",
]

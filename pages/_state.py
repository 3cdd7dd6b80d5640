"""Streamlit-only helpers shared by the pages: session-state keys, cached read-only resources, and the
sidebar that picks the cohort and the patient. No maths here: everything shown comes from core."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core import EquipoiseError, ModelBundle, PatientReport, PatientValidationError, service

from pages._keys import COHORT, FORM_RAW, FROM, LABEL, LINK, LINK_ERROR, RECORD, REFUSED, SOURCE, TEST_ID, WHATIF
from pages import _keys as K
from pages._layout import inert

SOURCES = ("Held-out test patient", "New patient (form)", "Row of an uploaded CSV")


@dataclass(frozen=True)
class Selection:
    bundle: ModelBundle
    record: dict | None
    label: str


# --- cached, read-only, shared by all sessions --------------------------------------------------
@st.cache_resource(show_spinner=False)
def _bundle(name: str) -> ModelBundle:
    return service.open_bundle(service.bundle_path(name))


_READY: set[str] = set()  # cohorts whose bundle this server process has verified (no patient data)


def get_bundle(name: str, *, notice=None) -> ModelBundle:
    """The cohort's verified bundle. A missing one is trained with visible progress (first start); one that
    fails its manifest is refused on screen (file and what failed; in ``notice``, a main-area container,
    if given) with an explicit retrain button, and the page stops: it is never retrained on its own."""
    if name not in _READY:
        status = service.bundle_status(name)
        if status.state == service.MISSING:
            with st.status(f"First start: training the {name} model (under a minute)…", expanded=True) as box:
                try:
                    service.ensure_bundle(name, progress=lambda m: box.write(inert(m)))
                except EquipoiseError as exc:  # e.g. trusted keys configured but no signing key
                    box.update(label=f"The {name} model could not be trained", state="error", expanded=True)
                    st.error(inert(str(exc)))
                    st.stop()
                box.update(label=f"{name} model trained and saved", state="complete", expanded=False)
        elif status.state == service.REFUSED:
            with notice if notice is not None else st.container():
                _show_refusal(status)
            st.stop()
        _bundle.clear()  # a bundle verified now replaces anything cached under this name
        _READY.add(name)
    return _bundle(name)


def _show_refusal(status) -> None:
    st.error(f"**The {inert(status.name)} model bundle was refused and has not been loaded.**  \n"
             f"File: {inert(status.file or status.path)} — {inert(status.problem)}  \n{inert(status.message)}",
             icon=":material/block:")
    if not status.retrain:
        st.write("This is a problem of the signing configuration, not of the bundle: retraining would not help. "
                 "Fix the environment variable named above and restart the dashboard.")
        return
    st.write("Equipoise never retrains a bundle on its own: a changed bundle may be a fault or tampering worth "
             f"investigating first. Retraining moves the refused bundle aside into {inert(status.path + '.versions')} "
             f"(renamed, never deleted, so it can still be examined) and trains a new model on the bundled "
             f"{inert(status.name)} data.")
    if st.button("Retrain this bundle", key=K.retrain(status.name), type="primary"):
        with st.status(f"Retraining the {status.name} model…", expanded=True) as box:
            try:
                service.retrain_bundle(status.name, progress=lambda m: box.write(inert(m)))
            except EquipoiseError as exc:
                box.update(label=f"{status.name} model not retrained", state="error", expanded=True)
                st.error(inert(str(exc)))
                return
            box.update(label=f"{status.name} model retrained and saved", state="complete", expanded=False)
        _bundle.clear()
        st.rerun()


@st.cache_resource(show_spinner=False)
def test_records(name: str) -> dict[str, dict]:
    bundle = _bundle(name)
    return {r["patient_id"]: {k: v for k, v in r.items() if k != "patient_id"} for r in service.held_out_patients(bundle)}


@st.cache_resource(show_spinner=False)
def typical_record(name: str) -> dict:
    bundle = _bundle(name)
    return service.typical_patient(bundle)


def report_for(bundle: ModelBundle, record: dict) -> PatientReport:
    return quietly(service.predict, bundle, record)


def quietly(fn, *args, **kwargs):
    """Call core without printing its statistical warnings: they are in the results and shown as banners."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# --- the audit log: opened once per server process, its context set for every script run ---------
@st.cache_resource(show_spinner=False)
def audit_log():
    """The audit log (a shared resource: the store's engine; no patient data is cached here)."""
    return service.open_log()


def open_log(page: str):
    """Set this run's log context (local mode: the OS user, every role) so that every result core shows
    on ``page`` is committed to the audit log before the page can lay it out. Returns the log."""
    ss = st.session_state
    if ss.get(K.LOG_SESSION) is None:
        ss[K.LOG_SESSION] = service.log_session()
    session = ss[K.LOG_SESSION]

    def patient_id():
        return ss.get(TEST_ID, {}).get(ss.get(COHORT)) if ss.get(SOURCE) == SOURCES[0] else None

    log = audit_log()
    service.log_context(log, page=page, patient_id=patient_id, session=session)
    return log


# --- the sidebar --------------------------------------------------------------------------------
def _persist(widget_key: str, state_key: str):
    st.session_state[state_key] = st.session_state[widget_key]


def sidebar() -> Selection:
    ss = st.session_state
    ss.setdefault(COHORT, service.DEFAULT_COHORT)
    ss.setdefault(SOURCE, SOURCES[0])
    for key in (TEST_ID, RECORD, LABEL, WHATIF, FORM_RAW, FROM):
        ss.setdefault(key, {})
    _follow_link()
    notice = st.container()  # main area, above the page: where a refused bundle is explained
    with st.sidebar:
        st.header("Patient")
        ss[K.W_COHORT] = ss[COHORT]
        st.selectbox("Cohort and model", service.BUNDLED, key=K.W_COHORT, on_change=_persist, args=(K.W_COHORT, COHORT))
        bundle = get_bundle(ss[COHORT], notice=notice)
        st.caption(bundle.spec.title)
        ss[K.W_SOURCE] = ss[SOURCE]
        st.radio("Patient from", SOURCES, key=K.W_SOURCE, on_change=_persist, args=(K.W_SOURCE, SOURCE))
        name = ss[COHORT]
        if ss[SOURCE] == SOURCES[0]:
            _pick_test_patient(name)
        elif ss[SOURCE] == SOURCES[1]:
            _patient_form(bundle)
        else:
            _uploaded_row(bundle)
        if ss.get(LINK_ERROR):
            st.warning(inert(ss[LINK_ERROR]))
        st.divider()
        st.caption("Equipoise supports a decision; it never makes it.")
    _write_link()
    if ss[FROM].get(name) != ss[SOURCE]:  # switched source: nothing of the previous patient stays on screen
        _set_patient(name, None, "")
    return Selection(bundle=bundle, record=ss[RECORD].get(name), label=ss[LABEL].get(name, ""))


# --- deep links: ?cohort=NAME&patient=ID (a held-out test patient) ---------------------------------
def _follow_link() -> None:
    """Apply the URL's cohort and patient once, when they differ from the last link applied."""
    ss, qp = st.session_state, st.query_params
    link = (qp.get("cohort"), qp.get("patient"))
    if link == ss.get(LINK) or link == (None, None):
        return
    ss[LINK], ss[LINK_ERROR] = link, None
    cohort, patient = link
    if cohort is not None and cohort not in service.BUNDLED:
        ss[LINK_ERROR] = f"The link names cohort {cohort!r}, which is not one of {', '.join(service.BUNDLED)}."
        return
    cohort = cohort or ss[COHORT]
    ss[COHORT] = cohort
    if patient is not None:  # checked against the held-out patients once the bundle is loaded
        ss[SOURCE] = SOURCES[0]
        ss[TEST_ID][cohort] = patient
    elif qp.get("record") is not None:  # inputs carried by an EHR card's link: they fill the form
        try:
            ss[FORM_RAW][cohort] = service.decode_link_record(qp["record"])
        except ValueError as exc:
            ss[LINK_ERROR] = str(exc)
            return
        ss[SOURCE], ss[K.LINK_PENDING] = SOURCES[1], cohort
        st.query_params.pop("record", None)  # the inputs go to the form; the address keeps no patient data


def _write_link() -> None:
    """Keep the URL naming what is on screen (only held-out test patients: never typed or uploaded data)."""
    ss = st.session_state
    cohort = ss[COHORT]
    patient = ss[TEST_ID].get(cohort) if ss[SOURCE] == SOURCES[0] else None
    link = (cohort, patient)
    if (st.query_params.get("cohort"), st.query_params.get("patient")) != link:
        st.query_params.clear()
        st.query_params["cohort"] = cohort
        if patient is not None:
            st.query_params["patient"] = patient
    ss[LINK] = link


def _set_patient(name: str, record: dict | None, label: str) -> None:
    st.session_state[FROM][name] = st.session_state[SOURCE]
    st.session_state[RECORD][name] = record
    st.session_state[LABEL][name] = label
    st.session_state[WHATIF].pop(name, None)


def _chosen(name: str) -> None:
    st.session_state[TEST_ID][name] = st.session_state[K.W_TEST_ID]
    st.session_state[LINK_ERROR] = None


def _pick_test_patient(name: str) -> None:
    records = test_records(name)
    ids = list(records)
    chosen = st.session_state[TEST_ID].get(name)
    if chosen is not None and chosen not in records:
        st.session_state[LINK_ERROR] = (f"The link names patient {chosen!r}, who is not a held-out test patient of "
                                        f"{name}; showing the first test patient instead.")
    chosen = chosen if chosen in records else ids[0]
    st.session_state[TEST_ID][name] = st.session_state[K.W_TEST_ID] = chosen
    st.selectbox(f"Held-out patient ({len(ids)} in the test split)", ids, key=K.W_TEST_ID,
                 on_change=_chosen, args=(name,))
    if st.session_state[LABEL].get(name) != f"Test patient {chosen}":
        _set_patient(name, records[chosen], f"Test patient {chosen}")


def _patient_form(bundle: ModelBundle) -> None:
    spec, name = bundle.spec, bundle.spec.name
    start = st.session_state[FORM_RAW].get(name) or {}  # a new patient starts unknown: nothing is invented
    errors = st.session_state.get(REFUSED, {}).get(name, {})
    with st.form(K.form(name)):
        raw = {}
        for f in spec.features:
            key = K.form_field(name, f.name)
            unit = f" ({f.unit})" if f.unit else ""
            label = f"{f.label}{unit}" + ("" if f.required else " — optional")
            value = start.get(f.name)
            if f.is_numeric:
                helptext = f"Allowed {f.limits[0]:g}–{f.limits[1]:g}{unit}; usual {f.plausible[0]:g}–{f.plausible[1]:g}."
                raw[f.name] = st.number_input(label, value=None if value is None else float(value), step=1.0 if f.integer else 0.1,
                                              key=key, help=helptext, placeholder="unknown")
            else:
                options = [0, 1] if f.type == "binary" else list(f.categories)
                index = options.index(value) if value in options else None
                raw[f.name] = st.selectbox(label, options, index=index, key=key, placeholder="unknown",
                                           format_func=(lambda v: {0: "no", 1: "yes"}[v]) if f.type == "binary" else str)
            if f.name in errors:
                st.error(inert(errors[f.name]))
        submitted = st.form_submit_button("Use this patient")
    if st.session_state.pop(K.LINK_PENDING, None) == name:  # inputs from an EHR link: used as if submitted
        submitted, raw = True, dict(start)
    if submitted:
        st.session_state[FORM_RAW][name] = dict(raw)
        try:
            patient = service.validate(bundle, raw)
        except PatientValidationError as exc:
            st.session_state.setdefault(REFUSED, {})[name] = {e.field: e.message for e in exc.errors}
            _set_patient(name, None, "New patient (refused: see the form)")
            st.rerun()
        st.session_state.setdefault(REFUSED, {})[name] = {}
        _set_patient(name, patient.to_record(), "New patient (form)")


def _uploaded_row(bundle: ModelBundle) -> None:
    """One row of an uploaded CSV. Each file is parsed once (kept in the session under its sha256, only the latest
    file), within core's size and row limits; every text from it is shown inert."""
    import hashlib

    from core import InputFileError

    name, ss, limit = bundle.spec.name, st.session_state, service.limits.MAX_CSV_BYTES
    upload = st.file_uploader("CSV with one patient per row (columns named as in the template; at most "
                              f"{limit // 2**20} MB and {service.limits.MAX_CSV_ROWS:,} rows)", type=["csv"])
    if upload is None:
        _set_patient(name, None, "No CSV uploaded yet")
        return
    if upload.size > limit:  # refused before it is read into a parse
        st.error(inert(f"The CSV {upload.name} is {upload.size / 2**20:.1f} MB; the limit is {limit // 2**20} MB."))
        _set_patient(name, None, "CSV too large")
        return
    cache = ss.get("_equipoise_upload_parsed") or {}
    if cache.get("file_id") != upload.file_id:
        digest = hashlib.sha256(upload.getvalue()).hexdigest()
        if cache.get("sha256") != digest:
            try:
                cache = {"frame": service.limits.parse_csv(upload.getvalue(), "The CSV"), "error": None}
            except InputFileError as exc:
                cache = {"frame": None, "error": str(exc)}
        cache = ss["_equipoise_upload_parsed"] = {**cache, "file_id": upload.file_id, "sha256": digest}
    frame = cache["frame"]
    if frame is None:
        st.error(inert(cache["error"]))
        _set_patient(name, None, "CSV could not be read")
        return
    if frame.empty:
        st.error("The CSV has no rows.")
        _set_patient(name, None, "CSV has no rows")
        return
    row = st.number_input("Row", min_value=1, max_value=len(frame), value=1, step=1, key=K.W_CSV_ROW)
    record = {k: v for k, v in frame.iloc[int(row) - 1].to_dict().items() if k in bundle.spec.feature_names}
    refused = st.session_state.setdefault(REFUSED, {})
    try:
        patient = quietly(service.validate, bundle, record)  # implausible values: in the report, never in a log
    except PatientValidationError as exc:
        refused[name] = {e.field: e.message for e in exc.errors}
        for e in exc.errors:
            st.error(inert(e.message))
        _set_patient(name, None, f"CSV row {row} (refused)")
        return
    refused[name] = {}
    _set_patient(name, patient.to_record(), f"CSV row {row} of {upload.name}")


def show_refusal(name: str) -> bool:
    """On the main page, repeat why the form's or CSV row's patient was refused; True if it was."""
    errors = st.session_state.get(REFUSED, {}).get(name, {})
    for message in errors.values():
        st.error(inert(message))
    return bool(errors)

if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()

"""The sidebar that picks the cohort and the patient (held-out, form, CSV row, deep link), and keeps the
address in step with it. Streamlit-only; every check and number comes from core."""

from __future__ import annotations

import hashlib

import streamlit as st

from core import InputFileError, ModelBundle, PatientValidationError, service

from pages import _keys as K
from pages._keys import COHORT, FORM_RAW, FROM, LABEL, LINK, LINK_ERROR, RECORD, REFUSED, SOURCE, TEST_ID, WHATIF
from pages._layout import inert
from pages._state import SOURCES, Selection, get_bundle, quietly, test_records


ENTRIES = {  # ?entry=: a patient typed or uploaded in a session that ended (a reload): said so, never replaced
    "form": (SOURCES[1], "The patient typed on the form before the page was reloaded could not be restored: typed "
                         "values are kept only while the browser tab is open, never in the address. Type them again."),
    "csv": (SOURCES[2], "The CSV uploaded before the page was reloaded could not be restored: uploaded files are "
                        "kept only while the browser tab is open. Upload it again."),
}


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
    if qp.get("entry") in ENTRIES and patient is None and not ss[FORM_RAW].get(cohort):  # reloaded: never kept
        ss[SOURCE], ss[LINK_ERROR] = ENTRIES[qp["entry"]]
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
    entry = next((k for k, (source, _) in ENTRIES.items() if source == ss[SOURCE]), None)
    link = (cohort, patient)
    if (st.query_params.get("cohort"), st.query_params.get("patient"), st.query_params.get("entry")) != (*link, entry):
        st.query_params.clear()
        st.query_params["cohort"] = cohort
        if patient is not None:
            st.query_params["patient"] = patient
        if entry is not None:  # only where the patient came from: after a reload, say it was not kept
            st.query_params["entry"] = entry
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
    if st.session_state.get(K.LINK_PENDING) == name:  # an EHR link's inputs: only what the form can show
        start, problems = service.link_form_values(spec, start)
        st.session_state[FORM_RAW][name] = start
        if problems:
            st.session_state[LINK_ERROR] = " ".join(problems)
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
                raw[f.name] = st.text_input(label, value=service.number_text(value, integer=f.integer), key=key,
                                            help=helptext, placeholder="unknown")  # read strictly by core, as typed
            else:
                options = [0, 1] if f.type == "binary" else list(f.categories)
                index = options.index(value) if value in options else None
                raw[f.name] = st.selectbox(label, options, index=index, key=key, placeholder="unknown",
                                           format_func=(lambda v: {0: "no", 1: "yes"}[v]) if f.type == "binary" else str)
            if f.name in errors:
                st.error(inert(errors[f.name]))
        submitted = st.form_submit_button("Use this patient")
    from_link = st.session_state.pop(K.LINK_PENDING, None) == name
    if from_link:  # inputs from an EHR link: used as if submitted, its problems kept on screen
        submitted, raw = True, dict(start)
    if submitted:
        st.session_state[FORM_RAW][name] = dict(raw)
        if not from_link:
            st.session_state[LINK_ERROR] = None
        try:
            patient = service.validate(bundle, raw)
        except PatientValidationError as exc:
            st.session_state.setdefault(REFUSED, {})[name] = {e.field: e.message for e in exc.errors}
            _set_patient(name, None, "New patient (refused: see the form)")
            st.rerun()
        st.session_state.setdefault(REFUSED, {})[name] = {}
        _set_patient(name, patient.to_record(), "New patient (form)")
        if errors:  # the form above still shows the previous refusal: draw it again without
            st.rerun()


def _uploaded_row(bundle: ModelBundle) -> None:
    """One row of an uploaded CSV; each file is parsed once (the latest, by sha256), every text from it inert."""
    name, ss, limits = bundle.spec.name, st.session_state, service.limits
    upload = st.file_uploader("CSV with one patient per row (columns named as in the template; at most "
                              f"{limits.MAX_CSV_BYTES // 2**20} MB and {limits.MAX_CSV_ROWS:,} rows)", type=["csv"],
                              help="Identifier, treatment and outcome columns are skipped. Any other column that is "
                                   "not one of the model's inputs refuses the row, naming the column.")
    if upload is None:
        _set_patient(name, None, "No CSV uploaded yet")
        return
    digest = hashlib.sha256(upload.getvalue()).hexdigest()
    parsed = ss.get(K.UPLOAD) or {}
    if parsed.get("sha256") != digest:
        try:
            parsed = {"sha256": digest, "frame": service.upload_frame(upload.getvalue(), upload.name, upload.size)}
        except InputFileError as exc:
            parsed = {"sha256": digest, "frame": None, "error": str(exc)}
        ss[K.UPLOAD] = parsed
    if parsed["frame"] is None:
        st.error(inert(parsed["error"]))
        _set_patient(name, None, "CSV could not be used")
        return
    row = st.number_input("Row", min_value=1, max_value=len(parsed["frame"]), value=1, step=1, key=K.W_CSV_ROW)
    refused = st.session_state.setdefault(REFUSED, {})
    try:  # implausible values: in the report, never in a log
        patient = quietly(service.validate, bundle, service.upload_record(bundle, parsed["frame"], row))
    except PatientValidationError as exc:
        refused[name] = {e.field: e.message for e in exc.errors}
        for e in exc.errors:
            st.error(inert(e.message))
        _set_patient(name, None, f"CSV row {row} (refused)")
        return
    refused[name] = {}
    _set_patient(name, patient.to_record(), f"CSV row {row} of {upload.name}")


def show_refusal(name: str) -> bool:
    """On the main page, repeat why the form's or CSV row's patient was refused (or could not be restored);
    True if it was refused."""
    if st.session_state.get(LINK_ERROR):
        st.warning(inert(st.session_state[LINK_ERROR]))
    errors = st.session_state.get(REFUSED, {}).get(name, {})
    for message in errors.values():
        st.error(inert(message))
    return bool(errors)


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()

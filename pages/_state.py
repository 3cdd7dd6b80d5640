"""Streamlit-only helpers shared by the pages: cached read-only resources (bundles, held-out patients), the
bundle refusal notice and the audit-log context. The sidebar lives in ``pages/_sidebar.py``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import streamlit as st

from core import EquipoiseError, ModelBundle, PatientReport, service

from pages._keys import COHORT, SOURCE, SOURCES, TEST_ID  # noqa: F401  (SOURCES: for the sidebar and board)
from pages import _keys as K
from pages._layout import inert



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


def report_for(bundle: ModelBundle, record: dict) -> PatientReport:
    return quietly(service.predict, bundle, record)


def quietly(fn, *args, **kwargs):
    """Call core without printing its statistical warnings: they are in the results and shown as banners."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()

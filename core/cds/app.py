"""The CDS Hooks 2.0 service (ASGI, FastAPI): discovery, patient-view, feedback — through ``core.service``.

Every card goes through :func:`core.service.cds_card` and every feedback through
:func:`core.service.cds_feedback`, inside an audit-log context opened for that request (the log is opened
once, when the app is made; handlers may run on any worker thread, so each request sets its own context):
a card is committed to the log before it is returned, naming the EHR's user and, as a keyed hash only,
its patient. Bad input never gives a server error: an unreadable chart or an impossible value answers an
``info`` card naming the field.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
import warnings
from typing import Any

from .. import service
from .._errors import PatientValidationError
from ..fhir import FhirMappingError
from .cards import card_for_refusal, card_for_report, deep_link

HOOK = "patient-view"
PREFETCH = {"patient": "Patient/{{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}",
            "medications": "MedicationStatement?patient={{context.patientId}}"}
FEEDBACK_OUTCOMES = ("accepted", "overridden")
EHR_ROLE = "cds-hooks"  # entries written for an EHR's request (its user is the request's userId)


def request_user(body: dict) -> str:
    """Whom the EHR says is looking: ``context.userId``, else the FHIR authorization's subject."""
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    auth = body.get("fhirAuthorization") if isinstance(body.get("fhirAuthorization"), dict) else {}
    for value in (context.get("userId"), auth.get("subject")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:256]
    return "cds-hooks (no user named)"


def create_app(*, dashboard_url: str | None = None, cohorts: tuple[str, ...] | None = None, log=None):
    """The FastAPI app; ``dashboard_url`` is where deep links point (default ``$EQUIPOISE_DASHBOARD_URL``);
    ``log`` is the audit log written to (default: the store's, opened and migrated now)."""
    from fastapi import Body, FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    url = dashboard_url or os.environ.get("EQUIPOISE_DASHBOARD_URL", "http://localhost:8501")
    names = tuple(cohorts or service.BUNDLED)
    app = FastAPI(title="Equipoise CDS Hooks service", docs_url=None, redoc_url=None)
    origins = [o.strip() for o in os.environ.get("EQUIPOISE_CDS_ALLOW_ORIGINS", "").split(",") if o.strip()]
    if origins:  # a browser-based EHR or the CDS Hooks sandbox calls from these origins only; none by default
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(RequestValidationError)
    def unreadable(request, exc):  # e.g. a body that is not JSON: a plain 400, not FastAPI's 422 detail
        return JSONResponse(status_code=400, content={"error": "The request body is not valid JSON. A CDS Hooks "
                                                               "request needs hook, hookInstance and context."})

    bundles: dict[str, Any] = {}
    log = log if log is not None else service.open_log()

    def bundle(name: str):
        if name not in bundles:
            bundles[name] = service.ensure_bundle(name)
        return bundles[name]

    def source(name: str) -> dict:
        return {"source_label": f"Equipoise ({name})", "source_url": f"{url.rstrip('/')}/model_card?cohort={name}"}

    def problem(status: int, message: str):
        return JSONResponse(status_code=status, content={"error": message})

    @app.get("/cds-services")
    def discovery():
        out = []
        for name in names:
            spec = service.load_cohort(name).spec
            out.append({"id": name, "hook": HOOK, "title": f"Equipoise: {spec.title}",
                        "description": f"{spec.description} Options with evidence, never orders.",
                        "prefetch": PREFETCH})
        return {"services": out}

    @app.post("/cds-services/{service_id}")
    def patient_view(service_id: str, body: Any = Body(None)):
        if service_id not in names:
            return problem(404, f"No CDS service {service_id!r}. Services: {', '.join(names)}.")
        context = body.get("context") if isinstance(body, dict) else None
        if (not isinstance(body, dict) or body.get("hook") != HOOK or not isinstance(context, dict)
                or not _text(body.get("hookInstance")) or not _text(context.get("patientId"))):
            return problem(400, "A CDS Hooks request needs hook 'patient-view', hookInstance and context.patientId.")
        with service.log_context(log, user=request_user(body), role=EHR_ROLE, page=f"cds {service_id}",
                                 patient_id=context["patientId"]):
            cards = [dict(card, uuid=str(uuid.uuid4())) for card in _cards(service_id, body)]
            return {"cards": [service.cds_card(bundle(service_id), card, hook_instance=body["hookInstance"])
                              for card in cards]}

    def _cards(service_id: str, body: dict) -> list[dict]:
        b = bundle(service_id)
        if not b.spec.fhir:
            card = {"summary": f"The {service_id} cohort declares no FHIR mapping: no estimate from a chart.",
                    "indicator": "info", "detail": "Open the dashboard to enter the patient's values.",
                    "source": {"label": source(service_id)["source_label"], "url": source(service_id)["source_url"]}}
            return [card]
        try:
            mapped = service.record_from_fhir(b, body.get("prefetch") or {}, on=dt.date.today())
        except FhirMappingError as exc:
            card = {"summary": "No estimate: the chart could not be read (see details).", "indicator": "info",
                    "detail": service.inert_markdown(str(exc)), "source": {"label": source(service_id)["source_label"],
                                                   "url": source(service_id)["source_url"]}}
            return [card]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # every warning is in the report, and so in the card
                report = service.predict(b, mapped.record).to_dict()
        except PatientValidationError as exc:
            card = card_for_refusal([e.to_dict() for e in exc.errors], notes=mapped.notes, **source(service_id))
            return [card]
        link = deep_link(url, service_id, report["patient"])
        card = card_for_report(report, link=link, notes=mapped.notes, **source(service_id))
        return [card]

    @app.post("/cds-services/{service_id}/feedback")
    def feedback(service_id: str, body: Any = Body(None)):
        if service_id not in names:
            return problem(404, f"No CDS service {service_id!r}.")
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return problem(400, "Feedback needs a non-empty 'feedback' list of {card, outcome, outcomeTimestamp}.")
        for item in items:
            if not isinstance(item, dict) or item.get("outcome") not in FEEDBACK_OUTCOMES:
                return problem(400, f"Each feedback item needs 'outcome' in {list(FEEDBACK_OUTCOMES)}.")
        b = bundle(service_id)
        with service.log_context(log, user=request_user(body), role=EHR_ROLE, page=f"cds {service_id} feedback"):
            for item in items:
                service.cds_feedback(b, {"card": item.get("card"), "outcome": item["outcome"],
                                         "overrideReason": item.get("overrideReason"),
                                         "outcomeTimestamp": item.get("outcomeTimestamp")})
        return {"recorded": len(items)}

    return app


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())

"""The CDS Hooks 2.0 service (ASGI, FastAPI): discovery, patient-view, feedback — through ``core.service``.

Every card goes through :func:`core.service.cds_card` (observers such as the audit log record it before
it is returned) and every feedback through :func:`core.service.cds_feedback`. Bad input never gives a
server error: an unreadable chart or an impossible value answers an ``info`` card naming the field.
"""

from __future__ import annotations

import datetime as dt
import os
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


def create_app(*, dashboard_url: str | None = None, cohorts: tuple[str, ...] | None = None):
    """The FastAPI app; ``dashboard_url`` is where deep links point (default ``$EQUIPOISE_DASHBOARD_URL``)."""
    from fastapi import Body, FastAPI
    from fastapi.responses import JSONResponse

    url = dashboard_url or os.environ.get("EQUIPOISE_DASHBOARD_URL", "http://localhost:8501")
    names = tuple(cohorts or service.BUNDLED)
    app = FastAPI(title="Equipoise CDS Hooks service", docs_url=None, redoc_url=None)
    bundles: dict[str, Any] = {}

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
        if not isinstance(body, dict) or body.get("hook") != HOOK or not isinstance(body.get("context"), dict):
            return problem(400, "A CDS Hooks request needs hook 'patient-view', hookInstance and context.patientId.")
        b = bundle(service_id)
        if not b.spec.fhir:
            card = {"summary": f"The {service_id} cohort declares no FHIR mapping: no estimate from a chart.",
                    "indicator": "info", "detail": "Open the dashboard to enter the patient's values.",
                    "source": {"label": source(service_id)["source_label"], "url": source(service_id)["source_url"]}}
            return {"cards": [service.cds_card(b, card)]}
        try:
            mapped = service.record_from_fhir(b, body.get("prefetch") or {}, on=dt.date.today())
        except FhirMappingError as exc:
            card = {"summary": "No estimate: the chart could not be read (see details).", "indicator": "info",
                    "detail": str(exc), "source": {"label": source(service_id)["source_label"],
                                                   "url": source(service_id)["source_url"]}}
            return {"cards": [service.cds_card(b, card)]}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # every warning is in the report, and so in the card
                report = service.predict(b, mapped.record).to_dict()
        except PatientValidationError as exc:
            card = card_for_refusal([e.to_dict() for e in exc.errors], notes=mapped.notes, **source(service_id))
            return {"cards": [service.cds_card(b, card)]}
        link = deep_link(url, service_id, report["patient"])
        card = card_for_report(report, link=link, notes=mapped.notes, **source(service_id))
        return {"cards": [service.cds_card(b, card, hook_instance=body.get("hookInstance"))]}

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
        for item in items:
            service.cds_feedback(b, {"card": item.get("card"), "outcome": item["outcome"],
                                     "overrideReason": item.get("overrideReason"),
                                     "outcomeTimestamp": item.get("outcomeTimestamp")})
        return {"recorded": len(items)}

    return app

"""The CDS Hooks 2.0 service (ASGI, FastAPI): discovery, patient-view, feedback — through ``core.service``.

Every card goes through :func:`core.service.cds_card` and every feedback through
:func:`core.service.cds_feedback`, inside an audit-log context opened for that request (the log is opened
once, when the app is made; handlers may run on any worker thread, so each request sets its own context):
a card is committed to the log before it is returned, naming the verified CDS Client (``sub:<iss>|<sub>`` of
its bearer token) as the user, the ``userId`` it claims only as the entry's ``claimed_user``, and, as a keyed
hash only, its patient. Bad input never gives a server error: an unreadable chart or an impossible value
answers an ``info`` card naming the field; an identifier longer than :data:`~core.cds._text.MAX_ID_CHARS`
is a 422 naming it.

Authentication (CDS Hooks 2.0 bearer JWTs, :mod:`core.cds._tokens`) and the body limit (:mod:`core.cds._guard`)
sit in front of every route. There is no unauthenticated default: :func:`create_app` needs ``auth`` (an
:class:`~core.cds._config.AuthConfig`) or, for local trials and tests of other things, ``insecure_no_auth=True``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
import warnings
from typing import Any

from fastapi import Request  # at module level: FastAPI reads the handlers' annotations from here

from .._format import inert_markdown
from ..data.cohorts import BUNDLED, load_cohort
from ..service.bundles import ensure_bundle
from ..service.cds import cds_card, cds_feedback
from ..service.inputs import record_from_fhir
from ..service.log import log_context, open_log
from ..service.patients import predict
from .._errors import PatientValidationError
from ..fhir import FhirMappingError
from ._config import AuthConfig
from ._guard import PRINCIPAL, Guard
from ._text import (MAX_BODY_BYTES, MAX_FEEDBACK_ITEMS, MAX_ID_CHARS, MAX_OVERRIDE_REASON_CHARS, MAX_TIMESTAMP_CHARS,
                    visible)
from ._tokens import TokenVerifier
from .cards import card_for_refusal, card_for_report, deep_link

HOOK = "patient-view"
PREFETCH = {"patient": "Patient/{{context.patientId}}",
            "observations": "Observation?patient={{context.patientId}}",
            "medications": "MedicationStatement?patient={{context.patientId}}"}
FEEDBACK_OUTCOMES = ("accepted", "overridden")
EHR_ROLE = "cds-hooks"  # entries written for an EHR's request (its user is the verified token's iss and sub)
UNAUTHENTICATED = "cds-hooks (unauthenticated: --insecure-no-auth)"  # the user of every entry in insecure mode
NO_AUTH_MESSAGE = ("The CDS Hooks service needs an authentication configuration (trusted issuers and their keys): "
                   "pass auth=load_auth_config(PATH), or insecure_no_auth=True for a local trial only.")


class Refused(Exception):
    """A request the service answers with ``status`` and ``message`` (never a server error)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def identifier(value, field: str, *, required: bool = True, limit: int = MAX_ID_CHARS) -> str | None:
    """``value`` if it is a non-empty string of at most ``limit`` characters, made visible for storing;
    ``None`` when absent and not ``required``; else :class:`Refused` (400 missing, 422 too long) naming ``field``."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Refused(400, f"The '{field}' field must be a non-empty string.")
    if len(value) > limit:
        raise Refused(422, f"The '{field}' field must be at most {limit} characters. Got {len(value):,} instead.")
    return visible(value.strip())


def claimed_user(body: dict) -> str | None:
    """Whom the EHR says is looking (``context.userId``, else the FHIR authorization's subject): a claim,
    length-checked and made visible, never the entry's user."""
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    auth = body.get("fhirAuthorization") if isinstance(body.get("fhirAuthorization"), dict) else {}
    claims = [identifier(value, field) for value, field in ((context.get("userId"), "context.userId"),
                                                             (auth.get("subject"), "fhirAuthorization.subject"))
              if isinstance(value, str) and value.strip()]  # an empty or non-text value claims nobody, as before
    return claims[0] if claims else None


def create_app(*, dashboard_url: str | None = None, cohorts: tuple[str, ...] | None = None, log=None,
               auth: AuthConfig | None = None, insecure_no_auth: bool = False, max_body_bytes: int = MAX_BODY_BYTES,
               clock=None):
    """The FastAPI app; ``dashboard_url`` is where deep links point (default ``$EQUIPOISE_DASHBOARD_URL``);
    ``log`` is the audit log written to (default: the store's, opened and migrated now); ``auth`` the trusted
    CDS Clients, or ``insecure_no_auth=True`` (explicitly, never by default) to accept every caller; ``clock``
    (seconds since 1970) is for tests of token times."""
    import time

    from fastapi import Body, FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    if (auth is None) == (not insecure_no_auth):
        raise ValueError(NO_AUTH_MESSAGE if auth is None else "Pass either auth or insecure_no_auth=True, not both.")
    verifier = TokenVerifier(auth, clock=clock or time.time) if auth is not None else None
    url = dashboard_url or os.environ.get("EQUIPOISE_DASHBOARD_URL", "http://localhost:8501")
    names = tuple(cohorts or BUNDLED)
    app = FastAPI(title="Equipoise CDS Hooks service", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Guard, verifier=verifier, max_body_bytes=max_body_bytes)  # inside CORS: preflights pass
    origins = [o.strip() for o in os.environ.get("EQUIPOISE_CDS_ALLOW_ORIGINS", "").split(",") if o.strip()]
    if origins:  # a browser-based EHR or the CDS Hooks sandbox calls from these origins only; none by default
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(RequestValidationError)
    def unreadable(request, exc):  # e.g. a body that is not JSON: a plain 400, not FastAPI's 422 detail
        return JSONResponse(status_code=400, content={"error": "The request body is not valid JSON. A CDS Hooks "
                                                               "request needs hook, hookInstance and context."})

    @app.exception_handler(StarletteHTTPException)
    def http_error(request, exc):  # e.g. JSON nested too deeply to parse (400), an unknown path (404): same shape
        if exc.status_code == 400:
            return unreadable(request, exc)
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)}, headers=exc.headers)

    bundles: dict[str, Any] = {}
    log = log if log is not None else open_log()

    def bundle(name: str):
        if name not in bundles:
            bundles[name] = ensure_bundle(name)
        return bundles[name]

    def source(name: str) -> dict:
        return {"source_label": f"Equipoise ({name})", "source_url": f"{url.rstrip('/')}/model_card?cohort={name}"}

    def problem(status: int, message: str):
        return JSONResponse(status_code=status, content={"error": message})

    @app.exception_handler(Refused)
    def refused(request, exc: Refused):
        return problem(exc.status, str(exc))

    def caller(request: Request, body: dict) -> tuple[str, dict]:
        """The entry's user (the verified client) and the claims kept beside it."""
        principal = request.scope.get(PRINCIPAL)
        claims = {"claimed_user": claimed_user(body)}
        if principal is not None and principal.tenant:
            claims["tenant"] = principal.tenant
        return (principal.identity if principal is not None else UNAUTHENTICATED), claims

    @app.get("/cds-services")
    def discovery():
        out = []
        for name in names:
            spec = load_cohort(name).spec
            out.append({"id": name, "hook": HOOK, "title": f"Equipoise: {spec.title}",
                        "description": f"{spec.description} Options with evidence, never orders.",
                        "prefetch": PREFETCH})
        return {"services": out}

    @app.post("/cds-services/{service_id}")
    def patient_view(service_id: str, request: Request, body: Any = Body(None)):
        if service_id not in names:
            return problem(404, f"No CDS service {_short(service_id)}. Services: {', '.join(names)}.")
        context = body.get("context") if isinstance(body, dict) else None
        if (not isinstance(body, dict) or body.get("hook") != HOOK or not isinstance(context, dict)
                or not _text(body.get("hookInstance")) or not _text(context.get("patientId"))):
            return problem(400, "A CDS Hooks request needs hook 'patient-view', hookInstance and context.patientId.")
        hook_instance = identifier(body["hookInstance"], "hookInstance")
        identifier(context["patientId"], "context.patientId")  # stored only as a keyed hash, but bounded all the same
        user, claims = caller(request, body)
        with log_context(log, user=user, role=EHR_ROLE, page=f"cds {service_id}",
                                 patient_id=context["patientId"]):
            cards = [dict(card, uuid=str(uuid.uuid4())) for card in _cards(service_id, body)]
            return {"cards": [cds_card(bundle(service_id), card, hook_instance=hook_instance, claims=claims)
                              for card in cards]}

    def _cards(service_id: str, body: dict) -> list[dict]:
        b = bundle(service_id)
        if not b.spec.fhir:
            card = {"summary": f"The {service_id} cohort declares no FHIR mapping: no estimate from a chart.",
                    "indicator": "info", "detail": "Open the dashboard to enter the patient's values.",
                    "source": {"label": source(service_id)["source_label"], "url": source(service_id)["source_url"]}}
            return [card]
        try:
            mapped = record_from_fhir(b, body.get("prefetch") or {}, on=dt.date.today())
        except FhirMappingError as exc:
            card = {"summary": "No estimate: the chart could not be read (see details).", "indicator": "info",
                    "detail": inert_markdown(str(exc)), "source": {"label": source(service_id)["source_label"],
                                                   "url": source(service_id)["source_url"]}}
            return [card]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # every warning is in the report, and so in the card
                report = predict(b, mapped.record).to_dict()
        except PatientValidationError as exc:
            card = card_for_refusal([e.to_dict() for e in exc.errors], notes=mapped.notes, **source(service_id))
            return [card]
        link = deep_link(url, service_id, report["patient"])
        card = card_for_report(report, link=link, notes=mapped.notes, **source(service_id))
        return [card]

    @app.post("/cds-services/{service_id}/feedback")
    def feedback(service_id: str, request: Request, body: Any = Body(None)):
        if service_id not in names:
            return problem(404, f"No CDS service {_short(service_id)}.")
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return problem(400, "Feedback needs a non-empty 'feedback' list of {card, outcome, outcomeTimestamp}.")
        if len(items) > MAX_FEEDBACK_ITEMS:
            return problem(422, f"The 'feedback' list must have at most {MAX_FEEDBACK_ITEMS} items. "
                                f"Got {len(items):,} instead.")
        for item in items:
            if not isinstance(item, dict) or item.get("outcome") not in FEEDBACK_OUTCOMES:
                return problem(400, f"Each feedback item needs 'outcome' in {list(FEEDBACK_OUTCOMES)}.")
        checked = [_feedback_item(n, item) for n, item in enumerate(items)]
        user, claims = caller(request, body)
        b = bundle(service_id)
        with log_context(log, user=user, role=EHR_ROLE, page=f"cds {service_id} feedback"):
            for item in checked:
                cds_feedback(b, item, claims=claims)
        return {"recorded": len(items)}

    return app


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _short(value: str) -> str:
    return visible(repr(value if len(value) <= 60 else value[:57] + "..."))


def _feedback_item(n: int, item: dict) -> dict:
    """One feedback item as it is stored: card id and timestamp bounded, the override reason at most
    :data:`MAX_OVERRIDE_REASON_CHARS` characters of JSON."""
    reason = item.get("overrideReason")
    if reason is not None and len(json.dumps(reason, ensure_ascii=False)) > MAX_OVERRIDE_REASON_CHARS:
        raise Refused(422, f"The 'feedback[{n}].overrideReason' field must be at most {MAX_OVERRIDE_REASON_CHARS:,} "
                           "characters of JSON.")
    return {"card": identifier(item.get("card"), f"feedback[{n}].card", required=False),
            "outcome": item["outcome"], "overrideReason": reason,
            "outcomeTimestamp": identifier(item.get("outcomeTimestamp"), f"feedback[{n}].outcomeTimestamp",
                                           required=False, limit=MAX_TIMESTAMP_CHARS)}

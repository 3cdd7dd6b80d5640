"""The ASGI layer in front of every CDS Hooks route: the bearer token first, then the body size.

With a :class:`~core.cds._tokens.TokenVerifier`, a request without a valid token for the endpoint it calls
gets 401 with ``WWW-Authenticate: Bearer`` before its body is read; the verified :class:`Principal` is put in
the request's scope (``scope["equipoise.principal"]``) for the handler. Then the body is read in chunks up to
:data:`~core.cds._text.MAX_BODY_BYTES`: one byte more (or a ``Content-Length`` saying so) is a 413, and the
app never sees a partial body. CORS preflights (``OPTIONS``) carry no token and are passed through.
"""

from __future__ import annotations

import json

from ._tokens import AuthenticationError, TokenVerifier

PRINCIPAL = "equipoise.principal"
PREFIX = "/cds-services"
REALM = "equipoise-cds-hooks"


def endpoint_audiences(path: str, bases: tuple[str, ...]) -> tuple[str, ...]:
    """The ``aud`` values a token for ``path`` may carry: ``<base>`` for discovery, ``<base>/<id>`` for a service
    (its feedback endpoint also accepts ``<base>/<id>/feedback``), for each configured base URL."""
    rest = path[len(PREFIX):].strip("/") if path.startswith(PREFIX) else None
    if not rest:
        return bases
    parts = rest.split("/")
    if len(parts) == 2 and parts[1] == "feedback":
        return tuple(f"{b}/{parts[0]}" for b in bases) + tuple(f"{b}/{rest}" for b in bases)
    return tuple(f"{b}/{rest}" for b in bases)


class Guard:
    """Pure ASGI middleware; ``verifier=None`` is the explicit insecure mode (no token is asked for)."""

    def __init__(self, app, *, verifier: TokenVerifier | None, max_body_bytes: int):
        self.app, self.verifier, self.max_body_bytes = app, verifier, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.verifier is not None and not (self.verifier.config.open_discovery and scope["method"] == "GET"
                                              and scope["path"].rstrip("/") == PREFIX):
            from starlette.concurrency import run_in_threadpool

            audiences = endpoint_audiences(scope["path"], self.verifier.config.audience)
            try:  # in a worker thread: an allow-listed jku may be fetched
                principal = await run_in_threadpool(self.verifier.verify, headers.get(b"authorization"),
                                                    audiences=audiences)
            except AuthenticationError as exc:
                await _answer(send, 401, str(exc), [(b"www-authenticate", f'Bearer realm="{REALM}", '
                                                     'error="invalid_token"'.encode())])
                return
            scope = {**scope, PRINCIPAL: principal}
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(send, 413, self._too_large())
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # after the body: wait for the disconnect as the server would report it
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return (f"The request body is larger than {self.max_body_bytes:,} bytes; a CDS Hooks call with its "
                "prefetch is far smaller.")


async def _answer(send, status: int, message: str, extra: list | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})

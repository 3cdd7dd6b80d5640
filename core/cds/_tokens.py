"""Verifying a CDS Client's bearer token (CDS Hooks 2.0, "Trusting CDS Clients").

The EHR signs a JWT with its private key and sends it as ``Authorization: Bearer <JWT>``; the header names
the key (``kid``, and optionally a ``jku`` URL of the EHR's JWK Set). :meth:`TokenVerifier.verify` accepts it
only when, in this order:

1. the header's ``alg`` is one the configuration allows (``none`` and HS* never are) and it names a ``kid``;
2. the ``iss`` claim is a configured issuer (and ``sub``, if the issuer lists subjects, is one of them);
3. the key is that issuer's: from its JWKS file, or — only when the header's ``jku`` is on the issuer's
   allow-list — from that URL (fetched with a 5 s timeout, at most 256 kB, https only except loopback,
   no redirects, cached for 5 minutes, refetched at most every 30 s for an unknown ``kid``);
4. the signature verifies with that key (joserfc, RFC 7515);
5. ``aud`` names the endpoint being called; ``exp`` has not passed and ``iat`` is not in the future (each
   with the configured clock skew); ``exp - iat`` is at most the configured lifetime;
6. its ``jti`` has not been seen from that issuer before.

Replay memory is in this process only: every ``jti`` accepted is remembered until its token expires (plus the
skew), so a token is accepted once. Several worker processes, or a restart within a token's lifetime, do not
share that memory: run one process, or put a shared store behind :class:`ReplayCache`'s two methods.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Callable

from .._errors import EquipoiseError
from ._config import MAX_JWKS_BYTES, AuthConfig, AuthConfigError, Issuer, check_jwks
from ._text import MAX_ID_CHARS, visible

MAX_TOKEN_CHARS = 16_384
JKU_TIMEOUT_S = 5
JKU_CACHE_S = 300
JKU_RETRY_S = 30


class AuthenticationError(EquipoiseError):
    """A request's bearer token is missing or not acceptable; ``str()`` says why (never with key material)."""


@dataclass(frozen=True)
class Principal:
    """The verified CDS Client: its ``iss`` and ``sub`` (and ``tenant`` if it sent one)."""

    iss: str
    sub: str
    jti: str
    exp: float
    tenant: str | None = None

    @property
    def identity(self) -> str:
        """The typed identity written to the audit log: ``sub:<iss>|<sub>`` (as sign-in identities are)."""
        return f"sub:{visible(self.iss)}|{visible(self.sub)}"


class ReplayCache:
    """The ``jti`` values already accepted, per issuer, each until its token's expiry (thread-safe)."""

    PURGE_EVERY_S = 10

    def __init__(self):
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def first_use(self, iss: str, jti: str, *, until: float, now: float) -> bool:
        """Remember ``jti`` until ``until``; False if it was already remembered."""
        with self._lock:
            if now >= self._next_purge:  # forget expired tokens (they are refused as expired anyway)
                self._seen = {k: t for k, t in self._seen.items() if t >= now}
                self._next_purge = now + self.PURGE_EVERY_S
            if self._seen.get((iss, jti), -1.0) >= now:
                return False
            self._seen[(iss, jti)] = until
            return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a jku URL names the JWK Set itself; a redirect could lead anywhere


class JkuKeys:
    """JWK Sets fetched from allow-listed ``jku`` URLs, cached (see the module docstring for the bounds)."""

    def __init__(self, *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._cache: dict[str, tuple[float, dict]] = {}
        self._tried: dict[str, float] = {}
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))

    def keyset(self, url: str, kid: str) -> dict:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            fresh = cached is not None and now - cached[0] < JKU_CACHE_S
            knows = cached is not None and any(k.get("kid") == kid for k in cached[1]["keys"])
            if cached is not None and ((fresh and knows) or now - self._tried.get(url, -1e9) < JKU_RETRY_S):
                return cached[1]
            self._tried[url] = now
        jwks = self._fetch(url)
        with self._lock:
            self._cache[url] = (now, jwks)
        return jwks

    def _fetch(self, url: str) -> dict:
        try:
            with self._opener.open(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                   timeout=JKU_TIMEOUT_S) as response:
                raw = response.read(MAX_JWKS_BYTES + 1)
            if len(raw) > MAX_JWKS_BYTES:
                raise AuthenticationError(f"The JWK Set at the token's jku is larger than {MAX_JWKS_BYTES:,} bytes.")
            return check_jwks(json.loads(raw), "the JWK Set at the token's jku")
        except (OSError, ValueError, AuthConfigError) as exc:
            raise AuthenticationError(f"The JWK Set at the token's jku could not be used ({type(exc).__name__}).") from None


class TokenVerifier:
    """Checks bearer tokens against an :class:`~core.cds._config.AuthConfig` (see the module docstring)."""

    def __init__(self, config: AuthConfig, *, clock: Callable[[], float] = time.time, replay: ReplayCache | None = None):
        from joserfc.jwk import KeySet

        self.config = config
        self._clock = clock
        self._replay = replay or ReplayCache()
        self._jku = JkuKeys(clock=clock)
        self._files = {iss: KeySet.import_key_set(i.jwks) for iss, i in config.issuers.items() if i.jwks}

    def verify(self, authorization: str | bytes | None, *, audiences: tuple[str, ...]) -> Principal:
        """The :class:`Principal` of a valid ``Authorization`` header whose ``aud`` names one of ``audiences``."""
        from joserfc import jws, jwt
        from joserfc.errors import JoseError

        token = _bearer(authorization)
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise AuthenticationError("The bearer token is not a signed JWT (JWS compact serialization).") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.config.algorithms:
            raise AuthenticationError(f"The token's signing algorithm {_shown(alg)} is not accepted; "
                                      f"accepted: {', '.join(self.config.algorithms)}.")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("The token's header names no key (kid).")
        if not isinstance(claims, dict):
            raise AuthenticationError("The token's payload is not a JSON object of claims.")
        issuer = self.config.issuers.get(claims.get("iss")) if isinstance(claims.get("iss"), str) else None
        if issuer is None:
            raise AuthenticationError(f"The token's issuer {_shown(claims.get('iss'))} is not a trusted CDS Client.")
        key = self._key(issuer, kid, header.get("jku"))
        try:
            verified = jwt.decode(token, key, algorithms=[alg]).claims
        except (JoseError, ValueError, TypeError):
            raise AuthenticationError("The token's signature does not verify with the issuer's key "
                                      f"{_shown(kid)}.") from None
        return self._check_claims(issuer, verified, audiences)

    def _key(self, issuer: Issuer, kid: str, jku):
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if jku is not None:
            if not isinstance(jku, str) or jku.rstrip("/") not in issuer.jku:
                raise AuthenticationError(f"The token's jku {_shown(jku)} is not on the allow-list of issuer "
                                          f"{_shown(issuer.iss)}.")
            keyset = KeySet.import_key_set(self._jku.keyset(jku.rstrip("/"), kid))
        elif issuer.iss in self._files:
            keyset = self._files[issuer.iss]
        else:
            raise AuthenticationError(f"Issuer {_shown(issuer.iss)} has no key file here; its tokens must name an "
                                      "allow-listed jku.")
        try:
            return keyset.get_by_kid(kid)
        except (JoseError, ValueError, LookupError):
            raise AuthenticationError(f"The token's key {_shown(kid)} is not one of issuer {_shown(issuer.iss)}'s "
                                      "keys.") from None

    def _check_claims(self, issuer: Issuer, claims: dict, audiences: tuple[str, ...]) -> Principal:
        c, now = self.config, self._clock()
        for name in ("sub", "jti"):
            value = claims.get(name)
            if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
                raise AuthenticationError(f"The token's '{name}' claim must be a string of 1 to {MAX_ID_CHARS} "
                                          "characters.")
        if issuer.subjects and claims["sub"] not in issuer.subjects:
            raise AuthenticationError(f"The token's subject {_shown(claims['sub'])} is not one this issuer may use.")
        aud = claims.get("aud")
        named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a.rstrip("/") in audiences for a in named):
            raise AuthenticationError(f"The token's audience {_shown(aud)} is not this endpoint "
                                      f"({', '.join(audiences)}).")
        times = {}
        for name in ("exp", "iat"):
            value = claims.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise AuthenticationError(f"The token's '{name}' claim must be a number of seconds since 1970.")
            times[name] = float(value)
        if times["exp"] <= now - c.clock_skew_s:
            raise AuthenticationError("The token has expired.")
        if times["iat"] > now + c.clock_skew_s:
            raise AuthenticationError("The token's issue time (iat) is in the future.")
        if not 0 < times["exp"] - times["iat"] <= c.max_token_lifetime_s:
            raise AuthenticationError(f"The token's lifetime (exp - iat) must be in the range (0, "
                                      f"{c.max_token_lifetime_s}] seconds. Got {times['exp'] - times['iat']:g} instead.")
        if not self._replay.first_use(issuer.iss, claims["jti"], until=times["exp"] + c.clock_skew_s, now=now):
            raise AuthenticationError("The token has been used before (its jti was seen): each call needs a new token.")
        tenant = claims.get("tenant")
        tenant = visible(tenant[:MAX_ID_CHARS]) if isinstance(tenant, str) and tenant else None
        return Principal(issuer.iss, claims["sub"], claims["jti"], times["exp"], tenant)


def _bearer(authorization) -> str:
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    if not authorization:
        raise AuthenticationError("No bearer token: a CDS Client must send 'Authorization: Bearer <JWT>' (CDS Hooks 2.0).")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("The Authorization header must be 'Bearer <JWT>'.")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthenticationError(f"The bearer token is longer than {MAX_TOKEN_CHARS:,} characters.")
    return token


def _shown(value) -> str:
    """An attacker-supplied value as a short, escaped repr for a message."""
    text = repr(value)
    return visible(text if len(text) <= 80 else text[:77] + "...")

"""A test EHR's signing keys and tokens (CDS Hooks 2.0 bearer JWTs), made in the test: an EC P-384 key (ES384)
and an RSA key (RS384) the service trusts, a JWKS file holding only their public halves, a configuration file
naming them, and an attacker's key that reuses the trusted kid."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISS = "https://ehr.example.org"
SUB = "ehr-client-7"
BASE = "https://cds.example.org/cds-services"   # the audience this service answers as
PREFIX = "/cds-services"


def _pem(private_key) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def ec_key(kid: str) -> ECKey:
    return ECKey.import_key(_pem(ec.generate_private_key(ec.SECP384R1())), {"kid": kid})


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.import_key(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), {"kid": kid})


class Ehr:
    """The trusted EHR: ``keys`` (ES384 ``ehr-ec``, RS384 ``ehr-rsa``), and an untrusted ``mallory`` key with kid ``ehr-ec``."""

    def __init__(self):
        self.keys = {"ES384": ec_key("ehr-ec"), "RS384": rsa_key("ehr-rsa")}
        self.mallory = ec_key("ehr-ec")

    def jwks(self) -> dict:
        return {"keys": [k.as_dict(private=False) for k in self.keys.values()]}

    def write_config(self, folder: Path, **settings) -> Path:
        """A TOML configuration trusting this EHR (its JWKS in a file beside it); ``settings`` override keys."""
        (folder / "ehr-jwks.json").write_text(json.dumps(self.jwks()))
        issuer = {"iss": ISS, "jwks_file": "ehr-jwks.json", **settings.pop("issuer", {})}
        top = {"audience": [BASE], "max_token_lifetime_s": 300, "clock_skew_s": 30, **settings}
        lines = [f"{k} = {json.dumps(v)}" for k, v in top.items()] + ["", "[[issuer]]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in issuer.items()]
        path = folder / "cds-auth.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def token(self, aud: str | list = f"{BASE}/warfarin", *, alg: str = "ES384", key=None, header: dict | None = None,
              now: float | None = None, **claims) -> str:
        now = time.time() if now is None else now
        key = key or self.keys[alg]
        body = {"iss": ISS, "sub": SUB, "aud": aud, "iat": int(now), "exp": int(now) + 120, "jti": str(uuid.uuid4()),
                **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT", **(header or {})}, body, key, algorithms=[alg])


def unsigned(claims: dict, header: dict) -> str:
    """A token with the given header and no signature check possible (``alg: none`` and friends)."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def audience_for(path: str) -> str:
    """The aud an EHR puts in a token for the endpoint at ``path`` (``/cds-services/warfarin`` → BASE/warfarin)."""
    return BASE + path[len(PREFIX):].rstrip("/")


class EhrAuth(httpx.Auth):
    """httpx authentication as a CDS Client does it: a fresh token (new jti) for each request's endpoint."""

    def __init__(self, ehr: Ehr):
        self.ehr = ehr

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.ehr.token(audience_for(request.url.path))}"
        yield request

"""Who may call the CDS Hooks service: the authentication configuration, read from a TOML or JSON file.

The file names the EHRs this service trusts (each by its ``iss``, with its public keys as a JWKS file, and
optionally an allow-list of ``jku`` URLs it may name in a token's header), the URLs this service answers as
(the tokens' ``aud``), the signing algorithms accepted, the longest token lifetime and the clock skew
tolerated. Every key is declared in :data:`SETTINGS` / :data:`ISSUER_SETTINGS`; an unknown key, a missing
key file, a key file holding private key material, or an algorithm such as ``none`` or ``HS256`` is refused
when the service starts, with a message naming the setting (a typo in a security file must never fall back
to a default silently).

Example (``cds-auth.toml``)::

    audience = ["https://cds.example.org/cds-services"]
    algorithms = ["ES384", "RS384"]        # the default; RS256 / ES256 may be added
    max_token_lifetime_s = 300
    clock_skew_s = 60

    [[issuer]]
    iss = "https://ehr.example.org"
    jwks_file = "ehr-jwks.json"            # relative to this file
    jku = []                               # URLs the EHR may name in a token's `jku` header (fetched at run time)
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .._errors import EquipoiseError

ENV_VAR = "EQUIPOISE_CDS_AUTH_CONFIG"
SPEC_ALGORITHMS = ("ES384", "RS384")            # CDS Hooks 2.0: the CDS Client signs with one of these
ACCEPTABLE_ALGORITHMS = SPEC_ALGORITHMS + ("ES256", "RS256")   # never "none", never a shared-secret HS*
MAX_CONFIG_BYTES = 1_000_000
MAX_JWKS_BYTES = 256_000
MIN_RSA_BITS = 2048
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

# setting: (type, default, range or None, what it is) — the one table every check reads
SETTINGS = {
    "audience": (list, None, None, "the URLs this service answers as (a token's aud must name the endpoint)"),
    "algorithms": (list, list(SPEC_ALGORITHMS), None, f"signing algorithms accepted, from {list(ACCEPTABLE_ALGORITHMS)}"),
    "max_token_lifetime_s": (int, 300, (1, 3600), "the longest exp - iat accepted, in seconds"),
    "clock_skew_s": (int, 60, (0, 600), "the clock difference tolerated, in seconds"),
    "open_discovery": (bool, False, None, "whether GET /cds-services answers without a token"),
    "issuer": (list, None, None, "the trusted EHRs, one [[issuer]] table each"),
}
ISSUER_SETTINGS = {
    "iss": (str, None, None, "the issuer, exactly as in the token's iss claim"),
    "jwks_file": (str, "", None, "the issuer's public keys (a JWK Set), relative to the configuration file"),
    "jku": (list, [], None, "URLs of JWK Sets the issuer may name in a token's jku header"),
    "subjects": (list, [], None, "if not empty, the only sub claims accepted from this issuer"),
}


class AuthConfigError(EquipoiseError):
    """The CDS Hooks authentication configuration is missing, unreadable or unsafe."""


@dataclass(frozen=True)
class Issuer:
    """One trusted CDS Client: its ``iss``, its keys (a JWK Set as a dict, ``None`` when only ``jku``)."""

    iss: str
    jwks: dict | None
    jku: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthConfig:
    """The checked configuration: see the module docstring for each setting."""

    audience: tuple[str, ...]
    issuers: dict[str, Issuer]
    algorithms: tuple[str, ...] = SPEC_ALGORITHMS
    max_token_lifetime_s: int = 300
    clock_skew_s: int = 60
    open_discovery: bool = False
    source: str = field(default="the configuration", compare=False)


def load_auth_config(path: str | os.PathLike | None = None) -> AuthConfig:
    """The configuration in ``path`` (``.toml`` or ``.json``), else in the file named by ``$EQUIPOISE_CDS_AUTH_CONFIG``."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        raise AuthConfigError(f"No CDS Hooks authentication configuration: pass --auth-config FILE or set {ENV_VAR}.")
    p = Path(path)
    raw = _read(p, MAX_CONFIG_BYTES, "The CDS Hooks authentication configuration")
    try:
        data = tomllib.loads(raw) if p.suffix.lower() != ".json" else json.loads(raw)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
        raise AuthConfigError(f"The CDS Hooks authentication configuration {str(p)!r} is not valid {kind}: {exc}.") from None
    return auth_config_from_dict(data, base_dir=p.parent, source=str(p))


def auth_config_from_dict(data, *, base_dir: str | os.PathLike = ".", source: str = "the configuration") -> AuthConfig:
    """The configuration from an already parsed mapping (a JWKS file path is relative to ``base_dir``)."""
    where = f"in {source}"
    values = _settings(data, SETTINGS, where)
    audience = tuple(_url(a, f"'audience' {where}") for a in _strings(values["audience"], "audience", where))
    if not audience:
        raise AuthConfigError(f"The 'audience' setting {where} must list at least one URL of this service. Got [] instead.")
    algorithms = tuple(_strings(values["algorithms"], "algorithms", where))
    bad = [a for a in algorithms if a not in ACCEPTABLE_ALGORITHMS]
    if bad or not algorithms:
        raise AuthConfigError(f"The 'algorithms' setting {where} must be a non-empty list from "
                              f"{list(ACCEPTABLE_ALGORITHMS)} (never 'none' or a shared-secret HS*). Got {list(algorithms)!r} instead.")
    tables = values["issuer"]
    if not tables:
        raise AuthConfigError(f"No trusted issuer {where}: add at least one [[issuer]] with iss and jwks_file (or jku).")
    issuers: dict[str, Issuer] = {}
    for n, table in enumerate(tables, 1):
        issuer = _issuer(table, Path(base_dir), f"in [[issuer]] number {n} {where}")
        if issuer.iss in issuers:
            raise AuthConfigError(f"The issuer {issuer.iss!r} is listed twice {where}.")
        issuers[issuer.iss] = issuer
    return AuthConfig(audience=audience, issuers=issuers, algorithms=algorithms,
                      max_token_lifetime_s=values["max_token_lifetime_s"], clock_skew_s=values["clock_skew_s"],
                      open_discovery=values["open_discovery"], source=source)


def check_jwks(jwks, what: str) -> dict:
    """``jwks`` if it is a JWK Set of public RSA / EC keys, each with a ``kid``; else :class:`AuthConfigError`."""
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise AuthConfigError(f"{what} must be a JWK Set: an object with a non-empty 'keys' list.")
    kids = []
    for n, key in enumerate(keys, 1):
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise AuthConfigError(f"Key number {n} of {what} must be an RSA or EC public key (kty 'RSA' or 'EC').")
        if not isinstance(key.get("kid"), str) or not key["kid"]:
            raise AuthConfigError(f"Key number {n} of {what} has no 'kid': CDS Hooks tokens name their key by kid.")
        private = sorted(set(key) & {"d", "p", "q", "dp", "dq", "qi"})
        if private:
            raise AuthConfigError(f"Key {key['kid']!r} of {what} holds private key material ({', '.join(private)}): "
                                  "only the issuer's public keys belong here. Remove the file and ask for the public JWK Set.")
        kids.append(key["kid"])
    if len(set(kids)) != len(kids):
        raise AuthConfigError(f"{what} names a kid twice; each key needs its own.")
    try:
        keyset = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError) as exc:
        raise AuthConfigError(f"{what} holds a key that cannot be read: {exc}.") from None
    for key in keyset.keys:
        if key.key_type == "RSA" and key.raw_value.key_size < MIN_RSA_BITS:
            raise AuthConfigError(f"Key {key.kid!r} of {what} is an RSA key of {key.raw_value.key_size} bits; "
                                  f"at least {MIN_RSA_BITS} are required.")
    return jwks


# --- helpers -------------------------------------------------------------------------------------


def _read(p: Path, limit: int, what: str) -> str:
    if not p.is_file():
        raise AuthConfigError(f"{what} {str(p)!r} is not a readable file.")
    with open(p, "rb") as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        raise AuthConfigError(f"{what} {str(p)!r} is larger than {limit:,} bytes.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthConfigError(f"{what} {str(p)!r} is not UTF-8 text.") from None


def _settings(data, table: dict, where: str) -> dict:
    if not isinstance(data, dict):
        raise AuthConfigError(f"The settings {where} must be a table (an object). Got {type(data).__name__} instead.")
    unknown = sorted(set(data) - set(table))
    if unknown:
        raise AuthConfigError(f"Unknown setting(s) {unknown} {where}. Known: {sorted(table)}.")
    out = {}
    for name, (kind, default, bounds, _what) in table.items():
        if name not in data:
            if default is None:
                raise AuthConfigError(f"The '{name}' setting {where} is required ({_what}).")
            out[name] = default
            continue
        value = data[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)) or not isinstance(value, kind):
            raise AuthConfigError(f"The '{name}' setting {where} must be a {kind.__name__} ({_what}). "
                                  f"Got {value!r} instead.")
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise AuthConfigError(f"The '{name}' setting {where} must be an int in the range [{bounds[0]}, {bounds[1]}]. "
                                  f"Got {value} instead.")
        out[name] = value
    return out


def _strings(values: list, name: str, where: str) -> list[str]:
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise AuthConfigError(f"The '{name}' setting {where} must be a list of non-empty strings. Got {values!r} instead.")
    return [v.strip() for v in values]


def _url(value: str, what: str, *, fetched: bool = False) -> str:
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if parts.scheme not in ("https", "http") or not parts.hostname or (fetched and parts.scheme != "https" and not loopback):
        need = "an https URL (http only on 127.0.0.1 / localhost)" if fetched else "an http(s) URL"
        raise AuthConfigError(f"Each entry of {what} must be {need}. Got {value!r} instead.")
    return value.rstrip("/")


def _issuer(table, base_dir: Path, where: str) -> Issuer:
    values = _settings(table, ISSUER_SETTINGS, where)
    iss = values["iss"].strip()
    if not iss:
        raise AuthConfigError(f"The 'iss' setting {where} must not be empty.")
    jku = tuple(_url(u, f"'jku' {where}", fetched=True) for u in _strings(values["jku"], "jku", where))
    subjects = tuple(_strings(values["subjects"], "subjects", where))
    jwks = None
    if values["jwks_file"]:
        p = Path(values["jwks_file"])
        p = p if p.is_absolute() else base_dir / p
        what = f"The JWKS file of issuer {iss!r}"
        raw = _read(p, MAX_JWKS_BYTES, what)
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise AuthConfigError(f"{what} {str(p)!r} is not valid JSON: {exc}.") from None
        jwks = check_jwks(parsed, f"{what} {str(p)!r}")
    elif not jku:
        raise AuthConfigError(f"Issuer {iss!r} {where} has neither 'jwks_file' nor 'jku': its tokens could never be checked.")
    return Issuer(iss=iss, jwks=jwks, jku=jku, subjects=subjects)

"""Optional Ed25519 signatures over a bundle's manifest: who built a bundle, and whether this installation trusts them.

Configuration (environment variables, read when a bundle is built or loaded):

* ``EQUIPOISE_SIGNING_KEY``: path of an Ed25519 private key (PEM, PKCS#8; ``EQUIPOISE_SIGNING_KEY_PASSWORD``
  if it is encrypted). When set, every bundle built is signed: ``signature.json`` beside the manifest.
* ``EQUIPOISE_SIGNER_NAME``: the name recorded with the signature (default: the key file's name).
* ``EQUIPOISE_TRUSTED_KEYS``: one or more paths (separated by ``:``) of Ed25519 public keys (PEM; a file may
  hold several, a folder's ``*.pem`` files are all read). When set, only bundles signed by one of these keys
  load; unsigned bundles and bundles signed by any other key are refused.

With no trusted keys configured, unsigned bundles load (shown as "unsigned"); a signature that is present
is still checked against the key it names, so a bundle changed after signing is refused either way.
The signature covers the canonical manifest (every file's sha256 and the bundle id) plus the signer's
name, key fingerprint and time, so none of them can be changed without the signature failing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._errors import BundleIntegrityError
from .manifest import SIGNATURE, BundleRefusedError, Manifest, canonical_json

ENV_KEY, ENV_PASSWORD, ENV_NAME, ENV_TRUSTED = ("EQUIPOISE_SIGNING_KEY", "EQUIPOISE_SIGNING_KEY_PASSWORD",
                                                "EQUIPOISE_SIGNER_NAME", "EQUIPOISE_TRUSTED_KEYS")
SIG_FORMAT = "equipoise-signature/1"
ALGORITHM = "ed25519"
DOMAIN = b"equipoise-bundle-manifest-signature/1\n"  # never valid as any other message
SIG_FIELDS = ("format", "algorithm", "signer", "key_fingerprint", "public_key", "signed_utc", "bundle_id",
              "signature")
MAX_KEY_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 16 * 1024
MAX_NAME = 200


class SigningConfigError(BundleIntegrityError):
    """The signing or trust configuration (an environment variable, a key file) is unusable; names which."""


@dataclass(frozen=True)
class SignatureInfo:
    """Who signed a bundle: ``signer`` (the recorded name), ``key_fingerprint``, ``signed_utc``, and whether the
    key is one this installation trusts (``trusted``; False when no trusted keys are configured)."""

    signer: str
    key_fingerprint: str
    signed_utc: str
    trusted: bool

    def to_dict(self) -> dict:
        return {"signed": True, "signer": self.signer, "key_fingerprint": self.key_fingerprint,
                "signed_utc": self.signed_utc, "trusted": self.trusted, "text": self.describe()}

    def describe(self) -> str:
        trust = ("a trusted key" if self.trusted else
                 "a key this installation does not check (no EQUIPOISE_TRUSTED_KEYS configured)")
        return f"signed by {self.signer} on {self.signed_utc} with {trust} ({self.key_fingerprint[:23]}…)"


UNSIGNED = {"signed": False, "text": "unsigned"}


@dataclass(frozen=True)
class Signer:
    """A loaded private key and the name to record with its signatures."""

    key: object  # Ed25519PrivateKey
    name: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(_raw_public(self.key.public_key()))

    def sign(self, manifest: Manifest, *, signed_utc: str | None = None) -> bytes:
        """The ``signature.json`` bytes for ``manifest``."""
        when = signed_utc or datetime.now(timezone.utc).isoformat(timespec="seconds")
        raw = _raw_public(self.key.public_key())
        doc = {"format": SIG_FORMAT, "algorithm": ALGORITHM, "signer": self.name, "key_fingerprint": fingerprint(raw),
               "public_key": base64.b64encode(raw).decode("ascii"), "signed_utc": when,
               "bundle_id": manifest.bundle_id}
        doc["signature"] = base64.b64encode(self.key.sign(_message(manifest, doc))).decode("ascii")
        return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def fingerprint(raw_public_key: bytes) -> str:
    return "ed25519:sha256:" + hashlib.sha256(raw_public_key).hexdigest()


def signer_from_env() -> Signer | None:
    """The configured signing key, or None if ``EQUIPOISE_SIGNING_KEY`` is unset; SigningConfigError if unusable."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = os.environ.get(ENV_KEY)
    if path is None:
        return None
    data = _read_key_file(path, ENV_KEY)
    password = os.environ.get(ENV_PASSWORD)
    try:
        key = load_pem_private_key(data, password=password.encode() if password is not None else None)
    except (ValueError, TypeError) as exc:
        raise SigningConfigError(f"{ENV_KEY}={path!r} is not a readable PEM private key ({exc}). Make one with "
                                 "`openssl genpkey -algorithm ed25519 -out signing.pem`.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningConfigError(f"{ENV_KEY}={path!r} holds a {type(key).__name__.replace('_', '')}, not an Ed25519 "
                                 "key; Equipoise signs with Ed25519 only.")
    name = os.environ.get(ENV_NAME) or Path(path).stem
    if len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise SigningConfigError(f"{ENV_NAME} must be 1–{MAX_NAME} printable characters.")
    return Signer(key, name)


def trusted_keys_from_env() -> dict[str, object] | None:
    """The trusted public keys by fingerprint, or None if ``EQUIPOISE_TRUSTED_KEYS`` is unset."""
    value = os.environ.get(ENV_TRUSTED)
    if value is None:
        return None
    paths = [p for p in value.split(os.pathsep) if p.strip()]
    if not paths:
        raise SigningConfigError(f"{ENV_TRUSTED} is set but names no key file; unset it to allow unsigned bundles, "
                                 "or give the path of one or more Ed25519 public keys (PEM).")
    keys: dict[str, object] = {}
    for path in paths:
        files = sorted(Path(path).glob("*.pem")) if Path(path).is_dir() else [Path(path)]
        if not files:
            raise SigningConfigError(f"{ENV_TRUSTED} names the folder {path!r}, which holds no *.pem file.")
        for file in files:
            for key in _public_keys(_read_key_file(str(file), ENV_TRUSTED), str(file)):
                keys[fingerprint(_raw_public(key))] = key
    return keys


def require_trusted_signer(name: str) -> None:
    """Before training a bundle in order to load it: refuse now if trusted keys are configured and the bundle would
    not be signed by one of them (it would be refused right after a minute of training)."""
    trusted = trusted_keys_from_env()
    if trusted is None:
        return
    signer = signer_from_env()
    if signer is None or signer.fingerprint not in trusted:
        why = (f"{ENV_KEY} is not set" if signer is None else
               f"the key in {ENV_KEY} ({signer.fingerprint}) is not one of them")
        raise SigningConfigError(f"{ENV_TRUSTED} is set, so only bundles signed by a trusted key load, but {why}: a "
                                 f"{name} bundle trained now would be refused. Set {ENV_KEY} to a trusted private key "
                                 "(or add its public key to the trusted keys) and try again.")


def check_signature(manifest: Manifest, data: bytes | None, *, path: Path,
                    trusted: dict[str, object] | None) -> SignatureInfo | None:
    """Check ``signature.json`` (``data``; None if absent) against the manifest and the trusted keys.

    Returns None for an unsigned bundle that may load, the signer otherwise; refuses with
    :class:`BundleRefusedError` an unsigned bundle when keys are trusted, a key not trusted, or a signature
    that does not match.
    """
    def refuse(message: str, problem: str, field: str | None = None):
        raise BundleRefusedError(f"Bundle {str(path)!r} {message} Refusing to load it.", path=path, file=SIGNATURE,
                                 problem=problem, field=field)

    if data is None:
        if trusted is None:
            return None
        refuse(f"is unsigned, and {ENV_TRUSTED} is set: only bundles signed by one of its {len(trusted)} trusted "
               f"key(s) load. Retrain it with {ENV_KEY} set to a trusted private key.", "unsigned")
    doc = _parse_signature(data, refuse)
    raw = _b64(doc["public_key"], 32, refuse, "public_key")
    sig = _b64(doc["signature"], 64, refuse, "signature")
    if fingerprint(raw) != doc["key_fingerprint"]:
        refuse("has a signature whose key_fingerprint does not match its public_key.", "fingerprint mismatch",
               "key_fingerprint")
    if doc["bundle_id"] != manifest.bundle_id:
        refuse(f"has a signature for bundle {doc['bundle_id'][:60]!r}, not for this bundle "
               f"({manifest.bundle_id!r}).", "signature is for another bundle", "bundle_id")
    if trusted is not None and doc["key_fingerprint"] not in trusted:
        refuse(f"is signed by {doc['signer']!r} with key {doc['key_fingerprint']}, which is not among the "
               f"{len(trusted)} key(s) trusted by {ENV_TRUSTED}.", f"signed by an untrusted key ({doc['signer']})")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = trusted[doc["key_fingerprint"]] if trusted is not None else Ed25519PublicKey.from_public_bytes(raw)
        key.verify(sig, _message(manifest, doc))
    except (InvalidSignature, ValueError):
        refuse("has a signature that does not match its manifest: the bundle (or its signature) was changed "
               "after it was signed.", "signature does not match the manifest", "signature")
    return SignatureInfo(doc["signer"], doc["key_fingerprint"], doc["signed_utc"], trusted is not None)


# --- helpers -------------------------------------------------------------------------------------


def _message(manifest: Manifest, doc: dict) -> bytes:
    signed = {k: doc[k] for k in ("format", "algorithm", "signer", "key_fingerprint", "signed_utc", "bundle_id")}
    return DOMAIN + canonical_json({"manifest": manifest.to_dict(), "signature": signed})


def _raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _read_key_file(path: str, var: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SigningConfigError(f"{var} names {path!r}, which cannot be opened ({exc.strerror}; a link is not "
                                 "followed).") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SigningConfigError(f"{var} names {path!r}, which is not a regular file.")
        if info.st_size > MAX_KEY_BYTES:
            raise SigningConfigError(f"{var} names {path!r}, which is {info.st_size:,} bytes: not a key file "
                                     f"(limit {MAX_KEY_BYTES:,}).")
        return fh.read(MAX_KEY_BYTES + 1)


def _public_keys(data: bytes, path: str) -> list:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if b"PRIVATE KEY-----" in data:
        raise SigningConfigError(f"{ENV_TRUSTED}: {path!r} holds a private key. Trusted keys are public keys only; "
                                 "keep the private key out of the trusted-keys folder.")
    begin, end = b"-----BEGIN PUBLIC KEY-----", b"-----END PUBLIC KEY-----"
    blocks = [begin + chunk.split(end)[0] + end for chunk in data.split(begin)[1:] if end in chunk]
    if not blocks:
        raise SigningConfigError(f"{ENV_TRUSTED}: {path!r} holds no PEM public key ('{begin.decode()}'). Export one "
                                 "with `openssl pkey -in signing.pem -pubout -out signing.pub.pem`.")
    keys = []
    for block in blocks:
        try:
            key = load_pem_public_key(block)
        except ValueError as exc:
            raise SigningConfigError(f"{ENV_TRUSTED}: a public key in {path!r} cannot be read ({exc}).") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningConfigError(f"{ENV_TRUSTED}: {path!r} holds a non-Ed25519 public key; only Ed25519 is used.")
        keys.append(key)
    return keys


def _parse_signature(data: bytes, refuse) -> dict:
    if len(data) > MAX_SIGNATURE_BYTES:
        refuse(f"has a {SIGNATURE} of {len(data):,} bytes (limit {MAX_SIGNATURE_BYTES:,}).", "too large")
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=lambda c: None)
    except (UnicodeDecodeError, RecursionError, ValueError):
        refuse(f"has a {SIGNATURE} that is not valid UTF-8 JSON.", "unreadable")
    if not isinstance(doc, dict):
        refuse(f"has a {SIGNATURE} that is not a JSON object.", "unreadable")
    for name in SIG_FIELDS:
        if not isinstance(doc.get(name), str) or not 1 <= len(doc[name]) <= 512:
            refuse(f"has a {SIGNATURE} whose field {name!r} is missing or not a short string.", f"field {name!r}", name)
    if set(doc) - set(SIG_FIELDS):
        refuse(f"has a {SIGNATURE} with unknown field(s) {sorted(set(doc) - set(SIG_FIELDS))[:5]}.", "unknown field")
    if doc["format"] != SIG_FORMAT or doc["algorithm"] != ALGORITHM:
        refuse(f"has a signature of format {doc['format'][:40]!r} / algorithm {doc['algorithm'][:40]!r}; this "
               f"version reads {SIG_FORMAT!r} / {ALGORITHM!r} only.", "unknown signature format", "format")
    if any(ord(c) < 32 for c in doc["signer"]) or len(doc["signer"]) > MAX_NAME:
        refuse("has a signer name with control characters or over 200 characters.", "bad signer name", "signer")
    return doc


def _b64(text: str, length: int, refuse, field: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != length:
        refuse(f"has a signature whose {field!r} is not {length} bytes of base64.", f"bad {field}", field)
    return raw

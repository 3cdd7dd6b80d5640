"""Optional Ed25519 signatures: signed when a key is configured, refused when trusted keys say otherwise."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import shutil

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core import service
from core.cli import main
from core.modeling.bundle import load_bundle
from core.modeling.manifest import BundleRefusedError
from core.modeling.signing import SigningConfigError, signer_from_env

from _bundle_helpers import reseal


def _keypair(folder, name):
    key = Ed25519PrivateKey.generate()
    private = folder / f"{name}.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = folder / f"{name}.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private, public, "ed25519:sha256:" + hashlib.sha256(raw).hexdigest()


@pytest.fixture
def keys(tmp_path, monkeypatch):
    folder = tmp_path / "keys"
    folder.mkdir()
    for var in ("EQUIPOISE_SIGNING_KEY", "EQUIPOISE_TRUSTED_KEYS", "EQUIPOISE_SIGNER_NAME"):
        monkeypatch.delenv(var, raising=False)
    return {name: _keypair(folder, name) for name in ("site", "other")}


@pytest.fixture
def signed(keys, bundle_dirs, tmp_path, monkeypatch):
    source = bundle_dirs("colon")  # trained (unsigned) before any key is configured
    monkeypatch.setenv("EQUIPOISE_SIGNING_KEY", str(keys["site"][0]))
    monkeypatch.setenv("EQUIPOISE_SIGNER_NAME", "Oncology ML team")
    path = reseal(source, tmp_path / "colon", signer=signer_from_env())
    monkeypatch.delenv("EQUIPOISE_SIGNING_KEY")
    return path


def test_a_signed_bundle_carries_a_signature_that_verifies_independently(signed, keys):
    sig = json.loads((signed / "signature.json").read_text())
    manifest = json.loads((signed / "manifest.json").read_text())
    assert sig["signer"] == "Oncology ML team" and sig["key_fingerprint"] == keys["site"][2]
    assert sig["bundle_id"] == manifest["bundle_id"]
    message = b"equipoise-bundle-manifest-signature/1\n" + json.dumps(
        {"manifest": manifest, "signature": {k: sig[k] for k in ("format", "algorithm", "signer", "key_fingerprint",
                                                                "signed_utc", "bundle_id")}},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    public = serialization.load_pem_public_key(keys["site"][1].read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(sig["signature"]), message)  # raises if it does not verify


def test_without_trusted_keys_signed_and_unsigned_bundles_load_and_say_so(signed, bundle_dirs):
    bundle = load_bundle(signed)
    assert bundle.signed_by["signer"] == "Oncology ML team" and bundle.signed_by["trusted"] is False
    assert "does not check" in bundle.signed_by["text"]
    assert load_bundle(bundle_dirs("colon")).signed_by == {"signed": False, "text": "unsigned"}


def test_with_trusted_keys_only_the_trusted_signer_loads(signed, keys, bundle_dirs, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][1]))
    bundle = load_bundle(signed)
    assert bundle.signed_by["trusted"] is True and bundle.signed_by["key_fingerprint"] == keys["site"][2]
    with pytest.raises(BundleRefusedError, match=r"is unsigned, and EQUIPOISE_TRUSTED_KEYS is set") as exc:
        load_bundle(bundle_dirs("colon"))
    assert exc.value.file == "signature.json"
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["other"][1]))
    with pytest.raises(BundleRefusedError, match=r"is signed by 'Oncology ML team' with key ed25519:sha256:\w+, which "
                       r"is not among the 1 key\(s\) trusted"):
        load_bundle(signed)


def test_a_folder_of_trusted_keys_and_several_paths_work(signed, keys, monkeypatch, tmp_path):
    folder = tmp_path / "trusted"
    folder.mkdir()
    shutil.copy(keys["site"][1], folder / "site.pem")
    (folder / "both.pem").write_bytes(keys["other"][1].read_bytes() + keys["site"][1].read_bytes())
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", f"{keys['other'][1]}:{folder}")
    assert load_bundle(signed).signed_by["trusted"] is True
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][0]))  # a private key is not a trusted key
    with pytest.raises(SigningConfigError, match="holds a private key"):
        load_bundle(signed)


def test_a_forger_who_reseals_and_resigns_with_another_key_is_refused(signed, keys, tmp_path, monkeypatch):
    model = json.loads((signed / "model.json").read_text())
    model["intercept"] += 2.0
    monkeypatch.setenv("EQUIPOISE_SIGNING_KEY", str(keys["other"][0]))
    forged = reseal(signed, tmp_path / "forged", signer=signer_from_env(),
                    change={"model.json": json.dumps(model).encode()})
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][1]))
    with pytest.raises(BundleRefusedError, match="not among the 1 key"):
        load_bundle(forged)


def test_a_signature_copied_onto_changed_content_is_refused(signed, tmp_path):
    model = json.loads((signed / "model.json").read_text())
    model["intercept"] += 2.0
    forged = reseal(signed, tmp_path / "forged", change={"model.json": json.dumps(model).encode()})
    shutil.copy(signed / "signature.json", forged / "signature.json")
    with pytest.raises(BundleRefusedError, match="has a signature for bundle 'colon-"):
        load_bundle(forged)
    sig = json.loads((forged / "signature.json").read_text())
    sig["bundle_id"] = json.loads((forged / "manifest.json").read_text())["bundle_id"]
    (forged / "signature.json").write_text(json.dumps(sig))
    with pytest.raises(BundleRefusedError, match="signature that does not match its manifest"):
        load_bundle(forged)


@pytest.mark.parametrize("edit", [
    lambda s: s.update(signer="Someone else"), lambda s: s.update(signed_utc="2020-01-01T00:00:00+00:00"),
    lambda s: s.update(signature="AAAA"), lambda s: s.pop("public_key"), lambda s: s.update(extra=1),
    lambda s: s.update(key_fingerprint="ed25519:sha256:" + "0" * 64),
])
def test_an_edited_signature_file_is_refused(signed, edit):
    sig = json.loads((signed / "signature.json").read_text())
    edit(sig)
    (signed / "signature.json").write_text(json.dumps(sig))
    with pytest.raises(BundleRefusedError) as exc:
        load_bundle(signed)
    assert exc.value.file == "signature.json"


def test_the_model_card_and_the_cli_show_who_signed_it(signed, keys, monkeypatch):
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][1]))
    card = service.model_card(load_bundle(signed)).to_dict()
    assert card["version"]["signed_by"]["signer"] == "Oncology ML team"
    assert card["version"]["signed_by"]["text"].startswith("signed by Oncology ML team on ")
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["other"][1]))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["predict", "--bundle", str(signed), "--split", "test"]) == 2
    assert "not among the 1 key(s) trusted by EQUIPOISE_TRUSTED_KEYS" in err.getvalue()


@pytest.mark.parametrize("content, match", [
    (None, "cannot be opened"), (b"not a key", "not a readable PEM private key"),
])
def test_an_unusable_signing_key_is_a_clear_error(keys, tmp_path, monkeypatch, content, match):
    path = tmp_path / "bad.pem"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("EQUIPOISE_SIGNING_KEY", str(path))
    with pytest.raises(SigningConfigError, match=match):
        signer_from_env()


def test_an_unusable_trust_store_is_a_refusal_that_retraining_cannot_fix(signed, keys, monkeypatch, tmp_path):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(signed.parent))
    (tmp_path / "empty.pem").write_text("nothing here")
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(tmp_path / "empty.pem"))
    status = service.bundle_status("colon")
    assert status.state == service.REFUSED and status.retrain is False and "holds no PEM public key" in status.message


def test_trusted_keys_without_a_trusted_signing_key_refuse_to_train(keys, monkeypatch, tmp_path):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(tmp_path / "bundles"))
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][1]))
    monkeypatch.setattr(service.bundles, "train_bundle", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(SigningConfigError, match="EQUIPOISE_SIGNING_KEY is not set"):
        service.ensure_bundle("colon")
    monkeypatch.setenv("EQUIPOISE_SIGNING_KEY", str(keys["other"][0]))
    with pytest.raises(SigningConfigError, match="is not one of them"):
        service.ensure_bundle("colon")


def test_the_model_card_page_shows_the_signer(signed, keys, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import pages._state as state

    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(signed.parent))
    monkeypatch.setenv("EQUIPOISE_TRUSTED_KEYS", str(keys["site"][1]))
    state._READY.clear()
    state._bundle.clear()
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state["eq.cohort"] = "colon"
    at.run()
    at.switch_page("pages/model_card.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    caption = "\n".join(c.value for c in at.caption).replace("\\", "")
    assert "signed by Oncology ML team on " in caption and "with a trusted key" in caption
    state._READY.clear()
    state._bundle.clear()

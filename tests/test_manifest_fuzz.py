"""Fuzzing the manifest parser: thousands of generated manifests, and only ever a BundleIntegrityError.

Each test counts its outcomes and asserts how many examples ran (``-s`` prints the counts).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from hypothesis import HealthCheck, given, settings, strategies as st

from core import BundleIntegrityError
from core.modeling.bundle import verify_bundle
from core.modeling.manifest import FIELDS, FORMAT, Manifest, parse_manifest

N = 2000
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25)
names = st.one_of(st.sampled_from(["model.json", "spec.json", "ensemble/member_000.txt", "../x", "/etc/passwd", "",
                                   "a//b", ".", "a/./b", "manifest.json", "signature.json", "a\\b", "\x00",
                                   "a" * 300, "/".join("d" * 9)]),
                  st.text(min_size=0, max_size=40))
hashes = st.one_of(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
                   st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=70), json_values)


def _id(cohort, files):
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    return f"{cohort}-{hashlib.sha256(canonical).hexdigest()[:12]}"


@st.composite
def valid_manifests(draw):
    files = draw(st.dictionaries(st.from_regex(r"[a-z_]{1,12}(/[a-z_0-9]{1,12}){0,2}\.(json|txt)", fullmatch=True),
                                 st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), min_size=1, max_size=8))
    cohort = draw(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True))
    return {"format": FORMAT, "bundle_id": _id(cohort, files), "cohort": cohort,
            "created_utc": "2026-12-02T18:00:00+00:00", "files": files}


@st.composite
def mutated_manifests(draw):
    doc = draw(valid_manifests())
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["replace", "delete", "add", "file", "hash", "files_type", "reid"]))
        field = draw(st.sampled_from(FIELDS))
        if how == "replace":
            doc[field] = draw(json_values)
        elif how == "delete":
            doc.pop(field, None)
        elif how == "add":
            doc[draw(st.text(max_size=10))] = draw(json_values)
        elif how in ("file", "hash") and isinstance(doc.get("files"), dict):
            doc["files"][draw(names)] = draw(hashes)
        elif how == "files_type":
            doc["files"] = draw(st.one_of(st.lists(names, max_size=5), json_values))
        elif how == "reid" and isinstance(doc.get("files"), dict) and isinstance(doc.get("cohort"), str):
            try:  # a forger who recomputes the id: the deeper checks must still hold
                doc["bundle_id"] = _id(doc["cohort"], doc["files"])
            except (TypeError, ValueError):
                pass
    return doc


def _encode(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _check(data: bytes, counts: Counter) -> None:
    try:
        manifest = parse_manifest(data)
    except BundleIntegrityError as exc:
        counts["refused"] += 1
        assert str(exc) and len(str(exc)) < 2000
        return
    counts["accepted"] += 1  # anything accepted satisfies every invariant
    assert isinstance(manifest, Manifest) and manifest.bundle_id == _id(manifest.cohort, manifest.files)
    assert all(isinstance(h, str) and len(h) == 64 for h in manifest.files.values())
    assert not any(n.startswith("/") or ".." in n.split("/") for n in manifest.files)


def test_fuzz_valid_manifests_are_accepted():
    counts = Counter()

    @settings(max_examples=N, **SETTINGS)
    @given(valid_manifests())
    def run(doc):
        _check(_encode(doc), counts)
    run()
    print(f"\nvalid manifests: {dict(counts)}")
    assert counts == {"accepted": N}


def test_fuzz_mutated_manifests_only_ever_raise_bundle_integrity_error():
    counts = Counter()

    @settings(max_examples=N, **SETTINGS)
    @given(mutated_manifests())
    def run(doc):
        _check(_encode(doc), counts)
    run()
    print(f"\nmutated manifests: {dict(counts)}")
    assert sum(counts.values()) == N and counts["refused"] > N // 2


def test_fuzz_arbitrary_json_and_bytes_only_ever_raise_bundle_integrity_error():
    counts = Counter()

    @settings(max_examples=N, **SETTINGS)
    @given(st.one_of(json_values.map(_encode), st.binary(max_size=200),
                     st.text(alphabet='{}[]",:0123456789.eE-+ntrufalsNI\\', max_size=200).map(str.encode)))
    def run(data):
        _check(data, counts)
    run()
    print(f"\narbitrary JSON and bytes: {dict(counts)}")
    assert counts == {"refused": N}


def test_fuzz_manifests_on_disk_through_verify_bundle(tmp_path_factory):
    """The whole check (walk, hashes) with a generated manifest over two real files."""
    root = tmp_path_factory.mktemp("fuzzbundle")
    (root / "model.json").write_text("{}")
    (root / "ensemble").mkdir()
    (root / "ensemble" / "member_000.txt").write_text("tree")
    real = {"model.json": hashlib.sha256(b"{}").hexdigest(),
            "ensemble/member_000.txt": hashlib.sha256(b"tree").hexdigest()}
    counts = Counter()

    @settings(max_examples=N // 4, **SETTINGS)
    @given(st.one_of(mutated_manifests(), st.just({"format": FORMAT, "bundle_id": _id("c", real), "cohort": "c",
                                                   "created_utc": "2026-12-02T18:00:00+00:00", "files": real})))
    def run(doc):
        (root / "manifest.json").write_bytes(_encode(doc))
        try:
            verify_bundle(root)
        except BundleIntegrityError:
            counts["refused"] += 1
        else:
            counts["accepted"] += 1
            assert doc["files"] == real
    run()
    print(f"\nmanifests on disk: {dict(counts)}")
    assert sum(counts.values()) == N // 4 and counts["accepted"] >= 1


def test_fuzz_signature_files_only_ever_raise_bundle_integrity_error():
    from core.modeling.manifest import parse_manifest as parse
    from core.modeling.signing import SIG_FIELDS, check_signature

    files = {"model.json": "0" * 64}
    manifest = parse(_encode({"format": FORMAT, "bundle_id": _id("c", files), "cohort": "c",
                              "created_utc": "2026-12-02T18:00:00+00:00", "files": files}))
    fields = st.fixed_dictionaries({}, optional={name: st.one_of(st.text(max_size=90), json_values)
                                                 for name in SIG_FIELDS})
    counts = Counter()

    @settings(max_examples=N // 2, **SETTINGS)
    @given(st.one_of(fields.map(_encode), json_values.map(_encode), st.binary(max_size=300)),
           st.sampled_from([None, {}]))
    def run(data, trusted):
        try:
            check_signature(manifest, data, path=__import__("pathlib").Path("fuzz"), trusted=trusted)
        except BundleIntegrityError:
            counts["refused"] += 1
        else:
            counts["accepted"] += 1
    run()
    print(f"\nsignature files: {dict(counts)}")
    assert counts == {"refused": N // 2}

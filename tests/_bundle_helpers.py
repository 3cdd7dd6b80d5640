"""Helpers for the bundle tests: copy a trained bundle, re-seal its files, and fake a minute of training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.modeling.bundle import load_bundle, write_bundle
from core.modeling.manifest import MANIFEST, SIGNATURE


def bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of a bundle except its manifest and signature."""
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.relative_to(path).as_posix() not in (MANIFEST, SIGNATURE)}


def reseal(source: Path, out: Path, *, signer=None, change: dict | None = None, force: bool = False) -> Path:
    """Write the files of ``source`` (with ``change`` applied) as a new bundle at ``out`` through the real writer."""
    files = {**bundle_files(source), **(change or {})}
    cohort = json.loads(files["spec.json"])["name"]
    return write_bundle(files, cohort, out, signer=signer, force=force)


def fake_build(source: Path, calls: list, before=None):
    """A stand-in for pipeline.build_bundle that writes ``source``'s files through the real writer."""
    def build(cohort, out, *, progress=None, n_members=None, force=False, by_site=False):
        calls.append(str(out))
        if before is not None:
            before()
        files = bundle_files(source)
        path = write_bundle(files, cohort.spec.name, out, signer="from-env", force=force, progress=progress)
        return path, load_bundle(path).evaluation
    return build


def copy_bundle(source: Path, dst: Path) -> Path:
    shutil.copytree(source, dst)
    return dst

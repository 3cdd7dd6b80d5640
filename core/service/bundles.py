"""Bundles: where each cohort's sealed model lives, whether it can be used, and training one.

A refusal is handed to the observers (it is shown); so is every bundle trained."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._errors import BundleIntegrityError
from .._observers import BUNDLE_REFUSED, BUNDLE_TRAINED, _OBSERVERS, Shown, _shown
from ..data.cohorts import BUNDLED, load_cohort
from ..modeling.bundle import BundleRefusedError, ModelBundle, load_bundle, verify_bundle
from ..modeling.signing import SigningConfigError, require_trusted_signer


def bundle_root() -> Path:
    """``$EQUIPOISE_BUNDLE_DIR`` or ``bundles/`` in the working directory (a build output, not source)."""
    return Path(os.environ.get("EQUIPOISE_BUNDLE_DIR", "bundles"))


def bundle_path(name: str) -> Path:
    return bundle_root() / name


READY, MISSING, REFUSED = "ready", "missing", "refused"


@dataclass(frozen=True)
class BundleStatus:
    """Whether a cohort's bundle can be used: ``state`` is ``ready``, ``missing`` (never trained; may be
    trained) or ``refused`` (exists but fails its manifest, its signature or does not parse; never retrained
    on its own). For a refusal, ``file`` names the file at fault (None when the whole bundle is) and
    ``problem`` says what failed; ``message`` is the full sentence; ``retrain`` is False when retraining
    cannot help (the signing configuration itself is unusable). ``signed_by`` says who signed a ready bundle."""

    name: str
    path: str
    state: str
    message: str = ""
    file: str | None = None
    problem: str = ""
    retrain: bool = True
    signed_by: dict | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "path": self.path, "state": self.state, "message": self.message,
                "file": self.file, "problem": self.problem, "retrain": self.retrain, "signed_by": self.signed_by}


def bundle_status(name: str) -> BundleStatus:
    """Check a cohort's bundle on disk (manifest, id, every file's sha256, signature) without training anything."""
    path = bundle_path(name)
    if not os.path.lexists(path):
        return BundleStatus(name, str(path), MISSING, f"No bundle for {name!r} at {str(path)!r} yet.")
    try:
        manifest = verify_bundle(path)
    except BundleRefusedError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), exc.file, exc.problem)
    except SigningConfigError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), None, str(exc), retrain=False)
    except BundleIntegrityError as exc:
        status = BundleStatus(name, str(path), REFUSED, str(exc), None, str(exc))
    else:
        return BundleStatus(name, str(path), READY, signed_by=manifest["signed_by"])
    return _shown(BUNDLE_REFUSED, None, status, details={"cohort": name, "file": status.file})


def bundle_is_ready(name: str) -> bool:
    """True if the cohort's bundle exists and passes its manifest."""
    return bundle_status(name).state == READY


def open_bundle(path: str | Path) -> ModelBundle:
    """Load a bundle after checking its manifest, id and signature; raises BundleIntegrityError naming what is wrong."""
    try:
        return load_bundle(path)
    except BundleRefusedError as exc:
        _shown(BUNDLE_REFUSED, None, {"path": str(path), "file": exc.file, "problem": exc.problem, "message": str(exc)},
               details={"file": exc.file})
        raise


def ensure_bundle(name: str, *, progress: Callable[[str], None] | None = None) -> ModelBundle:
    """Load the cohort's bundle; a bundled cohort whose bundle is *missing* is trained and saved first.

    A bundle that exists but fails its manifest (a changed, missing or extra file, an old format, a bad
    signature) is refused with a :class:`BundleRefusedError` naming the file and what failed; it is left
    untouched and never retrained here. Retraining it is an explicit action: :func:`retrain_bundle`.
    Two callers that find it missing at once train it once: the second waits, then loads the first's.
    """
    path = bundle_path(name)
    if not os.path.lexists(path) and name in BUNDLED:
        require_trusted_signer(name)
        train_bundle(load_cohort(name), path, progress=progress)
    return load_bundle(path)


def retrain_bundle(name: str, *, progress: Callable[[str], None] | None = None) -> ModelBundle:
    """Explicitly retrain a bundled cohort's bundle; whatever was on disk (e.g. a refused bundle) is moved aside
    into ``bundles/NAME.versions/`` (a verified one under its bundle id), never deleted."""
    if name not in BUNDLED:
        raise BundleIntegrityError(f"Only a bundled cohort can be retrained here ({', '.join(BUNDLED)}); got {name!r}. "
                                   "Train your own with `equipoise train --csv FILE --spec SPEC --out DIR`.")
    require_trusted_signer(name)
    path = bundle_path(name)
    train_bundle(load_cohort(name), path, progress=progress, force=True)
    return load_bundle(path)


def train_bundle(cohort, out: str | Path, *, progress: Callable[[str], None] | None = None, force: bool = False,
                 by_site: bool = False):
    """Train, evaluate and assess ``cohort`` and write the sealed bundle; returns (path, Evaluation).

    Refused before any training if ``out`` holds something that is not a verified bundle (unless ``force``,
    which moves it aside) or the signing key is unusable. One writer per path: a caller that finds another
    training the same path waits for it and, if a new bundle was finished meanwhile, loads that one instead
    of training again. Observers are told of every bundle trained. ``by_site``: also leave-one-site-out
    validation, stored in the bundle (warfarin; minutes).
    """
    from ..modeling.bundle import MANIFEST
    from ..modeling.bundle_store import bundle_lock, check_target, verified_sha
    from ..modeling.pipeline import build_bundle
    from ..modeling.signing import signer_from_env

    say = progress or (lambda _m: None)
    signer_from_env()  # an unusable key fails now, not after a minute of training
    check_target(out, force=force)
    before = verified_sha(out)
    with bundle_lock(out, on_wait=lambda: say(f"another session is training {out}; waiting for it")) as waited:
        after = verified_sha(out) if waited else None
        if after is not None and after != before:
            say(f"it finished meanwhile: using that bundle instead of training again ({out})")
            return Path(out), load_bundle(out).evaluation
        path, evaluation = build_bundle(cohort, out, progress=progress, force=force, by_site=by_site)
    manifest = Path(path) / MANIFEST
    bundle_id = json.loads(manifest.read_text(encoding="utf-8"))["bundle_id"]
    event = Shown(BUNDLE_TRAINED, bundle_id, hashlib.sha256(manifest.read_bytes()).hexdigest(), evaluation,
                  details={"cohort": cohort.spec.name, "path": str(path)})
    for callback in list(_OBSERVERS):
        callback(event)
    return path, evaluation

"""Where the dashboard finds its model bundles, and training them on first start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ._errors import BundleIntegrityError
from .modeling.bundle import ModelBundle, load_bundle, verify_bundle
from .data.cohorts import BUNDLED, load_cohort

DEFAULT_COHORT = "actg175"


def bundle_root() -> Path:
    """``$EQUIPOISE_BUNDLE_DIR`` or ``bundles/`` in the working directory (a build output, not source)."""
    return Path(os.environ.get("EQUIPOISE_BUNDLE_DIR", "bundles"))


def bundle_path(name: str) -> Path:
    return bundle_root() / name


def bundle_is_ready(name: str) -> bool:
    try:
        verify_bundle(bundle_path(name))
    except BundleIntegrityError:
        return False
    return True


def ensure_bundle(name: str, *, progress: Callable[[str], None] | None = None) -> ModelBundle:
    """Load the cohort's bundle, training and saving it first if it is missing or fails its manifest."""
    from .modeling.pipeline import build_bundle

    path = bundle_path(name)
    try:
        return load_bundle(path)
    except BundleIntegrityError:
        if name not in BUNDLED:
            raise
    build_bundle(load_cohort(name), path, progress=progress)
    return load_bundle(path)

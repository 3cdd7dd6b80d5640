"""Model bundles: a directory of LightGBM text models and JSON, sealed by a sha256 manifest (and optionally signed).

``manifest.json`` lists the sha256 of every other file and a bundle id derived from those hashes
(:mod:`core.modeling.manifest`); ``signature.json``, if present, is an Ed25519 signature over the manifest
(:mod:`core.modeling.signing`). Loading reads each file once, through no link, checks the manifest, the id,
every hash and the signature *before* any file is parsed, then parses the very bytes it checked. Writing
never destroys anything (:mod:`core.modeling.bundle_store`). No pickle or joblib anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path

from .._errors import BundleIntegrityError
from ..data.cohorts._sources import sha256_bytes
from ..evaluation.comparison import Evaluation
from .boosted import BoostedModel
from .bundle_reader import MAX_BUNDLE_BYTES, MAX_FILE_BYTES, read_bundle as _read_bundle, verify_bundle  # noqa: F401
from .bundle_store import write_tree
from .manifest import (FORMAT, FORMAT_CHANGES, MANIFEST, MAX_DEPTH, MAX_FILES, MAX_MANIFEST_BYTES,  # noqa: F401
                       MSG_OLD_FORMAT, SIGNATURE, BundleRefusedError, Manifest, check_file_name, make_manifest,
                       parse_manifest)
from .sections import RepresentationSection, TrainingRecord, UncertaintySection
from .signing import UNSIGNED, SignatureInfo, signer_from_env
from ..data.spec import CohortSpec
from .training import TrainingResult

FROM_ENV = "from-env"         # save_bundle(signer=...): use EQUIPOISE_SIGNING_KEY if set


@dataclass(frozen=True)
class ModelBundle:
    """A loaded, verified bundle: every file parsed into a typed section.

    ``spec``, ``model``, ``baseline``, ``evaluation``, ``training`` (TrainingRecord), ``uncertainty``
    (UncertaintySection), ``representation`` (RepresentationSection), ``audit`` (SubgroupAudit) and
    ``novelty`` (NoveltyDetector) are parsed at load time, so a malformed section is refused there
    with a BundleIntegrityError; ``texts`` holds the ensemble members' LightGBM text; ``signature`` who
    signed it (None: unsigned). ``bundle_id`` is recomputed from the file hashes, never taken on trust.
    """

    path: Path
    bundle_id: str
    sha256: str
    spec: CohortSpec
    model: BoostedModel
    baseline: BoostedModel | None
    evaluation: Evaluation
    training: TrainingRecord
    uncertainty: UncertaintySection | None = None
    representation: RepresentationSection | None = None
    audit: Any = None      # core.fairness.SubgroupAudit
    novelty: Any = None    # core.uncertainty.NoveltyDetector
    site_validation: Any = None  # core.evaluation.sites.SiteValidation (bundles trained with by_site only)
    race_gap: dict | None = None  # dose cohort: race-gap mitigations, CV on training and scored on test (race_gap.py)
    texts: dict = field(default_factory=dict)
    signature: SignatureInfo | None = None

    @property
    def signed_by(self) -> dict:
        """Who signed the bundle (``signed``, ``signer``, ``key_fingerprint``, ``trusted``, ``text``) or unsigned."""
        return self.signature.to_dict() if self.signature else dict(UNSIGNED)

    @property
    def test_patient_ids(self) -> list[str]:
        return list(self.training.test_patient_ids)

    @cached_property
    def ensemble(self):
        """The bootstrap ensemble (arm cohorts) or None."""
        from ..uncertainty.ensemble import ArmEnsemble

        doc = self.uncertainty.ensemble if self.uncertainty else None
        return ArmEnsemble.from_files(doc, self.texts, self.model.design.to_dict()) if doc else None

    @cached_property
    def conformal(self):
        """The Mondrian conformal regressor (dose cohort) or None."""
        from ..uncertainty.conformal import MondrianConformalRegressor

        doc = self.uncertainty.conformal if self.uncertainty else None
        return MondrianConformalRegressor.from_dict(doc) if doc else None

    @property
    def missing_scenarios(self) -> dict:
        return self.uncertainty.missing_scenarios if self.uncertainty else {}


def save_bundle(result: TrainingResult, evaluation: Evaluation, out_dir: str | Path, *,
                extras: dict[str, dict] | None = None, extra_text: dict[str, str] | None = None,
                force: bool = False, signer: Any = FROM_ENV, progress: Callable[[str], None] | None = None) -> Path:
    """Write the bundle (see :func:`write_bundle`) and return its absolute path.

    ``extras`` are further JSON documents (e.g. uncertainty, audit) and ``extra_text`` further text
    files (e.g. ensemble members' LightGBM models), all covered by the manifest.
    """
    files: dict[str, str] = {
        "spec.json": result.spec.to_json(),
        "model.json": _json(result.model.to_dict()),
        "evaluation.json": _json(evaluation.to_dict()),
        "training.json": _json({**result.info, "iwpc_impute": result.iwpc_impute}),
    }
    if result.model.booster is not None:
        files["model_trees.txt"] = result.model.booster.model_to_string()
    if result.baseline is not None:
        files["baseline.json"] = _json(result.baseline.to_dict())
    for name, doc in (extras or {}).items():
        files[f"{name}.json"] = _json(doc)
    files.update(extra_text or {})
    return write_bundle(files, result.spec.name, out_dir, force=force, signer=signer, progress=progress)


def write_bundle(files: Mapping[str, str | bytes], cohort: str, out_dir: str | Path, *, force: bool = False,
                 signer: Any = FROM_ENV, progress: Callable[[str], None] | None = None) -> Path:
    """Seal ``files`` with a manifest (and a signature if a signing key is configured) and write them as a bundle.

    Written to a temporary sibling and renamed into place under the path's lock; a verified bundle already
    there is kept in ``DIR.versions/<bundle_id>/``; anything else there is refused unless ``force`` moves it
    aside (:mod:`core.modeling.bundle_store`). Nothing is deleted.
    """
    for name in files:
        if (problem := check_file_name(name)) is not None:
            raise BundleIntegrityError(f"Bundle file name {name!r} {problem}.")
    blobs = {name: text.encode("utf-8") if isinstance(text, str) else bytes(text) for name, text in files.items()}
    manifest = make_manifest(cohort, {name: sha256_bytes(data) for name, data in blobs.items()},
                             datetime.now(timezone.utc).isoformat(timespec="seconds"))
    signer = signer_from_env() if signer == FROM_ENV else signer
    blobs[MANIFEST] = manifest.raw
    if signer is not None:
        blobs[SIGNATURE] = signer.sign(manifest)
    return write_tree(blobs, out_dir, force=force, progress=progress)


def load_bundle(path: str | Path) -> ModelBundle:
    """Verify the manifest (and signature), then parse every section from the bytes verified."""
    from ..fairness import SubgroupAudit
    from ..uncertainty import NoveltyDetector
    from ..evaluation.sites import SiteValidation

    path = Path(path)
    manifest, contents, signature = _read_bundle(path, trust=True)
    listed = manifest.files

    def section(name: str, parse: Callable, *, as_json: bool = True):
        if name not in listed:
            return None
        try:
            text = contents[name].decode("utf-8")
            return parse(json.loads(text)) if as_json else parse(text)
        except BundleIntegrityError as exc:  # a section that does not parse
            raise BundleRefusedError(f"Bundle file {name!r} in {str(path)!r} is refused: {exc}", path=path, file=name,
                                     problem=str(exc)) from exc
        except (UnicodeDecodeError, RecursionError, ValueError, KeyError, TypeError, AttributeError,
                IndexError) as exc:
            raise BundleRefusedError(f"Bundle file {name!r} in {str(path)!r} does not parse ({type(exc).__name__}: "
                                     f"{str(exc)[:120]}). Refusing to load it.", path=path, file=name,
                                     problem=f"does not parse ({type(exc).__name__})") from exc

    for required in ("spec.json", "model.json", "evaluation.json", TrainingRecord.FILE):
        if required not in listed:
            raise BundleRefusedError(f"Bundle {str(path)!r} has no {required}. Refusing to load it.", path=path,
                                     file=required, problem="missing (not listed in the manifest)")
    spec = section("spec.json", CohortSpec.from_dict)
    if spec.name != manifest.cohort:
        raise BundleRefusedError(f"Bundle {str(path)!r} says cohort {manifest.cohort!r} in its manifest but "
                                 f"{spec.name[:60]!r} in spec.json. Refusing to load it.", path=path, file="spec.json",
                                 problem="cohort differs from the manifest")
    trees = section("model_trees.txt", lambda t: t, as_json=False)
    texts = {name: section(name, lambda t: t, as_json=False) for name in listed
             if name.endswith(".txt") and name != "model_trees.txt"}
    return ModelBundle(
        path=path, bundle_id=manifest.bundle_id, sha256=manifest.sha256, spec=spec,
        model=section("model.json", lambda d: BoostedModel.from_dict(d, trees)),
        baseline=section("baseline.json", BoostedModel.from_dict),
        evaluation=section("evaluation.json", Evaluation.from_dict),
        training=section(TrainingRecord.FILE, TrainingRecord.from_dict),
        uncertainty=section(UncertaintySection.FILE, UncertaintySection.from_dict),
        representation=section(RepresentationSection.FILE, RepresentationSection.from_dict),
        audit=section("audit.json", SubgroupAudit.from_dict),
        novelty=section("novelty.json", NoveltyDetector.from_dict),
        site_validation=section("site_validation.json", SiteValidation.from_dict),
        race_gap=section("race_gap.json", _race_gap_doc),
        texts=texts, signature=signature,
    )


# --- reading: each file once, through no link, within limits ----------------------------------------


def _race_gap_doc(doc):
    if not isinstance(doc, dict) or not {"chosen", "rule", "cv", "test"} <= set(doc):
        raise BundleIntegrityError("race_gap.json must be an object with chosen, rule, cv and test.")
    return doc


def _json(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, allow_nan=True, default=_default)


def _default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")

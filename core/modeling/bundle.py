"""Model bundles: a directory of LightGBM text models and JSON, sealed by a sha256 manifest.

``manifest.json`` lists the sha256 of every other file. Loading checks the manifest *before* any
other file is parsed and refuses a changed, missing or extra file. No pickle or joblib anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path

from .._errors import BundleIntegrityError
from ..data.cohorts._sources import sha256_bytes, sha256_file
from ..evaluation.comparison import Evaluation
from .boosted import BoostedModel
from .sections import RepresentationSection, TrainingRecord, UncertaintySection
from ..data.spec import CohortSpec
from .training import TrainingResult

FORMAT = "equipoise-bundle/1"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelBundle:
    """A loaded, verified bundle: every file parsed into a typed section.

    ``spec``, ``model``, ``baseline``, ``evaluation``, ``training`` (TrainingRecord), ``uncertainty``
    (UncertaintySection), ``representation`` (RepresentationSection), ``audit`` (SubgroupAudit) and
    ``novelty`` (NoveltyDetector) are parsed at load time, so a malformed section is refused there
    with a BundleIntegrityError; ``texts`` holds the ensemble members' LightGBM text.
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
    novelty: Any = None    # core.fairness.NoveltyDetector
    texts: dict = field(default_factory=dict)

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
                extras: dict[str, dict] | None = None, extra_text: dict[str, str] | None = None) -> Path:
    """Write the bundle atomically (to a temporary directory, then renamed) and return its path.

    ``extras`` are further JSON documents (e.g. uncertainty, audit) and ``extra_text`` further text
    files (e.g. ensemble members' LightGBM models), all covered by the manifest.
    """
    out = Path(out_dir)
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
    hashes = {name: sha256_bytes(text.encode("utf-8")) for name, text in sorted(files.items())}
    bundle_id = f"{result.spec.name}-{sha256_bytes(_json(hashes).encode())[:12]}"
    manifest = {"format": FORMAT, "bundle_id": bundle_id, "cohort": result.spec.name,
                "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "files": hashes}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=out.parent))
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text, encoding="utf-8")
    (tmp / MANIFEST).write_text(_json(manifest), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def verify_bundle(path: str | Path) -> dict:
    """Check the manifest against the files on disk; return the manifest or raise BundleIntegrityError."""
    path = Path(path)
    mpath = path / MANIFEST
    if not path.is_dir():
        raise BundleIntegrityError(f"Model bundle {str(path)!r} does not exist or is not a directory. "
                                   "Train one with `equipoise train --cohort NAME --out DIR`.")
    if not mpath.is_file():
        raise BundleIntegrityError(f"Model bundle {str(path)!r} has no {MANIFEST}: refusing to load it.")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        listed = dict(manifest["files"])
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        raise BundleIntegrityError(f"The {MANIFEST} of bundle {str(path)!r} is unreadable: refusing to load it.") from None
    if manifest.get("format") != FORMAT:
        raise BundleIntegrityError(f"Bundle {str(path)!r} has format {manifest.get('format')!r}, expected {FORMAT!r}.")
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {MANIFEST}
    missing, extra = sorted(set(listed) - on_disk), sorted(on_disk - set(listed))
    if missing:
        raise BundleIntegrityError(f"Bundle {str(path)!r} is missing file(s) {missing} listed in its manifest.")
    if extra:
        raise BundleIntegrityError(f"Bundle {str(path)!r} has file(s) {extra} that its manifest does not list.")
    for name, expected in listed.items():
        actual = sha256_file(path / name)
        if actual != expected:
            raise BundleIntegrityError(f"Bundle file {name!r} in {str(path)!r} has sha256 {actual[:16]}…, but the "
                                       f"manifest says {expected[:16]}…: it was changed after training. Refusing to load.")
    return manifest


def load_bundle(path: str | Path) -> ModelBundle:
    """Verify the manifest, then parse every section; raises BundleIntegrityError naming what is wrong."""
    from ..fairness import SubgroupAudit
    from ..fairness import NoveltyDetector

    path = Path(path)
    manifest = verify_bundle(path)
    listed = manifest["files"]
    read = lambda name: json.loads((path / name).read_text(encoding="utf-8"))  # noqa: E731
    optional = lambda name, parse: parse(read(name)) if name in listed else None  # noqa: E731
    trees = (path / "model_trees.txt").read_text(encoding="utf-8") if "model_trees.txt" in listed else None
    texts = {name: (path / name).read_text(encoding="utf-8") for name in listed
             if name.endswith(".txt") and name != "model_trees.txt"}
    return ModelBundle(
        path=path, bundle_id=manifest["bundle_id"], sha256=sha256_file(path / MANIFEST),
        spec=CohortSpec.from_dict(read("spec.json")),
        model=BoostedModel.from_dict(read("model.json"), trees),
        baseline=optional("baseline.json", BoostedModel.from_dict),
        evaluation=Evaluation.from_dict(read("evaluation.json")),
        training=TrainingRecord.from_dict(read(TrainingRecord.FILE)),
        uncertainty=optional(UncertaintySection.FILE, UncertaintySection.from_dict),
        representation=optional(RepresentationSection.FILE, RepresentationSection.from_dict),
        audit=optional("audit.json", SubgroupAudit.from_dict),
        novelty=optional("novelty.json", NoveltyDetector.from_dict),
        texts=texts,
    )


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

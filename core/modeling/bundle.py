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

FORMAT = "equipoise-bundle/2"
MANIFEST = "manifest.json"
# Format 2 (issue 8): dose intervals are split-conformal on a held-out calibration part (training.json gains
# n_fit, n_calibration, calibration_split), the recalibration is kept only where cross-validation shows it
# helps (training.json: recalibration), and uncertainty.json states each interval's method and guarantee.
FORMAT_CHANGES = {
    "equipoise-bundle/1": ("its dose intervals were calibrated on out-of-fold residuals of a model tuned on them "
                           "(no valid guarantee) and its recalibration was never tested"),
}
MSG_OLD_FORMAT = ("Bundle {path!r} has format {found!r}, written by an older Equipoise; this version reads {expected!r} "
                  "only ({why}). Refusing to load it. Retrain it: `equipoise train --cohort {cohort} --out {path}`, or "
                  "press 'Retrain this bundle' in the dashboard.")


class BundleRefusedError(BundleIntegrityError):
    """A bundle that exists but is refused: ``path``, the ``file`` at fault (None if the whole bundle), ``problem``."""

    def __init__(self, message: str, *, path: Path, file: str | None = None, problem: str = ""):
        super().__init__(message)
        self.path, self.file, self.problem = Path(path), file, problem or message


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
    """Check the manifest against the files on disk; return the manifest or raise BundleIntegrityError.

    A bundle that does not exist raises :class:`BundleIntegrityError`; one that exists but fails its
    manifest raises :class:`BundleRefusedError`, naming the file and what failed.
    """
    path = Path(path)
    mpath = path / MANIFEST
    if not path.is_dir():
        raise BundleIntegrityError(f"Model bundle {str(path)!r} does not exist or is not a directory. "
                                   "Train one with `equipoise train --cohort NAME --out DIR`.")

    def refuse(message: str, file: str | None, problem: str):
        raise BundleRefusedError(message, path=path, file=file, problem=problem)

    if not mpath.is_file():
        refuse(f"Model bundle {str(path)!r} has no {MANIFEST}: refusing to load it.", MANIFEST, "missing")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        listed = dict(manifest["files"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError):
        refuse(f"The {MANIFEST} of bundle {str(path)!r} is unreadable: refusing to load it.", MANIFEST, "unreadable")
    found = manifest.get("format")
    if found != FORMAT:
        why = FORMAT_CHANGES.get(found, "an unknown format")
        refuse(MSG_OLD_FORMAT.format(path=str(path), found=found, expected=FORMAT, why=why,
                                     cohort=manifest.get("cohort", "NAME")), MANIFEST, f"format {found!r}, expected {FORMAT!r}")
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {MANIFEST}
    missing, extra = sorted(set(listed) - on_disk), sorted(on_disk - set(listed))
    if missing:
        refuse(f"Bundle {str(path)!r} is missing file(s) {missing} listed in its manifest.", missing[0],
               "missing (listed in the manifest)")
    if extra:
        refuse(f"Bundle {str(path)!r} has file(s) {extra} that its manifest does not list.", extra[0],
               "not listed in the manifest")
    for name, expected in listed.items():
        actual = sha256_file(path / name)
        if actual != expected:
            refuse(f"Bundle file {name!r} in {str(path)!r} has sha256 {actual[:16]}…, but the manifest says "
                   f"{expected[:16]}…: it was changed after training. Refusing to load.", name,
                   "changed after training (sha256 differs from the manifest)")
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
    try:
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
    except BundleRefusedError:
        raise
    except BundleIntegrityError as exc:  # a section that does not parse: its message names the file
        raise BundleRefusedError(str(exc), path=path, problem=str(exc)) from exc


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

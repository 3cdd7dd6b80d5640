"""Modeling: the design matrices, the linear + boosted-trees model, its tuning and training protocol,
the full build (``pipeline``) and the sealed on-disk bundle it is saved in."""

from .boosted import BoostedModel, BoostParams, fit_boosted, fit_linear
from .recalibration import decide_recalibration, fit_calibration
from .bundle import FORMAT, MANIFEST, ModelBundle, load_bundle, save_bundle, verify_bundle
from .design import ARM_FEATURE, Design
from .training import Labels, TrainingResult, labels_for, split_test, train
from .tuning import tune

__all__ = [
    "ARM_FEATURE", "FORMAT", "MANIFEST", "BoostParams", "BoostedModel", "Design", "Labels", "ModelBundle",
    "TrainingResult", "fit_boosted", "decide_recalibration", "fit_calibration", "fit_linear", "labels_for", "load_bundle", "save_bundle",
    "split_test", "train", "tune", "verify_bundle",
]

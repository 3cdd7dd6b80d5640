"""Counterfactuals on the held-out test split, printed as one JSON object (issue 8, point 4).

For the first N held-out test patients of each bundled cohort: how many counterfactuals are found (a change
beyond the uncertainty), how many changes tip only the point estimate (``within_uncertainty``), how many
patients have no allowed change at all, and the safety counts that must be zero: drug starts (a medication
going from no to yes), changes to a non-actionable feature, changes against the allowed direction, changes
from an unknown value. The dose cohort is searched for -5 and +5 mg/week.

``sensitivity_weight_actionable`` repeats ACTG 175 with body weight made actionable in both directions (the
old spec), to show how many of the point-estimate flips the old search reported survive the uncertainty rule.

Usage: python benchmarks/counterfactual_report.py [--bundles DIR] [--patients 200]
(bundles missing from DIR are trained into a temporary directory first)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from core import service  # noqa: E402
from core.explain import counterfactual  # noqa: E402
from core.modeling.bundle import load_bundle  # noqa: E402
from core.modeling.heldout import held_out_records  # noqa: E402

COHORTS = ("actg175", "colon", "warfarin")
DOSE_TARGETS = (-5.0, 5.0)


def with_actionable(bundle, **how):
    """The bundle with some features' ``actionable`` replaced (the model is unchanged)."""
    spec = bundle.spec
    features = tuple(dataclasses.replace(f, actionable=how.get(f.name, f.actionable)) for f in spec.features)
    return dataclasses.replace(bundle, spec=dataclasses.replace(spec, features=features))


def violations(spec, record: dict, result) -> dict:
    """Safety counts for one result (over its proposed and its within-uncertainty changes)."""
    out = {"drug_starts": 0, "non_actionable_changes": 0, "against_allowed_direction": 0, "from_unknown": 0}
    for c in (*result.changes, *result.uncertain_changes):
        f = spec.feature(c.feature)
        out["drug_starts"] += f.role == "medication" and c.old == 0 and c.new == 1
        out["non_actionable_changes"] += not f.actionable
        out["from_unknown"] += record.get(c.feature) is None
        out["against_allowed_direction"] += bool(f.actionable) and not f.allows_change(c.old, c.new)
    if result.record is not None:  # the changed record differs from the patient's exactly in the listed changes
        moved = {k for k in spec.feature_names if result.record[k] != record.get(k)}
        out["non_actionable_changes"] += len(moved - {c.feature for c in result.changes})
    return out


def tally(bundle, records: list[dict], **kwargs) -> dict:
    counts = {"patients": len(records), "found": 0, "within_uncertainty": 0, "no_change_reaches_goal": 0,
              "no_allowed_change": 0, "no_actionable_feature": 0, "drug_starts": 0, "non_actionable_changes": 0,
              "against_allowed_direction": 0, "from_unknown": 0}
    for rec in records:
        record = {k: v for k, v in rec.items() if k != "patient_id"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = counterfactual(bundle, record, **kwargs)
        if result.found:
            counts["found"] += 1
        elif result.within_uncertainty:
            counts["within_uncertainty"] += 1
        elif not result.searched:
            counts["no_actionable_feature"] += 1
        elif result.n_candidates == 0:
            counts["no_allowed_change"] += 1
        else:
            counts["no_change_reaches_goal"] += 1
        for k, v in violations(bundle.spec, record, result).items():
            counts[k] += v
    return counts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundles", default=str(service.bundle_root()))
    p.add_argument("--patients", type=int, default=200)
    args = p.parse_args()
    out = {"patients_per_cohort": args.patients, "split": "test", "cohorts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in COHORTS:
            path = os.path.join(args.bundles, name)
            if not os.path.isfile(os.path.join(path, "manifest.json")):
                path = os.path.join(tmp, name)
                service.train_bundle(service.load_cohort(name), path)
            bundle = load_bundle(path)
            records = held_out_records(bundle)[:args.patients]
            actionable = {f.name: f.actionable for f in bundle.spec.features if f.actionable}
            if bundle.spec.is_dose:
                runs = {f"{t:+g} mg/week": tally(bundle, records, dose_change_mg_per_week=t) for t in DOSE_TARGETS}
            else:
                runs = {"favoured arm": tally(bundle, records)}
            out["cohorts"][name] = {"actionable": actionable, **runs}
            if name == "actg175":
                old = with_actionable(bundle, weight_kg="any")
                out["sensitivity_weight_actionable"] = {"actionable": {"weight_kg": "any"},
                                                        "favoured arm": tally(old, records)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Prove a refactor changed no behaviour: the same seed gives the same bundles and the same reports.

For each bundled cohort this script trains a bundle with the code at a reference commit (``--ref``)
and with the working tree (or ``--new COMMIT``), then compares

* every bundle file byte for byte (the manifest's ``created_utc`` timestamp excepted), and
* the bytes of ``equipoise predict --bundle B --split test`` run by both codes on the reference bundle,
  and ``equipoise train`` / ``equipoise audit --bundle`` output.

Run it from the repository root:  ``.venv/bin/python tests/compare_reports.py --ref a0c2d88``.
It prints one JSON object and exits non-zero when anything differs. It is not collected by pytest
(training all three cohorts twice takes about two minutes); the refactor's closing note quotes it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COHORTS = ("actg175", "colon", "warfarin")
RUN = "import sys; from core.cli import main; sys.exit(main(sys.argv[1:]))"


def _cli(code_dir: Path, *args: str) -> bytes:
    """Run the CLI of the code in ``code_dir`` (cwd first on sys.path, so its ``core`` is imported)."""
    done = subprocess.run([sys.executable, "-c", RUN, *args], cwd=code_dir, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{code_dir}: equipoise {' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
    return done.stdout


def _bundle_files(path: Path) -> dict[str, str]:
    out = {}
    for p in sorted(path.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "manifest.json":
                doc = json.loads(data)
                doc.pop("created_utc", None)
                data = json.dumps(doc, sort_keys=True).encode()
            out[p.relative_to(path).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", required=True, help="the commit to compare the working tree with")
    ap.add_argument("--new", help="compare this commit instead of the working tree")
    ap.add_argument("--cohorts", default=",".join(COHORTS))
    args = ap.parse_args()
    result: dict = {"ref": args.ref, "cohorts": {}}
    with tempfile.TemporaryDirectory(prefix="equipoise-compare-") as tmp:
        tmp = Path(tmp)
        ref_code = tmp / "ref"
        new_code = tmp / "new" if args.new else ROOT
        for where, commit in ((ref_code, args.ref), (new_code, args.new)):
            if where != ROOT:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
                               check=True, capture_output=True)
        try:
            for name in args.cohorts.split(","):
                ref_b, new_b = tmp / "bundles" / f"{name}-ref", tmp / "bundles" / f"{name}-new"
                train_ref = _cli(ref_code, "train", "--cohort", name, "--out", str(ref_b))
                train_new = _cli(new_code, "train", "--cohort", name, "--out", str(new_b))
                files_ref, files_new = _bundle_files(ref_b), _bundle_files(new_b)
                pred = {code: _cli(d, "predict", "--bundle", str(ref_b), "--split", "test")
                        for code, d in (("ref", ref_code), ("new", new_code))}
                audit = {code: _cli(d, "audit", "--bundle", str(ref_b)) for code, d in (("ref", ref_code), ("new", new_code))}
                result["cohorts"][name] = {
                    "bundle_files": len(files_ref),
                    "bundle_files_differing": sorted(k for k in files_ref.keys() | files_new.keys()
                                                     if files_ref.get(k) != files_new.get(k)),
                    "train_output_identical": train_ref.replace(bytes(ref_b), b"B") == train_new.replace(bytes(new_b), b"B"),
                    "predict_reports": pred["ref"].count(b"\n"),
                    "predict_sha256": hashlib.sha256(pred["ref"]).hexdigest(),
                    "predict_identical": pred["ref"] == pred["new"],
                    "audit_identical": audit["ref"] == audit["new"],
                }
        finally:
            for where in {ref_code, new_code} - {ROOT}:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], check=False)
    same = all(not c["bundle_files_differing"] and c["train_output_identical"] and c["predict_identical"]
               and c["audit_identical"] for c in result["cohorts"].values())
    result["identical"] = same
    print(json.dumps(result, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""MkDocs hook: validation tables are rendered from the JSON that ``make bench`` writes, never typed by hand.

A page holds a marker ``<!-- table: NAME -->``; the hook replaces it with the table rendered from
``benchmarks/results/NAME.json`` by the function of that name below. A marker without its JSON fails the build
(strict), so a page never shows a stale or invented number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MARKER = re.compile(r"<!-- table: ([a-z_]+) -->")


def _pct(x, digits=0):
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def simulation_trials(doc: dict) -> str:
    rows = ["| covariates | scenario | seeds | test patients | coverage of the true difference | clear calls | "
            "wrong sign (of clear calls) | power (true difference ≥ 10 points) | mean width (points) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for base, block in doc["trials"].items():
        for scenario, s in block["summary"].items():
            def pm(k, digits=1):
                v, e = s.get(k), s.get(k + "_mcse")
                return "—" if v is None else (f"{100 * v:.{digits}f}%" + (f" ± {100 * e:.1f}" if e else ""))
            rows.append(f"| {base} | {scenario} | {s['n_seeds']} | {s['n_test_patients']:,} | {pm('coverage')} | "
                        f"{pm('clear')} | {pm('wrong_sign')} | {pm('power')} | {100 * s['mean_width']:.1f} |")
    return "\n".join(rows)


def simulation_doses(doc: dict) -> str:
    d = doc.get("doses")
    if not d:
        return "No dose simulation in this run."
    s = d["summary"]
    rows = ["| group | test patients (all seeds) | expected coverage of the 90% interval |", "|---|---|---|"]
    for label, key in (("predicted dose", "by_predicted_band"), ("race", "by_race")):
        for g, v in s[key].items():
            rows.append(f"| {label}: {g} | {v['n']:,} | {_pct(v['coverage'], 1)} |")
    rows.append(f"| all ({s['n_seeds']} seeds) | | {_pct(s['coverage'], 1)} |")
    return "\n".join(rows)


def uncertainty_arms(doc: dict) -> str:
    rows = ["| cohort | pair | median width of the per-patient 95% interval (points) | test patients separated |",
            "|---|---|---|---|"]
    for cohort, c in doc.items():
        for pair, v in (c.get("pairs") or {}).items():
            rows.append(f"| {cohort} (n={c['n_test']}) | {pair} | {v['median_width_points']} | {v['separated']} |")
    return "\n".join(rows)


def uncertainty_states(doc: dict) -> str:
    rows = ["| cohort | test patients | headline states | chosen model |", "|---|---|---|---|"]
    for cohort, c in doc.items():
        states = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(c["states"].items()))
        rows.append(f"| {cohort} | {c['n_test']:,} | {states} | {c['evaluation']['model']} |")
    return "\n".join(rows)


def uncertainty_average_effect(doc: dict) -> str:
    rows = ["| cohort | arms | model (points, 95% interval) | trial: Kaplan–Meier (points, 95% interval) | width ratio |",
            "|---|---|---|---|---|"]
    for cohort, c in doc.items():
        for e in c.get("average_effect") or []:
            m, t = e["model_interval"], e["trial_interval"]
            rows.append(f"| {cohort} | {e['arm']} − {e['reference']} | {100 * e['model']:+.1f} ({100 * m[0]:+.1f} to "
                        f"{100 * m[1]:+.1f}) | {100 * e['trial']:+.1f} ({100 * t[0]:+.1f} to {100 * t[1]:+.1f}) | "
                        f"{e['width_ratio']:.2f} |")
    return "\n".join(rows)


def uncertainty_dose(doc: dict) -> str:
    c = doc["warfarin"]["coverage"]
    rows = ["| group | test patients | coverage of the 90% interval |", "|---|---|---|"]
    for label, key in (("race", "by_race"), ("predicted dose", "by_predicted_band"), ("stable dose (observed)",
                                                                                       "by_observed_band")):
        for g in c[key]:
            rows.append(f"| {label}: {g['group']} | {g['n']:,} | {_pct(g['coverage'], 1)} |")
    rows.append(f"| all | {c['overall']['n']:,} | {_pct(c['overall']['coverage'], 1)} |")
    return "\n".join(rows)


def paired_comparison(doc: dict) -> str:
    rows = ["| cohort | chosen model | comparison | model minus baseline (95% paired interval) | verdict |",
            "|---|---|---|---|---|"]
    names = {"auc": "AUC vs logistic regression", "brier": "Brier score vs logistic regression"}
    for cohort, c in doc.items():
        ev = c["evaluation"]
        for key, v in (ev.get("paired") or {}).items():
            lo, hi = v["interval"]
            verdict = "not distinguishable" if lo <= 0 <= hi else ("model lower" if hi < 0 else "model higher")
            rows.append(f"| {cohort} | {ev['model'].split(';')[0].removeprefix('the chosen model: ')} | "
                        f"{names.get(key, key.replace('mae vs', 'MAE (mg/week) vs').replace('within_20 vs', 'share within 20% vs'))} | {v['difference']:+.3f} ({lo:+.3f} to {hi:+.3f}) | {verdict} |")
    return "\n".join(rows)


def calibration_slopes(doc: dict) -> str:
    rows = ["| cohort | model: test calibration slope (95% bootstrap) | logistic regression |", "|---|---|---|"]
    for cohort, c in doc.items():
        slopes = c.get("calibration_slope")
        if not slopes:
            continue
        (m, b) = list(slopes.values())[:2]
        rows.append(f"| {cohort} | {m[0]:.2f} ({m[1]:.2f}–{m[2]:.2f}) | {b[0]:.2f} ({b[1]:.2f}–{b[2]:.2f}) |")
    return "\n".join(rows)


def federated_regimes(doc: dict) -> str:
    """Overall rows of ``equipoise federated`` (benchmarks/federated_report.py): every model and regime."""
    def ci(pair, digits=2):
        return "—" if pair is None or None in pair else f"{pair[0]:.{digits}f} to {pair[1]:.{digits}f}"
    rows = ["| model | regime | MAE (95% CI) | within 20% | mean error | vs formula | vs pooled |",
            "|---|---|---|---|---|---|---|"]
    for r in doc["regimes"]:
        if r["group_kind"] != "overall":
            continue
        lo, hi = r["mae_ci"]
        vs_pooled = "—" if r["regime"] == "pooled" else ci(r["mae_minus_pooled_ci"])
        rows.append(f"| {r['model']} | {r['regime']} | {r['mae']:.2f} ({lo:.2f}–{hi:.2f}) | {_pct(r['within_20'], 1)} | "
                    f"{r['mean_error']:.2f} | {ci(r['mae_minus_formula_ci'])} | {vs_pooled} |")
    return "\n".join(rows)


TABLES = {"paired_comparison": ("uncertainty", paired_comparison),
          "calibration_slopes": ("uncertainty", calibration_slopes),"simulation_trials": ("simulation", simulation_trials), "simulation_doses": ("simulation", simulation_doses),
          "uncertainty_arms": ("uncertainty", uncertainty_arms), "uncertainty_states": ("uncertainty", uncertainty_states),
          "uncertainty_average_effect": ("uncertainty", uncertainty_average_effect),
          "uncertainty_dose": ("uncertainty", uncertainty_dose),
          "federated_regimes": ("federated", federated_regimes)}


def render(markdown: str) -> str:
    def one(match):
        name = match.group(1)
        if name not in TABLES:
            raise ValueError(f"docs: unknown table marker {name!r}; known: {sorted(TABLES)}")
        source, fn = TABLES[name]
        path = RESULTS / f"{source}.json"
        if not path.exists():
            raise FileNotFoundError(f"docs: table {name!r} needs {path} (run `make bench`)")
        return fn(json.loads(path.read_text(encoding="utf-8")))
    return MARKER.sub(one, markdown)


def on_page_markdown(markdown, page, config, files):  # MkDocs hook
    return render(markdown)

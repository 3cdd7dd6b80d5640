"""Tables as the screens show them: the model card's and the subgroup audit's numbers, in clinical words.

Each function takes the JSON-like dict core already produces (``ModelCard.to_dict()``, ``SubgroupAudit.to_dict()``)
and returns a list of rows (``{column header: text}``), every header a label and every value formatted
(:mod:`core.reporting.words`): a share as a percentage, a metric to its usual precision, a flag as yes or blank.
Pages hand the rows to a table widget and add nothing.
"""

from __future__ import annotations

import re

from ..data.spec import CohortSpec
from .words import (attribute_label, audit_kind_label, metric_label, metric_value, percent, plain_words,
                    signature_text, warning_kind_label)

__all__ = ["audit_entry_rows", "entry_detail_rows", "model_name", "performance_rows", "population_rows", "race_gap_rows",
           "site_rows", "subgroup_rows", "version_rows", "p_text"]

SLOPE_PARTS = ("calibration_slope_ci_low", "calibration_slope_ci_high")


def performance_rows(performance: dict) -> list[dict]:
    """One row per measure, one column per model: the calibration slope with its 95% interval in one cell."""
    models = performance["rows"]
    names = [k for k in models[0] if k not in ("name", "description") and k not in SLOPE_PARTS]
    rows = []
    for key in names:
        row = {"Measure": metric_label(key)}
        for m in models:
            text = metric_value(key, m.get(key))
            if key == "calibration_slope" and m.get(SLOPE_PARTS[0]) is not None:
                text += f" ({metric_value(key, m[SLOPE_PARTS[0]])} to {metric_value(key, m[SLOPE_PARTS[1]])})"
            row[model_name(m["name"])] = text
        rows.append(row)
    return rows


def model_name(name: str) -> str:
    """A model's row name as a column header ('equipoise (linear + boosted trees)' -> 'Equipoise model')."""
    return "Equipoise model" if str(name).startswith("equipoise") else str(name)[:1].upper() + str(name)[1:]


def population_rows(population: list[dict], spec: CohortSpec | None) -> list[dict]:
    """The training (and test) patients by protected group, shares as percentages."""
    return [{"Group": attribute_label(spec, g["attribute"]), "Value": g["group"],
             "Training patients": f"{g['n']:,} ({percent(g['share'])})",
             "Test patients": f"{g['test_n']:,} ({percent(g['test_share'])})",
             "Few in training": "yes" if g.get("underrepresented") else ""} for g in population]


SITE_COLUMNS = {"site": "Site", "n": "Patients", "n_train": "Trained on", "mae": "Mean absolute error (mg/week)",
                "within_20": "Share within 20% of the dose", "mean_error": "Mean error (mg/week, predicted − actual)",
                "coverage": "Interval coverage", "n_with_interval": "Patients with an interval",
                "iwpc_formula_mae": "IWPC formula's mean absolute error (mg/week)"}


def site_rows(sites: dict) -> list[dict]:
    """Leave-one-site-out validation, one row per held-out site."""
    out = []
    for s in sites["sites"]:
        row = {}
        for key, header in SITE_COLUMNS.items():
            if key not in s:
                continue
            v = s[key]
            row[header] = v if key in ("site", "n", "n_train", "n_with_interval") or v is None else \
                metric_value(key, v)
        out.append(row)
    return out


def race_gap_rows(gap: dict) -> list[dict]:
    """Race-gap mitigations compared, on cross-validation (training patients) and on the test split."""
    out = []
    for split, where in (("cv", "cross-validation on the training patients"), ("test", "held-out test split")):
        for name, c in {**gap[split]["candidates"], "IWPC formula": gap[split]["iwpc_formula"]}.items():
            out.append({"Mitigation": name, "Scored on": where, "Mean absolute error (mg/week)": metric_value("mae", c["mae"]),
                        "Black − White gap (mg/week)": metric_value("mae", c["black_white_gap"], signed=True),
                        "Asian − White gap (mg/week)": metric_value("mae", c["asian_white_gap"], signed=True),
                        "Used": "yes" if name == gap["chosen"] else ""})
    return out


VERSION_LABELS = {"bundle_id": "Model", "created_utc": "Created (UTC)", "data_sha256": "Data fingerprint (sha256)",
                  "sha256": "Model fingerprint (sha256)", "cv_folds": "Cross-validation folds"}


def version_rows(version: dict) -> list[dict]:
    """The model's identity and software versions as label/value rows (the raw settings stay in the JSON)."""
    rows = [{"Item": VERSION_LABELS[k], "Value": str(version[k])} for k in VERSION_LABELS if version.get(k) is not None]
    rows.append({"Item": "Signature", "Value": signature_text(version.get("signed_by"))})
    rows += [{"Item": f"Software: {name}", "Value": str(v)} for name, v in (version.get("versions") or {}).items()]
    return rows


def p_text(p) -> str:
    return "" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def subgroup_rows(audit: dict, spec: CohortSpec | None, metric: str, *, attributes, mine=()) -> list[dict]:
    """The audit's groups for one metric: value with interval, the rest, the gap, p-values, and whether marked."""
    label = metric_label(metric)
    rows = []
    for g in audit["groups"]:
        if g["attribute"] not in attributes:
            continue
        m = g["metrics"].get(metric, {})
        if m.get("insufficient_data"):
            shown = "insufficient data: " + m["reason"]
        elif m.get("value") is None:
            shown = "not estimable"
        else:
            shown = metric_value(metric, m["value"])
            if m.get("ci_low") is not None:
                shown += f" ({metric_value(metric, m['ci_low'])} to {metric_value(metric, m['ci_high'])})"
        diff = ""
        if m.get("difference") is not None:
            diff = metric_value(metric, m["difference"], signed=True)
            if m.get("difference_ci_low") is not None:  # "+3.5 (−1.0 to +7.5) points": the unit once, at the end
                bare = [metric_value(metric, m[k], signed=True, bare=True)
                        for k in ("difference", "difference_ci_low", "difference_ci_high")]
                unit = diff[len(bare[0]):]
                diff = f"{bare[0]} ({bare[1]} to {bare[2]}){unit}"
        train = f"{g['train_n']:,} ({percent(g['train_share'])})" if g.get("train_share") is not None else ""
        rows.append({"Group": attribute_label(spec, g["attribute"]), "Value": g["group"],
                     "Test patients": g["n"], "Training patients": train, label: shown,
                     "The rest": metric_value(metric, m.get("complement")) if m.get("complement") is not None else "",
                     "Gap (group − rest)": diff, "p-value": p_text(m.get("p_value")),
                     "p-value, all comparisons": p_text(m.get("p_adjusted")),
                     "Worse than the rest": "yes" if m.get("flagged") else "",
                     "This patient": "◀" if (g["attribute"], g["group"]) in set(mine) else ""})
    return rows


def audit_entry_rows(entries) -> list[dict]:
    """Audit-log entries as a readable table: when, what, who, where, which patient (keyed reference), warnings."""
    return [{"Entry": e.seq, "Time (UTC)": str(e.time).replace("T", " ")[:19], "What": audit_kind_label(e.kind),
             "Who": e.user, "Role": plain_words(e.role or ""), "Page": e.page or "", "Patient (reference)": (e.patient_ref or "")[:12],
             "Model": (e.bundle or {}).get("id") or "",
             "Warnings": ", ".join(f"{warning_kind_label(w['kind'])} ({w['severity']})" for w in e.warnings)}
            for e in entries]


def entry_detail_rows(entry, report) -> list[dict]:
    """One entry's details, one click away: every recorded field as a label and a short text (the stored report's
    top-level parts are named, with their full JSON left to a further expander)."""
    body = entry.body
    rows = [{"Item": "Entry", "Value": str(entry.seq)}, {"Item": "What", "Value": audit_kind_label(body.get("kind"))},
            {"Item": "Time (UTC)", "Value": str(body.get("time", ""))}, {"Item": "Who", "Value": str(body.get("user", ""))},
            {"Item": "Role", "Value": plain_words(body.get("role") or "")}, {"Item": "Page", "Value": str(body.get("page") or "")}]
    if body.get("patient_ref"):
        rows.append({"Item": "Patient (keyed reference)", "Value": str(body["patient_ref"])})
    if body.get("bundle"):
        rows.append({"Item": "Model", "Value": " · ".join(str(v) for v in body["bundle"].values() if v)})
    for w in body.get("warnings") or []:
        rows.append({"Item": f"Warning: {warning_kind_label(w['kind'])} ({w['severity']})", "Value": w.get("message", "")})
    for k, v in (body.get("details") or {}).items():
        rows.append({"Item": _detail_label(k), "Value": _short(v)})
    if isinstance(report, dict):
        rows.append({"Item": "Report shown", "Value": ", ".join(_detail_label(k) for k in report)})
    rows.append({"Item": "Chain hash", "Value": entry.hash})
    return rows


def _detail_label(key: str) -> str:
    text = str(key).replace("_", " ")
    return text[:1].upper() + text[1:]


def _short(value) -> str:
    """A recorded detail as words: a dict as ``Key: value; …``, a list comma-separated, a code name in words."""
    if isinstance(value, dict):
        text = "; ".join(f"{_detail_label(k)}: {_short(v)}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_short(v) for v in value)
    elif isinstance(value, str) and _CODE.fullmatch(value):
        text = value.replace("_", " ")
    else:
        text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")

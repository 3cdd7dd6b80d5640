"""CDS Hooks cards from a patient report: the headline as summary, the evidence in detail, a deep link.

A card never says more than the report: its ``summary`` is the report's headline (the dose with its
interval, the options the evidence cannot separate, or insufficient evidence, without a number), its
``indicator`` is ``warning`` only when a high-severity warning applies, and its link opens the dashboard
on the same inputs — carried in the link itself, never as a raw identifier.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any, Mapping
from urllib.parse import urlencode

from .._format import inert_markdown

SUMMARY_MAX = 140
MAX_LINK_RECORD = 4096  # bytes of encoded inputs a link may carry


def encode_record(record: Mapping[str, Any]) -> str:
    """A patient record as a compact, URL-safe token (compressed JSON, base64url)."""
    raw = json.dumps(dict(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_record(token: str) -> dict:
    """The record a link carries; raises ValueError with a plain message when the token is not one."""
    if not isinstance(token, str) or len(token) > MAX_LINK_RECORD:
        raise ValueError("The link's patient inputs are missing or too long.")
    try:
        raw = zlib.decompressobj().decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), 65536)
        record = json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"The link's patient inputs cannot be read ({type(exc).__name__}).") from None
    if not isinstance(record, dict):
        raise ValueError("The link's patient inputs must be an object of field values.")
    return record


def deep_link(dashboard_url: str, cohort: str, record: Mapping[str, Any]) -> str:
    return f"{dashboard_url.rstrip('/')}/?{urlencode({'cohort': cohort, 'record': encode_record(record)})}"


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _headline(report: Mapping) -> str:
    s = report["summary"]
    if s["state"] == "insufficient_evidence":
        return "Insufficient evidence for a model estimate for this patient: see details."
    if s["state"] == "guideline_caution":
        return _short(f"Guideline first: {s['reasons'][0].rstrip('.')}. Model estimate is not a substitute: "
                      "see details.")
    if "dose" in report:
        d = report["dose"]
        lo, hi = d["interval"]
        return _short(f"Estimated stable warfarin dose {d['mg_per_week']:.1f} mg/week "
                      f"({d['coverage']:.0%} interval {lo:.1f}–{hi:.1f}); an option, not an order.")
    risk = {a["arm"]: a["probability"] for a in report["arms"]}
    best = s["best_set"]
    if s["state"] == "clear":
        return _short(f"Lowest estimated risk with {best[0]} ({100 * risk[best[0]]:.0f}%), clearly so against "
                      "every other arm.")
    return _short(f"Evidence cannot separate {', '.join(best)} ({', '.join(f'{100 * risk[a]:.0f}%' for a in best)}); "
                  "see details.")


def card_for_report(report: Mapping, *, source_label: str, source_url: str, link: str,
                    notes: tuple[str, ...] = ()) -> dict:
    """One card for a ``PatientReport.to_dict()``; ``notes`` lists inputs that stayed unknown or were inferred."""
    warnings = report.get("warnings", [])
    lines = [inert_markdown(report["summary"]["text"]), ""]
    if "pairwise" in report and report["summary"]["state"] != "insufficient_evidence":
        lines.append("**Every pair of arms** (difference in risk, 95% interval, percentage points):")
        lines += [f"- {inert_markdown(p['a'])} − {inert_markdown(p['b'])}: {100 * p['difference']:+.1f} "
                  f"({100 * p['interval'][0]:+.1f} to {100 * p['interval'][1]:+.1f})"
                  for p in report["pairwise"] if p["interval"] is not None]
        lines.append("")
    serious = [w for w in warnings if w.get("severity") in ("high", "medium")]
    if serious:
        lines.append("**Warnings that apply:**")
        lines += [f"- ({w['severity']}) {inert_markdown(w['message'])}" for w in serious]
        lines.append("")
    if notes:
        lines.append("**Inputs from the chart:**")
        lines += [f"- {inert_markdown(n)}" for n in notes]
        lines.append("")
    lines.append(inert_markdown(report.get("disclaimer", "")))
    return {"summary": _headline(report),
            "indicator": "warning" if any(w.get("severity") == "high" for w in warnings) else "info",
            "detail": "\n".join(lines).strip(),
            "source": {"label": source_label, "url": source_url},
            "links": [{"label": "Open in Equipoise", "url": link, "type": "absolute"}]}


def card_for_refusal(errors: list[Mapping], *, source_label: str, source_url: str,
                     notes: tuple[str, ...] = ()) -> dict:
    """An ``info`` card naming each field that could not be used (never a server error)."""
    names = ", ".join(sorted({str(e.get("field")) for e in errors}))
    lines = ["The model could not be applied to this chart:", ""]
    lines += [f"- {inert_markdown(e.get('message'))}" for e in errors]
    if notes:
        lines += ["", "**Inputs from the chart:**"] + [f"- {inert_markdown(n)}" for n in notes]
    return {"summary": _short(f"No estimate: these inputs are missing or impossible: {names}."),
            "indicator": "info", "detail": "\n".join(lines),
            "source": {"label": source_label, "url": source_url}}

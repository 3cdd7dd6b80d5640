"""What a board report says about each case, as plain texts and static chart images, drawn only from the
frozen snapshot; the HTML and PDF writers lay this out and compute nothing.

Charts are PNGs drawn with matplotlib's object API (no pyplot, no global state) from the snapshot's
numbers. A snapshot whose summary is ``insufficient_evidence`` gets no chart and no number, as on screen: no
interval line, no insufficient-evidence warning (each carries the interval that was too wide), and the
summary's reasons in words instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from ..reporting.banners import shown_warnings
from .agenda import CaseRecord, MeetingRecord
from .records import TRIAGE_WORDS

FOOTER = ("Model output is decision support, not a decision: estimates from a model trained on trial or cohort "
          "data, one input among many for the board's clinical judgement.")
INSUFFICIENT = "insufficient_evidence"


@dataclass(frozen=True)
class CaseContent:
    """One case as the report shows it: labelled texts (``facts``), the summary, warnings, charts, decisions."""

    label: str
    facts: tuple[tuple[str, str], ...]
    summary: str
    intervals: tuple[str, ...]
    warnings: tuple[str, ...]
    charts: tuple[tuple[str, bytes], ...]
    decisions: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    model_note: str = ""
    reasons: tuple[str, ...] = ()  # why no number is shown (insufficient evidence), in words


@dataclass(frozen=True)
class ReportContent:
    title: str
    meeting: tuple[tuple[str, str], ...]
    cases: tuple[CaseContent, ...] = field(default_factory=tuple)
    footer: str = FOOTER


def _pct(p) -> str:
    return "—" if p is None else f"{100 * p:.0f}%"


def _interval_lines(report: dict) -> list[str]:
    if (report.get("summary") or {}).get("state") == INSUFFICIENT:
        return []
    lines = []
    for a in report.get("arms") or []:
        iv = a.get("interval")
        lines.append(f"{a['arm']}: {_pct(a['probability'])}" + (f" (95% interval {_pct(iv[0])} to {_pct(iv[1])})"
                                                                if iv else " (no interval)"))
    dose = report.get("dose")
    if dose:
        iv = dose.get("interval")
        lines.append(f"Dose: {dose['mg_per_week']:.1f} mg/week" + (
            f" (interval {iv[0]:.1f} to {iv[1]:.1f} mg/week)" if iv else " (no interval for this patient)"))
    return lines


def arm_chart(report: dict) -> bytes | None:
    """Each arm's estimated risk with its 95% interval, as a PNG (None without arms or with insufficient evidence)."""
    arms = report.get("arms") or []
    if not arms or (report.get("summary") or {}).get("state") == INSUFFICIENT:
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.6 + 0.55 * len(arms)), dpi=110)
    ax = fig.add_subplot()
    for i, a in enumerate(reversed(arms)):
        p = 100 * a["probability"]
        iv = a.get("interval")
        if iv:
            ax.plot([100 * iv[0], 100 * iv[1]], [i, i], color="#0072B2", linewidth=2.5)
        ax.plot([p], [i], marker="o", color="#000000", markersize=7)
        ax.annotate(f"{p:.0f}%", (p, i), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9)
    ax.set_yticks(range(len(arms)), [a["arm"] for a in reversed(arms)])
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(arms) - 0.3)
    label = (report.get("outcome") or {}).get("label", "outcome")
    ax.set_xlabel(f"Estimated risk of {label[:1].lower() + label[1:]} (%), with 95% interval")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def dose_chart(report: dict) -> bytes | None:
    dose = report.get("dose")
    if not dose or (report.get("summary") or {}).get("state") == INSUFFICIENT:
        return None
    from matplotlib.figure import Figure

    rows = [("Model", dose["mg_per_week"], dose.get("interval"))]
    if dose.get("iwpc_formula_mg_per_week") is not None:
        rows.append(("IWPC formula", dose["iwpc_formula_mg_per_week"], None))
    rows.append(("Fixed dose", dose.get("fixed_dose_mg_per_week"), None))
    fig = Figure(figsize=(6.4, 0.6 + 0.55 * len(rows)), dpi=110)
    ax = fig.add_subplot()
    for i, (name, value, iv) in enumerate(reversed(rows)):
        if iv:
            ax.plot(iv, [i, i], color="#0072B2", linewidth=2.5)
        ax.plot([value], [i], marker="o", color="#000000")
        ax.annotate(f"{value:.1f}", (value, i), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9)
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
    ax.set_ylim(-0.6, len(rows) - 0.3)
    ax.set_xlabel("Weekly dose (mg/week)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _yes_no(value) -> str:
    return "not recorded" if value is None else "yes" if value else "no"


def _decision_rows(d) -> tuple[tuple[str, str], ...]:
    rows = [("Recommendation", d.recommendation + ("" if d.recommendation_is_option else " (not one of the model's options)")),
            ("Ranked alternatives", "; ".join(f"{i}. {a}" for i, a in enumerate(d.alternatives, 2)) or "none"),
            ("Rationale", d.rationale),
            ("Guideline-concordant", _yes_no(d.guideline_concordant) + (f" — {d.guideline_note}" if d.guideline_note else "")),
            ("Agrees with the model's summary", _yes_no(d.agrees_with_model) +
             (f" — {d.disagreement_reason}" if d.disagreement_reason else "") +
             (f" — {d.agreement_note}" if d.agreement_note else "")),
            ("Dissent", d.dissent or "none recorded"), ("Trial eligible", _yes_no(d.trial_eligible)),
            ("Actions", "; ".join(f"{a.action} (owner {a.owner}, due {a.due})" for a in d.actions) or "none"),
            ("Attendees present", ", ".join(d.attendees_present) or "not recorded"),
            ("Recorded", f"{d.created_at} by {d.created_by}"),
            ("Signed off", f"{d.signed_off_at} by {d.signed_off_by}" if d.signed_off else "not yet signed off")]
    return tuple(rows)


def _decisions(c: CaseRecord) -> tuple:
    """The current version first, then the superseded ones, then comments and follow-ups."""
    last = c.decisions[-1].version if c.decisions else None
    out = [(f"Decision version {d.version}" + (" (current)" if d.version == last else f" (superseded by version {last})"),
            _decision_rows(d)) for d in reversed(c.decisions)]
    if c.comments:
        out.append(("Comments", tuple((f"{x.created_at} by {x.created_by}", x.text) for x in c.comments)))
    if c.followups:
        out.append(("Follow-up", tuple((f"{f.created_at} by {f.created_by} (version {f.decision_version})",
                                        ("implemented" if f.implemented else "not implemented") +
                                        (f" — {f.reason}" if f.reason else "")) for f in c.followups)))
    return tuple(out)


def case_content(c: CaseRecord, current_models: dict) -> CaseContent:
    case, snap = c.case, c.snapshot
    facts = [("Question to the board", case.question or "(none given)"),
             ("Clinical context", case.context or "(none given)"), ("Triage", TRIAGE_WORDS[case.triage]),
             ("Source", f"{case.source.replace('_', ' ')} {case.source_ref}".strip()), ("Cohort", case.cohort)]
    if snap is None:
        return CaseContent(case.label, tuple(facts), "Not presented: no snapshot was frozen for this case.", (), (), (),
                           _decisions(c))
    report = snap.report
    facts += [("Model", f"bundle {snap.bundle_id}, sha256 {snap.bundle_sha256}"),
              ("Snapshot", f"frozen {snap.created_at} by {snap.created_by}, Equipoise {snap.app_version}, "
                           f"report sha256 {snap.report_sha256}")]
    current = current_models.get(case.cohort)
    note = ""
    if current is not None and current.sha256 != snap.bundle_sha256:
        note = (f"The model has changed since this snapshot was frozen: the current {case.cohort} model is bundle "
                f"{current.bundle_id}. This report shows the frozen snapshot, as the board saw it.")
    charts = [(title, png) for title, png in (("Estimated risk under each option", arm_chart(report)),
                                              ("Estimated weekly dose", dose_chart(report))) if png]
    warnings = tuple(f"{w.get('severity', 'note')}: {w.get('message', '')}" for w in shown_warnings(report))
    summary = report.get("summary") or {}
    reasons = tuple(summary.get("reasons") or ()) if summary.get("state") == INSUFFICIENT else ()
    return CaseContent(case.label, tuple(facts), summary.get("text", ""), tuple(_interval_lines(report)), warnings,
                       tuple(charts), _decisions(c), note, reasons)


def report_content(record: MeetingRecord, *, current_models: dict | None = None) -> ReportContent:
    m = record.meeting
    meeting = (("Date", m.date), ("Type", m.type), ("Chair", m.chair),
               ("Attendees", "; ".join(f"{a.name} ({a.specialty})" for a in m.attendees) or "none listed"),
               ("Quorum", m.quorum_text()), ("Meeting id", m.id))
    return ReportContent(m.title, meeting, tuple(case_content(c, current_models or {}) for c in record.cases))

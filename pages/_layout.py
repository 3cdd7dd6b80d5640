"""Streamlit-only layout helpers shared by pages: inert text, calm warning banners and small tables."""

from __future__ import annotations

import re

import streamlit as st

from core import service

_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|~$!])")   # emphasis, code, links, images, HTML, tables, LaTeX
_LIST = re.compile(r"^(\s*)(\d*)([-+.)])(\s)", re.MULTILINE)   # a line that would start a list
CALL = {"high": "warning", "medium": "info", "low": "info"}   # calm: red is for refusals, not for evidence


_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\b(www)\.|@")   # GFM turns bare URLs, www. and emails into links


def inert(text) -> str:
    """``text`` escaped so Streamlit shows it literally: no Markdown, links, images, HTML or LaTeX."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text))
    escaped = _AUTOLINK.sub(_unlink, escaped)
    return _LIST.sub(r"\1\2\\\3\4", escaped).replace("\n", "  \n")


def _unlink(m: re.Match) -> str:
    if m.group(1):
        return m.group(1) + r"\:\/\/"
    return m.group(2) + r"\." if m.group(2) else r"\@"


def warning_banners(warnings: list[dict], *, fold: tuple[str, ...] = ()) -> None:
    """At most three banners (high and medium warnings, one per kind); everything else in one expander."""
    d = service.warning_digest(warnings, fold=fold)
    for b in d.banners:
        body = " ".join(inert(m) for m in b.messages) if len(b.messages) == 1 else \
            "\n".join(f"- {inert(m)}" for m in b.messages)
        getattr(st, CALL[b.severity])(f"**{inert(b.title)}.** " + ("\n\n" if len(b.messages) > 1 else "") + body,
                                      icon=":material/warning:" if b.severity == "high" else ":material/info:")
    if d.more:
        n = sum(len(b.messages) for b in d.more)
        with st.expander(f"More notes about this estimate ({n})"):
            for b in d.more:
                st.markdown(f"**{inert(b.title)}** ({b.severity})")
                for m in b.messages:
                    st.markdown(f"- {inert(m)}")


def units_of(spec) -> dict[str, str]:
    return {f.name: f.unit for f in spec.features}


def inputs_table(bundle, report: dict) -> list[dict]:
    """The inputs the estimate used, as entered: unknown stays unknown, unusual values are marked."""
    return service.input_rows(bundle, report)


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()

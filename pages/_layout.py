"""Streamlit-only layout helpers shared by pages: inert text, calm warning banners and small tables."""

from __future__ import annotations

import streamlit as st

from core import service

CALL = {"high": "warning", "medium": "info", "low": "info"}   # calm: red is for refusals, not for evidence


def inert(text) -> str:
    """``text`` escaped so Streamlit shows it literally: no Markdown, links, images, HTML or LaTeX."""
    return service.inert_markdown(text).replace("\n", "  \n")


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

"""Write docs/reference/cli.md from the ``equipoise`` command's own argparse parser (run by ``make docs``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cli import build_parser  # noqa: E402


def _walk(parser: argparse.ArgumentParser, prefix: str, out: list[str]) -> None:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    out += [f"## `{prefix}`", "", "```text", parser.format_help().rstrip(), "```", ""]
    for action in subs:
        for name, child in action.choices.items():
            _walk(child, f"{prefix} {name}", out)


def main() -> int:
    parser = build_parser()
    parser.prog = "equipoise"
    out = ["# Command-line reference", "", "Generated from the `equipoise` command's own parser by `make docs`; "
           "the guide is in the command-line page.", ""]
    _walk(parser, "equipoise", out)
    target = Path(__file__).resolve().parent / "reference" / "cli.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

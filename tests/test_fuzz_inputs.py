"""Fuzzing the input parsers with hypothesis: the patient validator, the CSV reader (reports and own-data training) and
`equipoise predict --patient` end to end. Thousands of generated inputs (wrong types, NaN, inf, huge integers, unicode,
nested structures, missing and extra fields, malformed CSV, random bytes) may only ever be accepted or refused with a
documented error (PatientValidationError, InputFileError, SpecError): never anything else, never "internal error".

Derandomized (a fixed seed per test, no example database) so CI runs the same inputs every time; run with `-s` to
see the counts.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import json
import math
import sys
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import InputFileError, PatientValidationError, SpecError, service
from core.cli import main
from core.data import BUNDLED, cohort_from_frame, load_spec, validate_patient
from core.data import limits

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPECS = {name: load_spec(name) for name in BUNDLED}
TEMPLATES = {name: service.template(cohort=name)["patient"] for name in BUNDLED}

numeric_text = st.one_of(
    st.from_regex(r"\s?-?[0-9]{1,7}(\.[0-9]{0,4})?([eE]-?[0-9]{1,4})?\s?", fullmatch=True),
    st.sampled_from(["nan", "NaN", "NA", "null", "None", "inf", "-Infinity", "1e999", "1_000", "٣٤", "１２", "0x10",
                     "", " ", "7" * 5000, "-" + "9" * 400, "1e-400", "+5", "5.", ".5", "yes", "no", "TRUE", "0", "1"]),
)
huge_ints = st.sampled_from([5000, -400, 64, -63, 30, 31]).map(lambda e: 10**e if e > 0 else -(2**-e))  # up to 5000 digits
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_ints,
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e4, max_value=1e4),
    st.text(max_size=30), numeric_text,
)
values = st.recursive(leaves, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                      max_leaves=6)


@st.composite
def records(draw, name: str | None = None):
    """A cohort's typical patient with some fields replaced, removed or added, or something that is not a record."""
    name = name or draw(st.sampled_from(list(BUNDLED)))
    spec = SPECS[name]
    record = dict(TEMPLATES[name])
    for field in draw(st.lists(st.sampled_from(spec.feature_names), max_size=len(spec.feature_names), unique=True)):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            del record[field]
        elif choice == 1 and spec.feature(field).categories:
            cat = draw(st.sampled_from(list(spec.feature(field).categories)))
            record[field] = draw(st.sampled_from([cat, cat.upper(), f" {cat} ", cat + "\u200b"]))
        else:
            record[field] = draw(values)
    for _ in range(draw(st.integers(0, 2))):
        record[draw(st.text(max_size=12))] = draw(values)
    return name, record


def _dumps(obj) -> str:
    """JSON text of a generated value; integers of thousands of digits are written out in full (as a user's file may)."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return json.dumps(obj, allow_nan=True)
    finally:
        sys.set_int_max_str_digits(old)


def _check_refusal(exc: PatientValidationError) -> None:
    assert exc.errors, "a refusal names at least one field"
    for e in exc.errors:
        json.dumps(e.to_dict(), allow_nan=True)      # always printable as the refusal JSON
        assert isinstance(e.field, str) and len(e.field) <= 80 and len(e.message) < 1000, e.message  # short, never the whole input


def test_fuzz_the_patient_validator():
    seen = collections.Counter()

    @settings(FUZZ, max_examples=1500)
    @given(records())
    def run(case):
        name, record = case
        spec = SPECS[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                patient = validate_patient(spec, record)
        except PatientValidationError as exc:
            _check_refusal(exc)
            seen["refused"] += 1
            return
        seen["accepted"] += 1
        for f in spec.features:   # what is accepted is canonical and within the hard limits
            v = patient.values[f.name]
            if v is None:
                assert not f.required
            elif f.is_numeric:
                assert math.isfinite(v) and f.limits[0] <= v <= f.limits[1]
            elif f.type == "binary":
                assert v in (0, 1)
            else:
                assert v in f.categories

    run()
    print(f"\nvalidator fuzz: {dict(seen)}")
    assert seen["accepted"] >= 10 and seen["refused"] >= 500, seen


@st.composite
def csv_texts(draw):
    name = draw(st.sampled_from(list(BUNDLED)))
    spec = SPECS[name]
    outcome = [c for c in (spec.outcome.column, spec.outcome.time_column, spec.outcome.event_column) if c]
    known = [spec.patient_id, *spec.feature_names, *([] if spec.is_dose else [spec.treatment.column]), *outcome]
    header = draw(st.lists(st.sampled_from(known) | st.text(max_size=8), min_size=0, max_size=len(known) + 2))
    if draw(st.booleans()):
        header = [c for c in known if c not in set(draw(st.lists(st.sampled_from(known), max_size=3)))] + header[:2]
    cell = st.one_of(numeric_text, st.text(max_size=12), st.sampled_from(["\"", "\"\"", ",", "\n", "\r", "\x00", "\\"]),
                     st.sampled_from(sorted({c for f in spec.features for c in f.categories} | set(spec.arms or []))))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), max_size=6))
    kind = draw(st.integers(0, 3))
    if kind == 0:   # properly quoted
        buf = io.StringIO()
        csv.writer(buf).writerows([header, *rows])
        data = buf.getvalue().encode("utf-8")
    elif kind == 1:  # naively joined: stray quotes, ragged rows
        data = "\n".join(",".join(r) for r in [header, *rows]).encode("utf-8", "surrogatepass")
    elif kind == 2:  # random bytes after a plausible header
        data = (",".join(header) + "\n").encode("utf-8", "surrogatepass") + draw(st.binary(max_size=200))
    else:
        data = draw(st.binary(max_size=300))
    return name, data


def test_fuzz_the_csv_reader():
    seen = collections.Counter()

    @settings(FUZZ, max_examples=600)
    @given(csv_texts())
    def run(case):
        name, data = case
        spec = SPECS[name]
        try:   # the report path: every cell as text, each row validated as a patient
            frame = limits.parse_csv(data, "The CSV")
        except InputFileError:
            seen["unreadable"] += 1
        else:
            for record in frame.to_dict("records")[:5]:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        validate_patient(spec, record, ignore=tuple(c for c in record if c not in spec.feature_names))
                    seen["row accepted"] += 1
                except PatientValidationError as exc:
                    _check_refusal(exc)
                    seen["row refused"] += 1
        try:   # the own-data training path: typed parse, then the cohort checks
            cohort_from_frame(spec, limits.parse_csv(data, "The CSV", as_text=False))
            seen["cohort accepted"] += 1
        except (InputFileError, SpecError):
            seen["cohort refused"] += 1

    run()
    print(f"\nCSV fuzz: {dict(seen)}")
    assert seen["unreadable"] >= 10 and seen["row refused"] >= 100 and seen["cohort refused"] >= 300, seen


@pytest.fixture(scope="module")
def actg_bundle(bundle_dirs):
    return str(bundle_dirs("actg175"))


def test_fuzz_predict_patient_end_to_end(actg_bundle, tmp_path_factory):
    """`equipoise predict --patient FILE` on generated files: exit 0 (a report) or 2 (a refusal), never 3."""
    path = tmp_path_factory.mktemp("fuzz") / "patient.json"
    seen = collections.Counter()
    spec, template = SPECS["actg175"], TEMPLATES["actg175"]
    numeric = [f for f in spec.features if f.is_numeric]
    near_valid = st.sampled_from(numeric).flatmap(lambda f: st.builds(
        lambda v: _dumps({**template, f.name: int(v) if f.integer else v}),
        st.floats(min_value=f.limits[0], max_value=f.limits[1], allow_nan=False)))  # possible, maybe implausible
    as_text = st.one_of(
        near_valid, near_valid,
        records("actg175").map(lambda c: _dumps(c[1])),
        records("actg175").map(lambda c: _dumps({"patient": c[1], "fields": {}})),
        values.map(_dumps),
        st.text(max_size=50),
        st.sampled_from(["[" * 30 + "]" * 30, '{"age_years": ' + "7" * 5000 + "}", "\ufeff{}", "", "{", "NaN"]),
    )

    @settings(FUZZ, max_examples=150)
    @given(as_text)
    def run(text):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["predict", "--bundle", actg_bundle, "--patient", str(path)])
        assert code in (0, 2), err.getvalue()
        assert "internal error" not in err.getvalue()
        if code == 0:
            assert json.loads(out.getvalue())["patient"]
        seen[code] += 1

    run()
    print(f"\npredict --patient fuzz: exit 0 x{seen[0]}, exit 2 x{seen[2]}")
    assert seen[0] >= 5 and seen[2] >= 50, seen

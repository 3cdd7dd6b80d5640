"""Every bad input is a clear refusal (exit 2, a message naming the argument or field), bounded in time and memory:
deep JSON, huge integers, device files, FIFOs, directories, oversized files and streams, out-of-range options."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest

from core import InputFileError, PatientValidationError, SpecError
from core.cli import main
from core.data import CohortSpec, load_spec, validate_patient
from core.data import limits


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def bundle(bundle_dirs):
    return str(bundle_dirs("actg175"))


def _template():
    from core import service
    return service.template(cohort="actg175")["patient"]


def test_deeply_nested_json_is_refused_with_the_depth_limit(bundle, tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)   # crashed with RecursionError (exit 3) before
    code, _, err = _run(capsys, "predict", "--bundle", bundle, "--patient", str(path))
    assert code == 2 and "nested more than 20 levels" in err and "internal error" not in err


def test_a_5000_digit_integer_is_refused_naming_its_field(bundle, tmp_path, capsys):
    record = _template()
    path = tmp_path / "big.json"
    path.write_text(json.dumps(record).replace(f'"age_years": {record["age_years"]}', '"age_years": ' + "7" * 5000))
    code, out, err = _run(capsys, "predict", "--bundle", bundle, "--patient", str(path))
    assert code == 2 and "internal error" not in err
    assert "Age must be a whole number from 12 to" in err and "5000 digits" in err  # the field by its clinical label
    refused = json.loads(out)
    assert [e["field"] for e in refused["errors"]] == ["age_years"]


@pytest.mark.parametrize("value", [10**5000, -(10**400), float("inf"), float("nan"), 1e308, [1, [2]], {"a": {}},
                                   "9" * 5000, "1e999", True], ids=lambda v: type(v).__name__)
def test_numbers_and_types_that_cannot_be_a_weight_are_refused_naming_the_field(value):
    spec = load_spec("actg175")
    record = {**_template(), "weight_kg": value}
    with pytest.raises(PatientValidationError) as exc:
        validate_patient(spec, record)
    (error,) = exc.value.errors
    expected = "Weight (kg) must be a number" if isinstance(value, str) else "from 20 to 300 kg"  # text: read strictly
    assert error.field == "weight_kg" and expected in error.message and len(error.message) < 300
    json.dumps(error.to_dict())  # the refusal can always be printed as JSON


def test_device_files_fifos_and_directories_are_refused_by_name(bundle, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)   # opening it would block forever: it is never opened
    (tmp_path / "dir").mkdir()
    for option, path, says in [("--patient", "/dev/zero", "not an ordinary file"), ("--patient", str(fifo), "not an ordinary file"),
                               ("--csv", "/dev/zero", "not an ordinary file"), ("--csv", str(tmp_path / "dir"), "is a directory"),
                               ("--patient", str(tmp_path / "dir"), "is a directory"),
                               ("--csv", str(tmp_path / "nope.csv"), "does not exist")]:
        code, _, err = _run(capsys, "predict", "--bundle", bundle, option, path)
        assert code == 2 and says in err and repr(path) in err, (option, path, err)


def test_oversized_files_and_streams_are_refused_before_reading_them(bundle, tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(limits.MAX_PATIENT_JSON_BYTES + 1)   # sparse: refused from its size, not read
    code, _, err = _run(capsys, "predict", "--bundle", bundle, "--patient", str(big))
    assert code == 2 and "the limit is" in err

    class Endless(io.RawIOBase):   # standard input that never ends (like `< /dev/zero`)
        read_total = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            Endless.read_total += len(buffer)
            buffer[:] = b" " * len(buffer)
            return len(buffer)

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    code, _, err = _run(capsys, "predict", "--bundle", bundle, "--patient", "-")
    assert code == 2 and "standard input is larger than the limit" in err
    assert Endless.read_total < 10 * limits.MAX_PATIENT_JSON_BYTES


def test_csv_row_and_size_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CSV_ROWS", 3)
    with pytest.raises(InputFileError, match="more than 3 rows"):
        limits.parse_csv(b"a,b\n" + b"1,2\n" * 4, "The CSV")
    assert len(limits.parse_csv(b"a,b\n" + b"1,2\n" * 3, "The CSV")) == 3
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 10)
    path = tmp_path / "p.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 10)
    with pytest.raises(InputFileError, match="the limit is 10 bytes"):
        limits.read_bounded(path, "CSV file", limits.MAX_CSV_BYTES)


@pytest.mark.parametrize("argv, says", [
    (["--n-boot", "100000000"], "--n-boot must be an integer from 0 to 10,000"),
    (["--n-boot", "-1"], "--n-boot must be an integer from 0 to 10,000"),
    (["--n-boot", "1e3"], "--n-boot must be an integer"),
    (["--seed", "9" * 5000], "--seed must be an integer from 0 to 4,294,967,295"),
])
def test_numeric_options_have_declared_ranges(argv, says, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--predictions", "x.csv", "--label", "y", "--score", "s", "--attributes", "a", *argv])
    assert exc.value.code == 2 and says in capsys.readouterr().err


def test_spec_files_are_bounded_too(tmp_path):
    with pytest.raises(SpecError, match="is a directory"):
        CohortSpec.from_json(tmp_path)
    deep = tmp_path / "deep.json"
    deep.write_text("{\"a\":" * 50 + "1" + "}" * 50)
    with pytest.raises(SpecError, match="nested more than 20"):
        CohortSpec.from_json(deep)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(SpecError, match="must hold one JSON object"):
        CohortSpec.from_json(listed)


def test_a_directory_as_training_csv_is_refused(tmp_path, capsys):
    code, _, err = _run(capsys, "train", "--csv", str(tmp_path), "--spec", str(tmp_path / "s.json"), "--out", str(tmp_path / "o"))
    assert code == 2 and "internal error" not in err

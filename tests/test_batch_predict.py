"""`equipoise predict --csv/--parquet` in chunks: the same reports as one patient at a time, refused rows in place,
Parquet and JSON Lines output, never overwriting a file unasked."""

from __future__ import annotations

import json
import math
import warnings

import pandas as pd
import pytest

import core._json
from core import PatientValidationError, service
from core._json import jsonable
from core.cli import main
from core.modeling.bundle import load_bundle
from core.scale import ResultWriter, report_columns_ignored, score_chunk
from test_fast_reports import assert_same


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def _patients(bundle, n=40):
    """Held-out patients as a raw table named as in the spec, one row made invalid (row 4)."""
    spec = bundle.spec
    frame = pd.DataFrame(service.held_out_patients(bundle)[:n]).rename(columns={"patient_id": spec.patient_id})
    first = spec.features[0].name
    assert spec.features[0].is_numeric
    frame.loc[3, first] = 99_999  # outside the field's limits
    frame[spec.patient_id] = frame[spec.patient_id].astype(str)
    return frame, first


def _expected(bundle, frame):
    """Each row through the one-patient path (service.predict / service.refusal), as the CLI prints it."""
    spec = bundle.spec
    ignore = (spec.patient_id, spec.treatment.column)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, record in enumerate(frame.to_dict("records"), start=1):
            record = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
            pid = record[spec.patient_id]
            try:
                out.append({**service.predict(bundle, record, patient_id=pid, ignore=ignore).to_dict(), "row": i})
            except PatientValidationError as exc:
                out.append(service.refusal(bundle, exc, row=i, patient_id=pid))
    return jsonable(out)


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
def test_json_lines_parse_to_the_one_patient_reports_with_or_without_orjson(bundle_dirs, tmp_path, monkeypatch,
                                                                             cohort):
    """The writer's JSON Lines (orjson when installed, else the standard library) parse back to exactly the
    chunk's results, either way, and those equal each held-out patient's own report (refusal in place)."""
    bundle = load_bundle(bundle_dirs(cohort))
    spec = bundle.spec
    frame, _bad = _patients(bundle, n=25)
    frame.loc[0, spec.patient_id] = "Zoë ✓ 1"  # text beyond ASCII is written as UTF-8, not escaped away
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
               for r in frame.to_dict("records")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = score_chunk(bundle, records, first_row=1, id_column=spec.patient_id,
                              ignore=report_columns_ignored(spec))
    parsed = {}
    for name, serialiser in (("orjson", core._json._orjson), ("json", None)):
        if name == "orjson" and serialiser is None:
            continue  # orjson not installed: the standard library's output is checked below
        monkeypatch.setattr(core._json, "_orjson", serialiser)
        out = tmp_path / f"{name}.jsonl"
        writer = ResultWriter(spec, out)
        writer.write(results)
        writer.close()
        text = out.read_text(encoding="utf-8")
        assert "Zoë ✓ 1" in text
        parsed[name] = [json.loads(line) for line in text.splitlines()]
    assert all(lines == results for lines in parsed.values())  # exactly the same value, key order included
    assert all([list(r) for r in lines] == [list(r) for r in results] for lines in parsed.values())
    for got, want in zip(parsed["json"], _expected(bundle, frame)):
        assert_same(want, got)


def _plain_json_paths(value, path="result"):
    """Where ``value`` holds anything but JSON's own Python types (dict with str keys, list, str, int, a finite
    float, bool, None): a tuple, a numpy number, a NaN."""
    kind = type(value)
    if kind is dict:
        return [p for k, v in value.items() for p in ([f"{path}: key {k!r}"] if type(k) is not str else [])
                + _plain_json_paths(v, f"{path}/{k}")]
    if kind is list:
        return [p for i, v in enumerate(value) for p in _plain_json_paths(v, f"{path}[{i}]")]
    if kind is float:
        return [] if math.isfinite(value) else [f"{path}: {value!r}"]
    return [] if kind in (str, int, bool, type(None)) else [f"{path}: {kind.__name__}"]


@pytest.mark.parametrize("cohort", ["actg175", "colon", "warfarin"])
def test_chunk_results_are_json_ready_as_they_come(bundle_dirs, cohort):
    """score_chunk hands out the reports' own dicts (no jsonable pass per chunk): every value must already be
    one of JSON's types, for reports with missing inputs, at a field's limit, and for refusals."""
    bundle = load_bundle(bundle_dirs(cohort))
    spec = bundle.spec
    frame, _bad = _patients(bundle, n=30)
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
               for r in frame.to_dict("records")]
    optional = [f.name for f in spec.features if not f.required]
    records += [{**records[0], name: None} for name in optional]
    records += [{**records[0], f.name: f.limits[1]} for f in spec.features if f.is_numeric]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = score_chunk(bundle, records, first_row=1, id_column=spec.patient_id,
                              ignore=report_columns_ignored(spec))
    assert sum("errors" in r for r in results) == 1
    assert [p for r in results for p in _plain_json_paths(r)] == []
    assert results == jsonable(results)


@pytest.mark.parametrize("cohort", ["colon", "warfarin"])
def test_csv_in_chunks_equals_one_report_per_row(bundle_dirs, capsys, tmp_path, cohort):
    bundle = load_bundle(bundle_dirs(cohort))
    frame, bad = _patients(bundle)
    csv = tmp_path / "patients.csv"
    frame.to_csv(csv, index=False)
    code, out, err = run(capsys, "predict", "--bundle", bundle_dirs(cohort), "--csv", csv, "--chunk-rows", 7)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "1 of 40 row(s) were refused" in err
    assert [r["row"] for r in lines] == list(range(1, 41))
    assert lines[3]["errors"][0]["field"] == bad and "arms" not in lines[3] and "dose" not in lines[3]
    expected = _expected(bundle, pd.read_csv(csv, dtype=str, keep_default_na=False))
    for got, want in zip(lines, expected):
        assert_same(want, got)


def test_parquet_folder_to_parquet_keeps_order_and_refusals(bundle_dirs, capsys, tmp_path):
    bundle = load_bundle(bundle_dirs("colon"))
    frame, bad = _patients(bundle)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:25].to_parquet(folder / "part-0.parquet")
    frame.iloc[25:].reset_index(drop=True).to_parquet(folder / "part-1.parquet")
    out = tmp_path / "reports.parquet"
    code, _, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--parquet", folder, "--out", out,
                       "--chunk-rows", 10)
    assert code == 1 and "40 row(s) written" in err and "rows (1 refused)" in err  # plain progress off a terminal
    table = pd.read_parquet(out)
    assert table["row"].tolist() == list(range(1, 41))
    assert table["refused"].tolist() == [i == 3 for i in range(40)]
    assert table["patient_id"].tolist() == frame[bundle.spec.patient_id].tolist()
    reports = [json.loads(r) for r in table["report"]]
    assert reports[3]["errors"][0]["field"] == bad
    expected = _expected(bundle, frame)
    for got, want in zip(reports, expected):
        assert_same(want, got)
    ok = table[~table["refused"]]
    for arm in bundle.spec.arms:  # the headline columns are the reports' own numbers
        assert ok[f"risk_{arm}"].tolist() == [next(a["probability"] for a in json.loads(r)["arms"] if a["arm"] == arm)
                                              for r in ok["report"]]
        assert (ok[f"risk_{arm}_low"] <= ok[f"risk_{arm}"]).all() and (ok[f"risk_{arm}"] <= ok[f"risk_{arm}_high"]).all()


def test_an_existing_out_file_is_never_overwritten_unasked(bundle_dirs, capsys, tmp_path):
    bundle = load_bundle(bundle_dirs("colon"))
    frame, _ = _patients(bundle, 5)
    csv = tmp_path / "p.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "reports.jsonl"
    out.write_text("precious\n")
    code, _, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--csv", csv, "--out", out)
    assert code == 2 and "already exists" in err and "--force" in err
    assert out.read_text() == "precious\n"
    code, _, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--csv", csv, "--out", out, "--force",
                       "--no-explanations")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 1 and len(lines) == 5 and all("explanation" not in r for r in lines)
    assert not list(tmp_path.glob(".reports.jsonl.*"))  # no temporary file left behind


@pytest.mark.parametrize("args, message", [
    (["--out", "x.csv"], "--out must end in .jsonl or .parquet"),
    (["--scheduler", "tcp://127.0.0.1:1"], "use it with --engine dask"),
    (["--force"], "use it with --out"),
])
def test_bad_batch_options_are_refused_plainly(bundle_dirs, capsys, tmp_path, args, message):
    csv = tmp_path / "p.csv"
    csv.write_text("a\n1\n")
    code, _, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--csv", csv, *args)
    assert code == 2 and message in err


def test_batch_options_need_file_input(bundle_dirs, capsys):
    code, _, err = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--split", "test", "--no-explanations")
    assert code == 2 and "--no-explanations applies to --csv and --parquet input only" in err


def test_dask_scores_each_parquet_file_like_one_process(bundle_dirs, capsys, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    bundle = load_bundle(bundle_dirs("colon"))
    frame, _ = _patients(bundle, 30)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, start in enumerate(range(0, 30, 12)):
        frame.iloc[start:start + 12].reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        import contextlib

        monkeypatch.setattr("core.scale.distributed.dask_client",
                            lambda scheduler=None: contextlib.nullcontext(client))
        code, dask_out, _ = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--parquet", folder,
                                "--engine", "dask")
    code_local, local_out, _ = run(capsys, "predict", "--bundle", bundle_dirs("colon"), "--parquet", folder)
    assert code == code_local == 1  # row 4 is refused either way
    assert dask_out == local_out and len(dask_out.splitlines()) == 30

"""audit_predictions_file: CSV and Parquet in, clear InputFileError for every kind of bad file."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from core._errors import InputFileError
from core.fairness import audit_predictions_file, audit_subgroups


def predictions(n=300, seed=0):
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0.05, 0.95, n), 4)
    return pd.DataFrame({
        "label": (rng.random(n) < p).astype(int),
        "score": p,
        "race": rng.choice(["White", "Black"], n),
        "sex": rng.choice(["female", "male"], n),
        "age_band": rng.choice(["18-64", "65+"], n),
        "low": np.clip(p - 0.4, 0, 1),
        "high": np.clip(p + 0.4, 0, 1),
        "ipcw": rng.uniform(0.5, 2, n),
    })


ARGS = dict(label="label", score="score", attributes=["race", "sex"], n_boot=5)


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_audit_equals_direct_audit(tmp_path, suffix):
    frame = predictions()
    path = tmp_path / f"preds{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    from_file = _quiet(audit_predictions_file, path, **ARGS, interval=("low", "high"), weight="ipcw")
    direct = _quiet(audit_subgroups, frame["label"], frame["score"], frame[["race", "sex"]], n_boot=5,
                    interval=frame[["low", "high"]].to_numpy(), sample_weight=frame["ipcw"])
    # CSV may round the last digit of a float: compare with a tolerance
    pd.testing.assert_frame_equal(from_file.by_group, direct.by_group, check_exact=False, rtol=1e-9)
    assert from_file.settings == direct.settings


def test_numeric_looking_attributes_stay_labels(tmp_path):
    frame = predictions().assign(site=lambda f: np.where(f["race"] == "White", "01", "02"))
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    audit = _quiet(audit_predictions_file, path, label="label", score="score", attributes="site", n_boot=0)
    assert {g.group for g in audit.groups} == {"01", "02"}


def _write(tmp_path, name, frame=None, text=None, data=None):
    path = tmp_path / name
    if frame is not None:
        frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    elif text is not None:
        path.write_text(text)
    elif data is not None:
        path.write_bytes(data)
    return path


def _with(frame, column, row, value):
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


BAD_FILES = [
    pytest.param("absent.csv", {}, {}, r"The predictions file .*absent\.csv does not exist\.", id="missing-file"),
    pytest.param("preds.txt", {"text": "label,score\n1,0.5\n"}, {},
                 r"must be a \.csv or \.parquet file\. Got '\.txt' instead", id="wrong-type"),
    pytest.param("preds.parquet", {"data": b"not a parquet file at all"}, {},
                 r"could not be read as Parquet: ", id="corrupt-parquet"),
    pytest.param("preds.csv", {"text": ""}, {}, r"could not be read as CSV: EmptyDataError", id="empty-csv"),
    pytest.param("preds.csv", {"frame": predictions().iloc[:0]}, {}, r"has no rows", id="no-rows"),
    pytest.param("preds.csv", {"frame": predictions().drop(columns="score")}, {},
                 r"has no column 'score' \(the score\)\. Available columns: label, race, sex, age_band, low, high, ipcw",
                 id="missing-score-column"),
    pytest.param("preds.csv", {"frame": predictions()}, {"attributes": ["race", "ethnicity"]},
                 r"has no column 'ethnicity' \(the attribute\)", id="missing-attribute-column"),
    pytest.param("preds.csv", {"frame": predictions()}, {"interval": ("low", "upper")},
                 r"has no column 'upper' \(the interval high\)", id="missing-interval-column"),
    pytest.param("preds.csv", {"frame": _with(predictions(), "score", 2, "high")}, {},
                 r"The 'score' column \(the score\) of .* must be numeric\. Got 'high' in data row 3 instead",
                 id="non-numeric-score"),
    pytest.param("preds.parquet", {"frame": _with(predictions().astype({"score": str}), "score", 0, "n/a")},
                 {}, r"must be numeric\. Got 'n/a' in data row 1", id="non-numeric-score-parquet"),
    pytest.param("preds.csv", {"frame": _with(predictions(), "label", 5, 2)}, {},
                 r"The 'label' column \(the label\) of .* must hold only 0 and 1 for task='binary'\. Got 2 instead",
                 id="label-not-binary"),
    pytest.param("preds.csv", {"frame": predictions().assign(label=lambda f: np.where(f.label == 1, "yes", "no"))},
                 {}, r"must hold only 0 and 1 for task='binary'\. Got '(no|yes)', '(no|yes)' instead",
                 id="label-words"),
    pytest.param("preds.csv", {"frame": _with(_with(predictions(), "race", 3, None), "race", 7, None)}, {},
                 r"The 'race' column \(the attribute\) of .* has 2 missing value\(s\), first in data row 4",
                 id="missing-attribute-values"),
    pytest.param("preds.csv", {"frame": _with(predictions(), "label", 0, None)}, {},
                 r"The 'label' column \(the label\) of .* has 1 missing value\(s\), first in data row 1",
                 id="missing-label"),
    pytest.param("preds.csv", {"frame": _with(predictions(), "score", 4, 1.7)}, {},
                 r"must hold probabilities in \[0, 1\] for task='binary'\. Got 1\.7 in data row 5",
                 id="score-not-probability"),
    pytest.param("preds.csv", {"frame": _with(predictions(), "ipcw", 9, -1.0)}, {"weight": "ipcw"},
                 r"The 'ipcw' column \(the weight\) of .* must be >= 0\. Got -1\.0 in data row 10",
                 id="negative-weight"),
]


@pytest.mark.parametrize("name, content, kwargs, err_msg", BAD_FILES)
def test_bad_files(tmp_path, name, content, kwargs, err_msg):
    path = tmp_path / name if not content else _write(tmp_path, name, **content)
    with pytest.raises(InputFileError, match=err_msg):
        audit_predictions_file(path, **{**ARGS, **kwargs})


def test_errors_name_the_path(tmp_path):
    path = _write(tmp_path, "preds.csv", frame=predictions().drop(columns="label"))
    with pytest.raises(InputFileError, match=re.escape(str(path))):
        audit_predictions_file(path, **ARGS)


def test_regression_labels_need_only_be_numeric(tmp_path):
    frame = predictions().assign(label=lambda f: f["score"] * 50 + 10, score=lambda f: f["score"] * 48 + 12)
    path = _write(tmp_path, "doses.csv", frame=frame)
    audit = _quiet(audit_predictions_file, path, **{**ARGS, "task": "regression"})
    assert "mae" in audit.overall

"""Every bundled cohort loads offline from its installed package, verified by sha256."""

import pickle
import shutil

import pytest

from core import DataIntegrityError, InputFileError, SpecError
from core.data.cohorts import ARM, cohort_from_frame, load_cohort, load_spec
from core.data.cohorts import _sources
from core.data.cohorts._sources import SOURCES, sha256_file, unpickle_dataframe


@pytest.mark.parametrize(
    "name, n, arms",
    [
        ("actg175", 2139, {"ZDV": 532, "ZDV+ddI": 522, "ZDV+ddC": 524, "ddI": 561}),
        ("colon", 929, {"Obs": 315, "Lev": 310, "Lev+5FU": 304}),
        ("warfarin", 5878, None),
    ],
)
def test_bundled_cohort_loads_with_verified_hash(name, n, arms):
    cohort = load_cohort(name)
    assert cohort.n == n
    assert sha256_file(SOURCES[name].path()) == cohort.source["sha256"] == SOURCES[name].sha256
    if arms:
        assert cohort.frame[ARM].value_counts().to_dict() == arms
    # post-baseline columns never become features
    assert not set(cohort.spec.excluded_columns) & set(cohort.spec.feature_names)


def test_warfarin_exclusions_are_counted_not_silent():
    cohort = load_cohort("warfarin")
    assert sum(e["n"] for e in cohort.exclusions) + cohort.n == 6256  # rows in iwpc.pkl


def test_colon_patient_id_is_the_one_based_row_number():
    ids = load_cohort("colon").patient_ids
    assert ids[0] == "1" and ids[-1] == "929"


def test_changed_data_file_is_refused_before_parsing(tmp_path, monkeypatch):
    src = SOURCES["actg175"]
    copy = tmp_path / "datasets" / "ACTG175.csv"
    copy.parent.mkdir()
    shutil.copy(src.path(), copy)
    with open(copy, "r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 1]))
    monkeypatch.setattr(_sources.DataSource, "path", lambda self: copy)
    with pytest.raises(DataIntegrityError, match="has sha256 .* expected 56fba31f"):
        src.read_verified()


class Evil:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


def test_pickle_outside_the_allow_list_is_refused():
    with pytest.raises(DataIntegrityError, match="Refused to unpickle (posix|os|nt).system"):
        unpickle_dataframe(pickle.dumps(Evil()))


def test_real_iwpc_pickle_passes_the_allow_list():
    frame = unpickle_dataframe(SOURCES["warfarin"].read_verified())
    assert frame.shape == (6256, 68)


def test_bad_training_rows_are_refused_with_row_and_field():
    spec = load_spec("colon")
    raw = load_cohort("colon").frame.rename(columns={"patient_id": "row_number"})
    raw["arm"] = raw["arm"].astype(object)
    raw.loc[3, "age_years"] = 400
    raw.loc[5, "arm"] = "Placebo"
    with pytest.raises(InputFileError, match=r"row 4 \(patient 4\): Age must be a whole number from 12 to 110 years. Got 400 instead"):
        cohort_from_frame(spec, raw)
    with pytest.raises(InputFileError, match=r"row 6 .*arm 'Placebo' is not one of"):
        cohort_from_frame(spec, raw)


def test_missing_column_is_named():
    spec = load_spec("colon")
    raw = load_cohort("colon").frame.rename(columns={"patient_id": "row_number"}).drop(columns=["extent"])
    with pytest.raises(InputFileError, match=r"lacks column\(s\) \['extent'\]"):
        cohort_from_frame(spec, raw)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["features"][0].update(type="float"), "The type of feature 'age_years' must be one of"),
        (lambda d: d["features"][0].pop("limits"), "Numeric feature 'age_years' needs hard 'limits'"),
        (lambda d: d["treatment"].update(reference="Placebo"), "The reference arm must be one of"),
        (lambda d: d["excluded_columns"].append("age_years"), "post-treatment variable must never be a model input"),
        (lambda d: d["features"][0].update(plausible=[0, 500]), "plausible range of 'age_years' must lie inside"),
    ],
)
def test_malformed_specs_are_refused(mutate, message):
    from core.data.spec import CohortSpec

    raw = load_spec("colon").to_dict()
    mutate(raw)
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_dict(raw)

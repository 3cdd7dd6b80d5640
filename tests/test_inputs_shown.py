"""The inputs a report used are shown as entered: unknown stays unknown, yes/no for binary, unusual marked."""

import warnings

from core import service


def test_inputs_are_shown_as_entered_in_clinical_words(bundles):
    bundle = bundles("warfarin")
    record = service.typical_patient(bundle) | {"vkorc1_1639": None, "amiodarone": 1, "height_cm": 127}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = service.predict(bundle, record).to_dict()
    rows = {r["Input"]: r for r in service.input_rows(bundle, report)}
    assert len(rows) == len(bundle.spec.features)
    vkorc1 = rows[bundle.spec.feature("vkorc1_1639").label]
    assert vkorc1["Value"] == "unknown" and "does not assume" in vkorc1["Note"]  # never shown as wild-type
    assert rows["Taking amiodarone"]["Value"] == "yes"
    assert rows["Height"]["Value"] == "127 cm" and rows["Height"]["Note"]  # unusual value marked
    assert all("_" not in r["Input"] for r in rows.values())  # labels, not code names

"""The exact federated linear model: the sum of the sites' statistics gives the pooled least-squares fit.

The reference is independent: statsmodels' OLS through a patsy formula on a pandas frame (its own dummy coding
and its own solver), with missing numerics filled by pandas' means of the pooled training rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.federated import (COEFFICIENTS, SufficientStatistics, bundled_partition, fit_pooled, site_statistics,
                            solve)
from core.federated._linear import MSG_NO_VALUES


@pytest.fixture(scope="module")
def data():
    cohort, part = bundled_partition("warfarin")
    return cohort, part


def statsmodels_fit(frame: pd.DataFrame, dose) -> dict:
    """OLS of sqrt(dose) on the IWPC formula's inputs, coded independently (statsmodels.formula.api.ols)."""
    import statsmodels.formula.api as smf

    d = pd.DataFrame({"y": np.sqrt(np.asarray(dose, float))})
    for c in ("age_decade", "height_cm", "weight_kg"):
        v = frame[c].astype(float).reset_index(drop=True)
        d[c] = v.fillna(v.mean())
    d["vk"] = frame["vkorc1_1639"].astype(object).where(frame["vkorc1_1639"].isin(["G/G", "A/G", "A/A"]),
                                                        "unknown").to_numpy()
    d["cyp"] = frame["cyp2c9"].astype(object).where(
        frame["cyp2c9"].isin(["*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3"]), "unknown").to_numpy()
    d["race"] = frame["race"].astype(object).where(frame["race"].isin(["White", "Asian", "Black or African American"]),
                                                  "missing or mixed").to_numpy()
    d["enzyme_inducer"] = frame["enzyme_inducer"].astype(float).fillna(0).to_numpy()
    d["amiodarone"] = frame["amiodarone"].astype(float).fillna(0).to_numpy()
    res = smf.ols("y ~ age_decade + height_cm + weight_kg + C(vk, Treatment('G/G')) + C(cyp, Treatment('*1/*1'))"
                  " + C(race, Treatment('White')) + enzyme_inducer + amiodarone", data=d).fit()
    out = {}
    for name, value in res.params.items():
        key = (name.replace("Intercept", "intercept")
               .replace("C(vk, Treatment('G/G'))[T.", "vkorc1_").replace("C(cyp, Treatment('*1/*1'))[T.", "cyp2c9_")
               .replace("C(race, Treatment('White'))[T.", "race_").rstrip("]"))
        out[key] = float(value)
    return out


def test_summed_site_statistics_equal_the_pooled_ols_fit(data):
    cohort, part = data
    frame, dose = cohort.frame, cohort.frame["dose_mg_per_week"].to_numpy(float)
    total = None
    for s in part.names:
        rows = part.train_rows(s)
        st = site_statistics(frame[rows], dose[rows])
        total = st if total is None else total + st
    federated = dict(zip(COEFFICIENTS, solve(total).coefficients))
    train = ~part.held_out
    reference = statsmodels_fit(frame[train], dose[train])
    assert set(reference) == set(COEFFICIENTS)
    for name in COEFFICIENTS:
        assert federated[name] == pytest.approx(reference[name], abs=1e-6), name


def test_pooled_fit_matches_numpy_lstsq_where_heights_are_missing(data):
    """A second solver (numpy.linalg.lstsq on patsy's design matrix) on sites 2, 15 and 21, many heights missing."""
    import statsmodels.formula.api as smf  # noqa: F401  (patsy builds the design below)
    from patsy import dmatrices

    cohort, part = data
    rows = np.isin(part.sites, ["2", "15", "21"]) & ~part.held_out
    frame, dose = cohort.frame[rows].reset_index(drop=True), cohort.frame.loc[rows, "dose_mg_per_week"]
    assert frame["height_cm"].isna().mean() > 0.1
    d = frame.assign(y=np.sqrt(dose.to_numpy(float)))
    for c in ("height_cm", "weight_kg"):
        d[c] = d[c].astype(float).fillna(d[c].astype(float).mean())
    d["race"] = d["race"].astype(str)  # the levels present here only
    d["vk"] = d["vkorc1_1639"].astype(object).fillna("unknown")
    d["cyp"] = d["cyp2c9"].astype(object).replace({"other": "unknown"}).fillna("unknown")
    y, x = dmatrices("y ~ age_decade + height_cm + weight_kg + C(vk, Treatment('G/G')) + C(cyp, Treatment('*1/*1'))"
                     " + C(race, Treatment('White')) + enzyme_inducer + amiodarone", d, return_type="dataframe")
    beta = np.linalg.lstsq(x.to_numpy(), y.to_numpy().ravel(), rcond=None)[0]
    ref = dict(zip(x.columns, beta))
    model = dict(zip(COEFFICIENTS, fit_pooled(frame, dose).coefficients))
    # no Asian patient and no race recorded as unknown at these sites: the model's two terms for them are not
    # identified (minimum-norm: 0); every term patsy's design identifies must agree
    assert abs(model["race_Asian"]) < 1e-9 and abs(model["race_missing or mixed"]) < 1e-9
    names = {"Intercept": "intercept", "C(race, Treatment('White'))[T.Black or African American]":
             "race_Black or African American"}
    for col, value in ref.items():
        key = names.get(col, col.replace("C(vk, Treatment('G/G'))[T.", "vkorc1_")
                        .replace("C(cyp, Treatment('*1/*1'))[T.", "cyp2c9_").rstrip("]"))
        assert model[key] == pytest.approx(value, abs=1e-6), key


def test_a_site_missing_a_category_gets_a_finite_fit(data):
    """Site 11 has only Black patients: the race terms are not identifiable there; predictions stay finite."""
    cohort, part = data
    rows = part.train_rows("11")
    frame, dose = cohort.frame[rows], cohort.frame.loc[rows, "dose_mg_per_week"]
    model = solve(site_statistics(frame, dose))
    assert model.rank < len(COEFFICIENTS)
    pred = model.predict(cohort.frame[part.test_rows("11")])
    assert np.all(np.isfinite(pred)) and np.all(pred > 0)


def test_no_recorded_height_anywhere_is_refused_clearly(data):
    cohort, _ = data
    frame = cohort.frame.head(50).copy()
    frame["height_cm"] = np.nan
    with pytest.raises(ValueError, match=MSG_NO_VALUES.format(field="height cm")):
        solve(site_statistics(frame, frame["dose_mg_per_week"]))


def test_statistics_of_the_wrong_shape_are_refused():
    from core.federated._linear import AUGMENTED

    p = len(AUGMENTED)
    with pytest.raises(ValueError, match=f"must be a {p}x{p} cross-product and a {p}-vector. Got \\(3, 3\\)"):
        SufficientStatistics(np.zeros((3, 3)), np.zeros(3), 5)


def test_the_command_line_and_the_package_do_not_import_flower():
    """`equipoise --help` stays fast: Flower, Ray and XGBoost load only when a federated run starts."""
    import subprocess
    import sys

    code = ("import sys, core.cli, core.service, core.federated; core.cli.build_parser(); "
            "print(sorted(m for m in ('flwr', 'ray', 'xgboost') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""The IWPC pharmacogenetic formula against doses computed by hand from the published coefficients."""

import math

import pandas as pd
import pytest

from core.evaluation.baselines import iwpc_dose, iwpc_doses

# Each expected value was computed by hand, term by term, e.g. case 1:
# 5.6044 − 0.2614·6 + 0.0087·170 + 0.0128·80 − 0.8677 (VKORC1 A/G) = 5.6713; 5.6713² = 32.16364369
CASES = [
    (dict(age_decade=6, height_cm=170, weight_kg=80, vkorc1_1639="A/G", cyp2c9="*1/*1", race="White",
          enzyme_inducer=0, amiodarone=0), 32.16364369),
    # 5.6044 − 1.8298 + 1.392 + 0.768 − 1.6974 − 0.9357 − 0.1092 − 0.5503 = 2.642
    (dict(age_decade=7, height_cm=160, weight_kg=60, vkorc1_1639="A/A", cyp2c9="*1/*3", race="Asian",
          enzyme_inducer=0, amiodarone=1), 6.980164),
    # unknown genotypes, Black, enzyme inducer: 5.6044 − 1.307 + 1.566 + 1.28 − 0.4854 − 0.2188 − 0.276 + 1.1816 = 7.3448
    (dict(age_decade=5, height_cm=180, weight_kg=100, vkorc1_1639=None, cyp2c9=None,
          race="Black or African American", enzyme_inducer=1, amiodarone=0), 53.94608704),
    # 'other' CYP2C9 alleles and race 'Unknown' use the formula's unknown / mixed terms:
    # 5.6044 − 1.0456 + 1.305 + 0.896 + 0 (G/G) − 0.2188 − 0.1032 = 6.4378
    (dict(age_decade=4, height_cm=150, weight_kg=70, vkorc1_1639="G/G", cyp2c9="other", race="Unknown",
          enzyme_inducer=0, amiodarone=0), 41.44526884),
]


@pytest.mark.parametrize("inputs, expected", CASES)
def test_formula_matches_hand_computation(inputs, expected):
    assert iwpc_dose(**inputs) == pytest.approx(expected, abs=1e-6)


def test_vectorised_form_agrees_and_missing_height_gives_nan_unless_imputed():
    frame = pd.DataFrame([c[0] for c in CASES])
    assert iwpc_doses(frame) == pytest.approx([c[1] for c in CASES], abs=1e-6)
    frame.loc[0, "height_cm"] = None
    assert math.isnan(iwpc_doses(frame)[0])
    assert iwpc_doses(frame, impute={"height_cm": 170.0})[0] == pytest.approx(CASES[0][1], abs=1e-6)

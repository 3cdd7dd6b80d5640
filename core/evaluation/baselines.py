"""The published IWPC pharmacogenetic warfarin dosing formula (baseline, no fitting).

International Warfarin Pharmacogenetics Consortium, N Engl J Med 2009;360:753–764, supplementary
appendix, "pharmacogenetic dosing algorithm":

    sqrt(weekly dose, mg) = 5.6044 − 0.2614·age(decades) + 0.0087·height(cm) + 0.0128·weight(kg)
        − 0.8677·VKORC1 A/G − 1.6974·VKORC1 A/A − 0.4854·VKORC1 unknown
        − 0.5211·CYP2C9 *1/*2 − 0.9357·*1/*3 − 1.0616·*2/*2 − 1.9206·*2/*3 − 2.3312·*3/*3
        − 0.2188·CYP2C9 unknown − 0.1092·Asian − 0.2760·Black or African American
        − 0.1032·missing or mixed race + 1.1816·enzyme inducer − 0.5503·amiodarone
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FIXED_DOSE_MG_PER_WEEK = 35.0
# the formula's inputs: the columns iwpc_doses reads from a warfarin feature frame
IWPC_COLUMNS = ("age_decade", "height_cm", "weight_kg", "vkorc1_1639", "cyp2c9", "race", "enzyme_inducer",
                "amiodarone")

INTERCEPT = 5.6044
AGE_DECADES = -0.2614
HEIGHT_CM = 0.0087
WEIGHT_KG = 0.0128
VKORC1 = {"G/G": 0.0, "A/G": -0.8677, "A/A": -1.6974, None: -0.4854}
CYP2C9 = {"*1/*1": 0.0, "*1/*2": -0.5211, "*1/*3": -0.9357, "*2/*2": -1.0616, "*2/*3": -1.9206,
          "*3/*3": -2.3312, None: -0.2188}
RACE = {"White": 0.0, "Asian": -0.1092, "Black or African American": -0.2760, None: -0.1032}
ENZYME_INDUCER = 1.1816
AMIODARONE = -0.5503


def iwpc_dose(*, age_decade, height_cm, weight_kg, vkorc1_1639=None, cyp2c9=None, race=None,
              enzyme_inducer=0, amiodarone=0) -> float:
    """Weekly dose in mg/week; NaN if height or weight is unknown (the formula needs both).

    Genotypes not in the formula (e.g. CYP2C9 'other', a missing value) use its 'unknown' term;
    a race other than White, Asian or Black uses the 'missing or mixed' term.
    """
    if _missing(height_cm) or _missing(weight_kg) or _missing(age_decade):
        return math.nan
    root = (INTERCEPT + AGE_DECADES * age_decade + HEIGHT_CM * height_cm + WEIGHT_KG * weight_kg
            + VKORC1.get(vkorc1_1639 if not _missing(vkorc1_1639) else None, VKORC1[None])
            + CYP2C9.get(cyp2c9 if not _missing(cyp2c9) else None, CYP2C9[None])
            + RACE.get(race if not _missing(race) else None, RACE[None])
            + ENZYME_INDUCER * _flag(enzyme_inducer) + AMIODARONE * _flag(amiodarone))
    return root ** 2


def iwpc_doses(frame: pd.DataFrame, *, impute: dict[str, float] | None = None) -> np.ndarray:
    """The formula for every row of a warfarin feature frame.

    ``impute`` (e.g. training-split medians of height_cm and weight_kg) fills those two where
    missing, so the baseline can be scored on every test patient; without it such rows are NaN.
    """
    frame = frame.copy()
    for col, value in (impute or {}).items():
        frame[col] = frame[col].astype(float).fillna(value)
    cols = ["age_decade", "height_cm", "weight_kg", "vkorc1_1639", "cyp2c9", "race", "enzyme_inducer", "amiodarone"]
    rows = frame[cols].astype(object).where(frame[cols].notna(), None).to_dict("records")
    return np.array([iwpc_dose(**r) for r in rows], dtype=float)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _flag(v) -> float:
    return 0.0 if _missing(v) else float(v)

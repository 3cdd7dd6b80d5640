"""The three bundled cohorts: read a verified file, rename to the spec's feature names, record exclusions."""

from __future__ import annotations

import io
import json
from importlib import resources

import numpy as np
import pandas as pd

from ..._cohort_names import BUNDLED  # noqa: F401  (one list of names, shared with the command line's help)
from ..spec import CohortSpec
from ._sources import unpickle_dataframe


def load_spec(name: str) -> CohortSpec:
    text = resources.files("core.data.cohorts").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return CohortSpec.from_dict(json.loads(text))


def _actg175(data: bytes):
    df = pd.read_csv(io.BytesIO(data), index_col=0)
    arms = np.array(["ZDV", "ZDV+ddI", "ZDV+ddC", "ddI"])
    raw = pd.DataFrame({
        "pidnum": df["pidnum"],
        "age_years": df["age"],
        "sex": df["gender"].map({0: "female", 1: "male"}),
        "race": df["race"].map({0: "white", 1: "non-white"}),
        "weight_kg": df["wtkg"],
        "karnofsky_score": df["karnof"],
        "symptomatic": df["symptom"],
        "cd4_cells_per_ul": df["cd40"],
        "cd8_cells_per_ul": df["cd80"],
        "hemophilia": df["hemo"],
        "homosexual_activity": df["homo"],
        "iv_drug_use": df["drugs"],
        "prior_non_zdv_art": df["oprior"],
        "zdv_last_30_days": df["z30"],
        "prior_art_days": df["preanti"],
        "art_history": df["strat"].map({1: "naive", 2: "1-52 weeks", 3: ">52 weeks"}),
        "arm": arms[df["arms"].to_numpy()],
        "days": df["days"],
        "cens": df["cens"],
    })
    return raw, []


def _colon(data: bytes):
    df = pd.read_csv(io.BytesIO(data))
    raw = pd.DataFrame({
        "row_number": np.arange(1, len(df) + 1),
        "age_years": df["age"],
        "sex": df["sex"].map({0: "female", 1: "male"}),
        "obstruction": df["obstruct"],
        "perforation": df["perfor"],
        "adherence": df["adhere"],
        "positive_nodes": df["nodes"],
        "differentiation": df["differ"].map({1: "well", 2: "moderate", 3: "poor"}),
        "extent": df["extent"].map({1: "submucosa", 2: "muscle", 3: "serosa", 4: "contiguous structures"}),
        "surgery_to_registration": df["surg"].map({0: "short", 1: "long"}),
        "arm": df["rx"],
        "time1": df["time1"],
        "event1": df["event1"],
    })
    return raw, []


_CYP2C9_KNOWN = {"*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3"}


def _warfarin(data: bytes):
    df = unpickle_dataframe(data)  # sha256-verified bytes, allow-listed classes only
    exclusions = []
    stable = df["Subject Reached Stable Dose of Warfarin"] == 1
    dose = pd.to_numeric(df["Therapeutic Dose of Warfarin"], errors="coerce")
    keep = stable & dose.notna() & (dose > 0)
    exclusions.append({"reason": "did not reach a stable dose, or no therapeutic dose recorded", "n": int((~keep).sum())})
    no_demo = keep & (df["Gender"].isna() | df["Age"].isna())
    exclusions.append({"reason": "sex or age not recorded", "n": int(no_demo.sum())})
    df = df[keep & ~no_demo].reset_index(drop=True)

    race = df["Race (OMB)"].astype(str)
    cyp = df["CYP2C9 consensus"]
    cyp = cyp.where(cyp.isna() | cyp.isin(_CYP2C9_KNOWN), "other")
    raw = pd.DataFrame({
        "PharmGKB Subject ID": df["PharmGKB Subject ID"],
        "age_decade": df["Age"].str.strip().str[0].astype(int),
        "sex": df["Gender"].str.strip().str.lower(),
        "race": race,
        "height_cm": df["Height (cm)"],
        "weight_kg": df["Weight (kg)"],
        "cyp2c9": cyp,
        "vkorc1_1639": impute_vkorc1(df, race),
        "amiodarone": df["Amiodarone (Cordarone)"].fillna(0),
        "enzyme_inducer": _any_of(df, ["Carbamazepine (Tegretol)", "Phenytoin (Dilantin)", "Rifampin or Rifampicin"]),
        "aspirin": df["Aspirin"],
        "simvastatin": df["Simvastatin (Zocor)"].map({"0": 0, "1": 1, "NO": 0, "YES": 1, 0: 0, 1: 1}),
        "current_smoker": df["Current Smoker"],
        "diabetes": df["Diabetes"],
        "heart_failure": df["Congestive Heart Failure and/or Cardiomyopathy"],
        "valve_replacement": df["Valve Replacement"],
        "target_inr": df["Target INR"],
        "dose_mg_per_week": df["Therapeutic Dose of Warfarin"],
    })
    return raw, exclusions


def _any_of(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    return (df[columns].fillna(0) == 1).any(axis=1).astype(int)


def impute_vkorc1(df: pd.DataFrame, race: pd.Series) -> pd.Series:
    """VKORC1 -1639 genotype, imputed where missing with the IWPC rules (Klein et al. 2009, supplement)."""
    g = df["VKORC1     -1639 consensus"].copy()
    not_black = ~race.isin(["Black or African American", "Unknown"])
    rules = [
        ("VKORC1 1173 consensus", {"C/C": "G/G", "T/T": "A/A", "C/T": "A/G"}, pd.Series(True, index=df.index)),
        ("VKORC1 2255 consensus", {"C/C": "G/G", "T/T": "A/A", "C/T": "A/G"}, not_black),
        ("VKORC1 1542 consensus", {"G/G": "G/G", "C/C": "A/A", "C/G": "A/G"}, not_black),
    ]
    for column, mapping, allowed in rules:
        fill = df[column].map(mapping)
        g = g.where(g.notna() | ~allowed, fill)
    return g


_READERS = {"actg175": _actg175, "colon": _colon, "warfarin": _warfarin}

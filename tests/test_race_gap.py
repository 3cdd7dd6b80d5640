"""Race-gap mitigations for the dose model: exact group shifts, the weights, the rule, and what the bundle reports."""

from __future__ import annotations

import numpy as np
import pytest

from core.modeling import race_gap as RG

RACES = ("White", "Asian", "Black or African American", "Unknown")


@pytest.mark.parametrize("rows, chosen", [
    # a smaller gap within the 0.10 mg/week accuracy budget wins
    ({RG.AS_FITTED: (8.60, 3.2), RG.SQRT: (8.65, 2.5), RG.INVERSE: (8.80, 1.0), RG.RELATIVE: (9.1, 0.5),
      RG.GROUP_CAL: (8.69, 2.9)}, RG.SQRT),
    # gaps within 0.05 of the smallest: the lower MAE
    ({RG.AS_FITTED: (8.60, 2.53), RG.SQRT: (8.65, 2.50), RG.INVERSE: (8.9, 1.0), RG.RELATIVE: (9.1, 0.5),
      RG.GROUP_CAL: (8.69, 2.9)}, RG.AS_FITTED),
    # nothing better inside the budget: as fitted
    ({RG.AS_FITTED: (8.60, 3.0), RG.SQRT: (8.75, 2.0), RG.INVERSE: (8.8, 1.0), RG.RELATIVE: (9.1, 0.5),
      RG.GROUP_CAL: (8.65, 3.1)}, RG.AS_FITTED),
    # the absolute gap counts: -1.0 is smaller than 2.0
    ({RG.AS_FITTED: (8.60, 2.0), RG.SQRT: (8.62, -1.0), RG.INVERSE: (8.8, 1.0), RG.RELATIVE: (9.1, 0.5),
      RG.GROUP_CAL: (8.65, 3.1)}, RG.SQRT),
])
def test_the_operating_point_rule(rows, chosen):
    table = {n: {"mae": m, "black_white_gap": g} for n, (m, g) in rows.items()}  # cross-validated numbers
    table[RG.BGL] = {"mae": 8.0, "black_white_gap": 0.0}  # never deployable, so never chosen
    assert RG.choose(table, {"mae": 8.5, "black_white_gap": 1.4}) == chosen


def test_weights_are_inverse_group_sizes_or_inverse_doses_with_mean_one():
    race = np.array(["White"] * 60 + ["Asian"] * 30 + ["Black or African American"] * 10)
    y = np.linspace(10, 70, 100)
    inv = RG._weights(RG.INVERSE, y, race)
    assert inv.mean() == pytest.approx(1.0)
    # every group carries the same total weight
    assert inv[:60].sum() == pytest.approx(inv[60:90].sum()) == pytest.approx(inv[90:].sum())
    sq = RG._weights(RG.SQRT, y, race)
    assert sq[99] / sq[0] == pytest.approx(np.sqrt(60 / 10))
    rel = RG._weights(RG.RELATIVE, y, race)
    assert rel[0] / rel[-1] == pytest.approx(70 / 10)


def test_gaps_against_direct_computation():
    rng = np.random.default_rng(0)
    race = rng.choice(RACES[:3], 300)
    err = rng.uniform(0, 20, 300)
    g = RG.gaps(np.zeros(300), err, race)
    assert g["black_white_gap"] == pytest.approx(err[race == RACES[2]].mean() - err[race == "White"].mean())
    assert g["asian_white_gap"] == pytest.approx(err[race == "Asian"].mean() - err[race == "White"].mean())
    assert g["mae"] == pytest.approx(err.mean())


@pytest.fixture(scope="module")
def warfarin_bundle(bundles):
    return bundles("warfarin")


def test_group_shift_moves_each_race_by_its_amount_and_stays_explainable(warfarin_bundle):
    from core.modeling.heldout import held_out_split

    model = warfarin_bundle.model
    frame = held_out_split(warfarin_bundle).frame.head(400)
    shifts = {"White": -0.3, "Asian": 0.5, "Black or African American": -0.9, "Unknown": 1.2}
    shifted = RG.shift_by_group(model, shifts)
    expected = model.predict(frame) + frame["race"].astype(str).map(shifts).fillna(-0.3).to_numpy()
    np.testing.assert_allclose(shifted.predict(frame), expected, atol=1e-9)
    base, contrib = shifted.contributions(frame)
    np.testing.assert_allclose(base + contrib.sum(axis=1), expected, atol=1e-8)


def test_the_bundle_records_the_choice_the_cv_and_the_test_split(warfarin_bundle):
    rg = warfarin_bundle.race_gap
    cv = warfarin_bundle.training.race_gap
    assert rg["chosen"] == cv["chosen"] == RG.choose(cv["candidates"], cv["iwpc_formula"])
    assert set(rg["test"]["candidates"]) == set(rg["cv"]["candidates"]) == {*RG.DEPLOYABLE, RG.BGL}
    assert rg["test"]["n"] == warfarin_bundle.evaluation.n_test
    # the test numbers of the chosen mitigation are those of the bundle's own model in the train table
    row = warfarin_bundle.evaluation.rows[0]
    chosen = rg["test"]["candidates"][rg["chosen"]]
    assert chosen["mae"] == pytest.approx(row["mae"], rel=1e-9)
    assert chosen["black_white_gap"] == pytest.approx(row["black_white_mae_gap"], rel=1e-9)
    formula = warfarin_bundle.evaluation.rows[1]
    assert rg["test"]["iwpc_formula"]["black_white_gap"] == pytest.approx(formula["black_white_mae_gap"], rel=1e-9)


def test_the_train_table_gaps_match_a_direct_computation(warfarin_bundle):
    from core.modeling.heldout import held_out_split

    split = held_out_split(warfarin_bundle)
    test = split.frame
    y = test["dose_mg_per_week"].to_numpy()
    err = np.abs(warfarin_bundle.model.predict(test) - y)
    race = test["race"].astype(str).to_numpy()
    row = warfarin_bundle.evaluation.rows[0]
    assert row["black_white_mae_gap"] == pytest.approx(err[race == RACES[2]].mean() - err[race == "White"].mean())
    assert row["asian_white_mae_gap"] == pytest.approx(err[race == "Asian"].mean() - err[race == "White"].mean())
    assert any(n.startswith("Race-gap goal") for n in warfarin_bundle.evaluation.notes)


def test_the_card_shows_the_trade_off_and_says_whether_the_goal_was_met(warfarin_bundle):
    from core.reporting import figures, model_card

    card = model_card(warfarin_bundle)
    (lim,) = card.limitations_of("race_gap")
    test = card.race_gap["test"]
    m, f = test["candidates"][card.race_gap["chosen"]], test["iwpc_formula"]
    met = abs(m["black_white_gap"]) < abs(f["black_white_gap"]) and m["mae"] < f["mae"]
    assert (" is met on this split" in lim.message) == met
    fig = figures.race_gap_figure(card.race_gap)
    bw = next(t for t in fig.data if t.name.startswith("Black"))
    assert len(bw.x) == len(test["candidates"]) + 1 and list(bw.y)[-1] == pytest.approx(f["black_white_gap"])


def test_fairlearn_bounded_group_loss_is_scored_by_its_expected_error():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3))
    race = rng.choice(RACES[:3], 400)
    y = 30 + 5 * x[:, 0] + 8 * (race == RACES[2]) + rng.normal(0, 3, 400)
    eg = RG._bgl_fit(x, y, race, bound=3.0)
    err = RG._bgl_errors(eg, x, y)
    weights = eg.weights_[eg.weights_ > 0]
    direct = sum(w * np.abs(eg.predictors_[t].predict(x) - y) for t, w in weights.items())
    np.testing.assert_allclose(err, direct)
    assert weights.sum() == pytest.approx(1.0)

"""The model card's "How it does at a site it never saw": stored in the bundle (under its manifest), shown, drawn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.evaluation.sites import SiteValidation, pooled_scores, score_site
from core.modeling.bundle import load_bundle
from core.reporting import figures, model_card
from tests._bundle_helpers import reseal


def _validation() -> SiteValidation:
    rng = np.random.default_rng(0)
    sites, parts = [], []
    for name, n, noise in (("1", 120, 5.0), ("2", 80, 9.0), ("3", 60, 7.0)):
        y = rng.uniform(15, 70, n)
        pred = y + rng.normal(0, noise, n)
        low, high = pred - 10, pred + 10
        formula = y + rng.normal(0, 6, n)
        sites.append(score_site(name, y, pred, low, high, formula, n_train=1000))
        parts.append((y, pred, low, high, formula))
    joined = [np.concatenate(c) for c in zip(*parts)]
    return SiteValidation("warfarin", tuple(sites), pooled_scores(*joined), nominal_coverage=0.9,
                          notes=("protocol", "formula derived on these patients"))


@pytest.fixture(scope="module")
def sited_bundle(bundle_dirs, tmp_path_factory):
    doc = _validation().to_dict()
    out = tmp_path_factory.mktemp("sited") / "warfarin"
    path = reseal(bundle_dirs("warfarin"), out, change={"site_validation.json": json.dumps(doc)})
    return load_bundle(path), doc


def test_the_card_shows_every_site_and_the_limitation_names_the_worst(sited_bundle):
    bundle, doc = sited_bundle
    card = model_card(bundle)
    assert card.site_validation == doc
    assert [s["site"] for s in card.to_dict()["site_validation"]["sites"]] == ["1", "2", "3"]
    (lim,) = card.limitations_of("unseen_sites")
    worst = max(doc["sites"], key=lambda s: s["mae"])
    assert f"worst was site {worst['site']} (n={worst['n']}" in lim.message
    assert "derived on these patients" in lim.message
    assert "over 3 of the 22 sites" in lim.message  # the test's validation scored 3 sites of the data's 22


def test_site_validation_is_covered_by_the_manifest(sited_bundle, tmp_path):
    from core.modeling.manifest import BundleRefusedError
    import shutil

    bundle, _ = sited_bundle
    copy = tmp_path / "w"
    shutil.copytree(bundle.path, copy)
    target = copy / "site_validation.json"
    target.write_text(target.read_text().replace('"site": "2"', '"site": "7"'))
    with pytest.raises(BundleRefusedError, match="site_validation.json"):
        load_bundle(copy)


def test_a_bundle_without_it_says_it_was_not_checked(bundles):
    card = model_card(bundles("warfarin"))
    assert card.site_validation is None
    (lim,) = card.limitations_of("unseen_sites")
    # the data's own count of sites (22 in the IWPC file, independently of the limitation's code), and no command
    from core.data.cohorts import project_sites
    from core.modeling.heldout import held_out_split

    n_sites = len(set(project_sites(held_out_split(bundles("warfarin")).cohort)))
    assert n_sites == 22
    assert f"the same {n_sites} project sites" in lim.message
    assert "--by-site" not in lim.message and "equipoise" not in lim.message


def test_the_figure_draws_one_model_point_and_one_formula_point_per_site():
    doc = _validation().to_dict()
    fig = figures.site_figure(doc)
    model = next(t for t in fig.data if t.name == "Model, site held out")
    formula = next(t for t in fig.data if t.name.startswith("IWPC formula"))
    by_mae = sorted(doc["sites"], key=lambda s: -s["mae"])
    assert list(model.x) == pytest.approx([s["mae"] for s in by_mae])
    assert list(formula.x) == pytest.approx([s["iwpc_formula_mae"] for s in by_mae])
    assert "never saw" in fig.layout.title.text

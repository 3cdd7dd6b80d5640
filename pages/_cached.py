"""Read-only results derived from a bundle. Never cached here: the service computes each once per bundle
(below its logging, core._memo) and records every view, so a second user's view is logged too."""

from core import ModelBundle, service


def card_for(bundle: ModelBundle) -> dict:
    return service.model_card(bundle).to_dict()


def calibration_by(bundle: ModelBundle, attribute: str) -> list[dict]:
    """Test-split calibration curves per group of ``attribute`` (groups too small for a curve left out)."""
    return [c for c in service.calibration_curve(bundle, by=attribute) if c["n"]]


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()

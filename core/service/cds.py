"""What the CDS Hooks service shows an EHR: each card and each feedback is handed to the observers (the audit log)
before it leaves. The ASGI app itself is made by :mod:`core.service.serve`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._observers import CDS_CARD, CDS_FEEDBACK, _shown
from ..modeling.bundle import ModelBundle


def cds_card(bundle: ModelBundle, card: dict, *, hook_instance: str | None = None,
             claims: Mapping[str, Any] | None = None) -> dict:
    """A CDS Hooks card about to be returned to an EHR (observers record it first, with its hookInstance and
    what the request claimed, e.g. ``claimed_user``, beside the verified user)."""
    return _shown(CDS_CARD, bundle, card, details={"hook_instance": hook_instance, "card": card.get("uuid"),
                                                  **(claims or {})})


def cds_feedback(bundle: ModelBundle, feedback: dict, *, claims: Mapping[str, Any] | None = None) -> dict:
    """CDS Hooks feedback (accepted / overridden with a reason) for a card; observers record it."""
    return _shown(CDS_FEEDBACK, bundle, feedback, details={"card": feedback.get("card"),
                                                          "outcome": feedback.get("outcome"), **(claims or {})})

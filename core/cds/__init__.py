"""CDS Hooks 2.0 service: discovery, patient-view cards with the evidence-calibrated summary, feedback."""

from .cards import card_for_refusal, card_for_report, decode_record, deep_link, encode_record

__all__ = ["card_for_refusal", "card_for_report", "decode_record", "deep_link", "encode_record"]

"""CDS Hooks 2.0 service: discovery, patient-view cards with the evidence-calibrated summary, feedback; the
CDS Clients it trusts (bearer JWTs verified against each issuer's keys) and the bounds on what a request stores."""

from ._config import AuthConfig, AuthConfigError, Issuer, auth_config_from_dict, load_auth_config
from ._text import MAX_BODY_BYTES, MAX_ID_CHARS, visible
from ._tokens import AuthenticationError, Principal, ReplayCache, TokenVerifier
from .cards import card_for_refusal, card_for_report, decode_record, deep_link, encode_record

__all__ = ["AuthConfig", "AuthConfigError", "AuthenticationError", "Issuer", "MAX_BODY_BYTES", "MAX_ID_CHARS",
           "Principal", "ReplayCache", "TokenVerifier", "auth_config_from_dict", "card_for_refusal", "card_for_report",
           "decode_record", "deep_link", "encode_record", "load_auth_config", "visible"]

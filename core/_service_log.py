"""Service functions for the audit log's anchors (re-exported by :mod:`core.service`): rotating the MAC key
held outside the database."""

from __future__ import annotations


def rotate_log_key():
    """Put a new MAC key first in the audit log's key file (the older ones stay, to verify what they signed);
    returns the :class:`~core.audit.anchors.KeyRing`."""
    from .audit.anchors import rotate_key
    from .store import data_dir

    return rotate_key(data_dir())

"""Local mode is for one person on their own machine: every visitor holds every role, with no sign-in. So the
dashboard in local mode serves only on a loopback address (127.0.0.0/8, ::1, localhost). Listening on any
other address — ``--server.address 0.0.0.0``, a LAN address, or no address at all (Streamlit then listens on
every interface) — would open every page, the audit log included, to whoever can reach the machine; it is
refused unless ``EQUIPOISE_ALLOW_LOCAL_MODE_ON_NETWORK=1`` says, on purpose, that the network is trusted
(a container whose port is published only to the host's loopback, for example)."""

from __future__ import annotations

import ipaddress
import os

__all__ = ["LOCAL_ON_NETWORK_ENV", "is_loopback", "local_mode_exposure"]

LOCAL_ON_NETWORK_ENV = "EQUIPOISE_ALLOW_LOCAL_MODE_ON_NETWORK"

EXPOSED = ("Local mode (no sign-in: every visitor holds every role, the audit log included) is listening on "
           "{where}, so anyone who can reach this machine would see every patient and every page. Equipoise "
           "refuses to serve it there. Either bind it to this machine only (`--server.address 127.0.0.1`, as "
           "`make run` and .streamlit/config.toml do), or configure an identity provider (README, \"Sign-in and "
           "roles\"). If the network is trusted on purpose, set " + LOCAL_ON_NETWORK_ENV + "=1 and restart.")


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; False for every other address and for none (all interfaces)."""
    if not address or not address.strip():
        return False
    address = address.strip().strip("[]")
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def local_mode_exposure(address: str | None, environ=None) -> str | None:
    """Why local mode must not serve on ``address`` (the server's ``server.address``), or None when it may."""
    environ = os.environ if environ is None else environ
    if is_loopback(address) or environ.get(LOCAL_ON_NETWORK_ENV, "").strip() == "1":
        return None
    where = f"the address {address.strip()!r}" if address and address.strip() else "every network interface"
    return EXPOSED.format(where=where)

"""Local mode exposed on the network (issue 26, part 7): .streamlit/config.toml binds 127.0.0.1, so a plain
``streamlit run app.py`` listens on the loopback only; and in local mode (no sign-in, every role) a page served
on any other address — or on every interface — shows why and nothing else, unless the documented override
EQUIPOISE_ALLOW_LOCAL_MODE_ON_NETWORK=1 is set."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from core.auth import LOCAL_ON_NETWORK_ENV, local_mode_exposure
from core.auth import exposure as E
from tests._browser import free_port, stop_server, wait_until_up

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("address, where", [
    ("127.0.0.1", None), ("127.0.1.1", None), ("::1", None), ("[::1]", None), ("localhost", None),
    ("0.0.0.0", "the address '0.0.0.0'"), ("::", "the address '::'"), ("192.168.1.20", "the address '192.168.1.20'"),
    ("equipoise.example.org", "the address 'equipoise.example.org'"),
    (None, "every network interface"), ("", "every network interface"),
])
def test_local_mode_serves_on_the_loopback_only(address, where):
    expected = None if where is None else E.EXPOSED.format(where=where)
    assert local_mode_exposure(address, {}) == expected
    assert local_mode_exposure(address, {LOCAL_ON_NETWORK_ENV: "1"}) is None  # the explicit override
    assert local_mode_exposure(address, {LOCAL_ON_NETWORK_ENV: "yes"}) == expected  # only "1" counts


def test_the_config_binds_the_loopback():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            host, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(host)
    return found


def test_a_plain_streamlit_run_listens_on_the_loopback_only(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until_up(proc, lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                      .read() == b"ok", what="streamlit's health endpoint")
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and no wildcard 0.0.0.0 or ::
    finally:
        stop_server(proc)


@pytest.fixture
def served_on(monkeypatch):
    """Run AppTest as if the server listened on an address (restored afterwards)."""
    before = st_config.get_option("server.address")

    def set_address(address):
        st_config.set_option("server.address", address)

    yield set_address
    st_config.set_option("server.address", before)


@pytest.mark.parametrize("address", ["0.0.0.0", None])
def test_a_page_in_local_mode_on_the_network_says_why_and_shows_nothing(served_on, monkeypatch, address):
    monkeypatch.delenv(LOCAL_ON_NETWORK_ENV, raising=False)
    served_on(address)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [local_mode_exposure(address, {})]
    assert not at.title and not at.sidebar.selectbox and not at.dataframe  # no page, no patient


def test_the_override_lets_local_mode_serve_on_the_network(served_on, monkeypatch, bundle_dirs):
    monkeypatch.setenv("EQUIPOISE_BUNDLE_DIR", str(bundle_dirs("actg175").parent))
    monkeypatch.setenv(LOCAL_ON_NETWORK_ENV, "1")
    served_on("0.0.0.0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Patient" and not at.error

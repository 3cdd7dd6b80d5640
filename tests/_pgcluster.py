"""A PostgreSQL server for the store tests: ``EQUIPOISE_TEST_DATABASE_URL`` if set, else a throwaway
cluster started here from Debian's binaries (as the ``postgres`` user when running as root), else None
with the reason. One per test process; stopped at exit. Each test gets its own fresh database."""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

ENV = "EQUIPOISE_TEST_DATABASE_URL"
_STATE: dict = {}


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *cmd] if owner else cmd


def _start() -> tuple[str | None, str]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        return None, f"{ENV} is not set and PostgreSQL's initdb is not installed (apt-get install postgresql)"
    owner = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, f"{ENV} is not set and, running as root, there is no 'postgres' user to run a cluster"
        if not shutil.which("runuser"):
            return None, f"{ENV} is not set and, running as root, runuser is missing"
        owner = "postgres"
    root = tempfile.mkdtemp(prefix="equipoise-pg-")
    os.chmod(root, 0o755)
    data = os.path.join(root, "data")
    os.mkdir(data, 0o700)
    if owner:
        shutil.chown(data, owner, owner)
    port = _free_port()
    try:
        subprocess.run(_as_owner([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
                                 owner), check=True, capture_output=True, text=True, timeout=120)
        subprocess.run(_as_owner([pg_ctl, "-D", data, "-w", "-t", "60", "-l", os.path.join(data, "server.log"), "-o",
                                  f"-c listen_addresses=127.0.0.1 -p {port} -k {data}", "start"], owner),
                       check=True, capture_output=True, text=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(root, ignore_errors=True)
        return None, f"{ENV} is not set and a throwaway cluster could not start: {getattr(exc, 'stderr', exc)}"

    def stop():
        subprocess.run(_as_owner([pg_ctl, "-D", data, "-m", "immediate", "stop"], owner), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", "started here"


def server_url() -> tuple[str | None, str]:
    """(admin URL, how it was found) or (None, why PostgreSQL tests are skipped)."""
    if "url" not in _STATE:
        if os.environ.get(ENV):
            _STATE["url"], _STATE["why"] = os.environ[ENV], f"from {ENV}"
        else:
            _STATE["url"], _STATE["why"] = _start()
    return _STATE["url"], _STATE["why"]


def fresh_database(admin_url: str) -> tuple[str, callable]:
    """A new empty database on the server: (its URL, a function that drops it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"eq_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop

"""Default socket discovery (/run/chrony/chronyd.sock, then /var/run/chrony/chronyd.sock) against
real chronyd daemons at those very paths, through `get_tracking()` and `ChronyConnection()`
without an address, each scenario in a fresh interpreter.

The paths are the system's, so these run only in the private mount namespace that
`cargo xtask test-socket-discovery` (CI's `discovery` stage) prepares (tmpfs over /run, /var and
/tmp); elsewhere conftest deselects them. chrony-core/tests/discovery.rs checks the same five
scenarios through the Rust API.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Daemon, run_as_nobody, start_daemon

pytestmark = pytest.mark.discovery

RUN_SOCK = "/run/chrony/chronyd.sock"
VAR_SOCK = "/var/run/chrony/chronyd.sock"
# The two daemons report different references, so a report shows which socket was used.
RUN_REF = ("7F000001", 2)  # synced to the fixture's NTP server on 127.0.0.1
VAR_REF = ("7F7F0101", 9)  # local stratum 9

CLIENT = """
import json
from pychrony import ChronyConnection, ChronyError, get_tracking
try:
    s = get_tracking()
    with ChronyConnection() as c:
        c.get_tracking()
        address = c.address
    print(json.dumps({"refid": f"{s.reference_id:08X}", "stratum": s.stratum, "address": address}))
except ChronyError as e:
    print(json.dumps({"class": type(e).__name__, "code": e.error_code, "message": e.message}))
"""


def client(prefix: list[str] | None = None) -> dict[str, object]:
    """What the client printed: the report (and the connection's address), or the error."""
    if prefix is None:
        proc = subprocess.run(
            [sys.executable, "-c", CLIENT], capture_output=True, text=True, timeout=60, cwd="/"
        )
    else:
        proc = run_as_nobody(prefix, CLIENT)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def daemon_at(socket: str, mode: str) -> Daemon:
    daemon = start_daemon("start", "--mode", mode, directory=Path(socket).parent)
    assert daemon.socket == socket
    return daemon


@pytest.fixture
def run_daemon() -> Iterator[Daemon]:
    daemon = daemon_at(RUN_SOCK, "synced")
    yield daemon
    daemon.stop()
    assert not Path(RUN_SOCK).exists()


@pytest.fixture
def var_daemon() -> Iterator[Daemon]:
    daemon = daemon_at(VAR_SOCK, "local:9")
    yield daemon
    daemon.stop()
    assert not Path(VAR_SOCK).exists()


def assert_used(socket: str, ref: tuple[str, int]) -> None:
    got = client()
    assert (got.get("refid"), got.get("stratum")) == ref, got
    assert got["address"] == socket, got


def test_only_run(run_daemon: Daemon) -> None:
    assert_used(RUN_SOCK, RUN_REF)


def test_only_var_run(var_daemon: Daemon) -> None:
    Path("/run/chrony").mkdir(mode=0o750, exist_ok=True)  # there, without a socket
    assert_used(VAR_SOCK, VAR_REF)


def test_both_run_wins(var_daemon: Daemon, run_daemon: Daemon) -> None:
    assert_used(RUN_SOCK, RUN_REF)


def test_neither_names_both_paths() -> None:
    for directory in ("/run/chrony", "/var/run/chrony"):
        Path(directory).mkdir(mode=0o750, parents=True, exist_ok=True)
    got = client()
    assert (got.get("class"), got.get("code")) == ("ChronyConnectionError", -2), got
    assert RUN_SOCK in str(got["message"]) and VAR_SOCK in str(got["message"]), got


def test_nobody_gets_a_permission_error_not_a_fall_through(
    run_daemon: Daemon, as_nobody: list[str]
) -> None:
    # /var/run/chrony searchable and empty: falling through to it would give -2, not -3.
    Path("/var/run/chrony").mkdir(parents=True, exist_ok=True)
    Path("/var/run/chrony").chmod(0o755)
    got = client(as_nobody)
    assert (got.get("class"), got.get("code")) == ("ChronyPermissionError", -3), got
    assert RUN_SOCK in str(got["message"]), got

"""pychrony-py/examples/tracking.py (the program `cargo xtask demo` runs) against a real chronyd,
over the unix socket and the UDP command port, and its exit status when chronyd is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Daemon

EXAMPLE = REPO_ROOT / "pychrony-py" / "examples" / "tracking.py"


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    # From /, so only the installed package can be imported.
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=60, cwd="/"
    )


@pytest.mark.parametrize("transport", ["unix", "udp"])
def test_prints_the_report(synced: Daemon, transport: str) -> None:
    address = synced.socket if transport == "unix" else synced.udp_v4
    proc = run_example(address)
    assert proc.returncode == 0, proc.stderr
    assert f"({address!r})" in proc.stdout.splitlines()[0], proc.stdout
    assert "reference_id      0x7F000001 ('127.0.0.1', ip '127.0.0.1')" in proc.stdout
    assert "stratum           2\n" in proc.stdout
    assert "is_synchronized() True" in proc.stdout


def test_a_missing_socket_exits_2_with_the_error(tmp_path: Path) -> None:
    proc = run_example(str(tmp_path / "chronyd.sock"))
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout.startswith("Error: no chronyd socket at "), proc.stdout

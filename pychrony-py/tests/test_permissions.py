"""A non-root user: chronyd's unix socket refuses it with code -3, the UDP port serves it.

The client runs as `nobody` (setpriv) with the system interpreter and a world-readable copy of
the installed package (a venv under a private directory is not usable by `nobody`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon


@pytest.fixture(scope="module")
def as_nobody() -> Iterator[list[str]]:
    """The command prefix that runs this Python as `nobody`, with pychrony importable."""
    if os.geteuid() != 0:
        pytest.fail("this test drops privileges to `nobody` and must run as root")
    interpreter = shutil.which(
        f"python{sys.version_info[0]}.{sys.version_info[1]}", path="/usr/bin:/usr/local/bin"
    )
    if interpreter is None:
        pytest.fail("needs a system python3 that `nobody` can run (e.g. /usr/bin/python3)")
    directory = Path(tempfile.mkdtemp(prefix="chrpy.", dir="/tmp"))
    directory.chmod(0o755)
    shutil.copytree(Path(pychrony.__file__).parent, directory / "pychrony")
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "env",
        f"PYTHONPATH={directory}",
        interpreter,
        "-B",
        "-c",
    ]
    shutil.rmtree(directory, ignore_errors=True)


def run(prefix: list[str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, textwrap.dedent(code)], capture_output=True, text=True, timeout=60, cwd="/"
    )


def test_unix_socket_as_nobody_is_a_permission_error(as_nobody: list[str], synced: Daemon) -> None:
    proc = run(
        as_nobody,
        f"""
        import os
        from pychrony import get_tracking, ChronyPermissionError
        assert os.geteuid() != 0
        try:
            get_tracking({synced.socket!r}, timeout=2.0)
        except ChronyPermissionError as e:
            print(e.error_code, type(e.__cause__).__name__)
            print(e.message)
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code, message = proc.stdout.split("\n", 1)
    assert code == "-3 PermissionError"
    assert "127.0.0.1:323" in message  # it says what to do instead


def test_udp_port_serves_nobody(as_nobody: list[str], synced: Daemon) -> None:
    proc = run(
        as_nobody,
        f"""
        from pychrony import ChronyConnection
        with ChronyConnection({synced.udp_v4!r}) as conn:
            print(conn.get_tracking().stratum)
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "2"

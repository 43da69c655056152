"""A non-root user: chronyd's unix socket refuses it with code -3, the UDP port serves it.

The client runs as `nobody` (setpriv) with the system interpreter and a world-readable copy of
the installed package (a venv under a private directory is not usable by `nobody`).
"""

from __future__ import annotations

from conftest import Daemon, run_as_nobody


def test_unix_socket_as_nobody_is_a_permission_error(as_nobody: list[str], synced: Daemon) -> None:
    proc = run_as_nobody(
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
    proc = run_as_nobody(
        as_nobody,
        f"""
        from pychrony import ChronyConnection
        with ChronyConnection({synced.udp_v4!r}) as conn:
            print(conn.get_tracking().stratum)
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "2"

"""ChronyConnection against a real chronyd: lifecycle, reuse, properties."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Daemon
from pychrony import ChronyConnection, ChronyConnectionError, TrackingStatus


def client_dirs(daemon: Daemon) -> list[str]:
    return [
        n
        for n in os.listdir(os.path.dirname(daemon.socket))
        if n != "chronyd.sock" and not n.endswith((".pid", ".conf", ".log", ".drift"))
    ]


def test_context_manager_reuses_one_connection(synced: Daemon) -> None:
    before = client_dirs(synced)
    with ChronyConnection(synced.socket) as conn:
        assert not conn.closed
        assert conn.transport == "unix"
        assert conn.address == synced.socket
        during = client_dirs(synced)
        statuses = [conn.get_tracking() for _ in range(50)]
        assert client_dirs(synced) == during, "a new client socket per call"
    assert conn.closed
    assert all(isinstance(s, TrackingStatus) and s.stratum == 2 for s in statuses)
    assert client_dirs(synced) == before, "close() left files behind"


def test_without_with_opens_on_first_use_and_close_is_idempotent(synced: Daemon) -> None:
    conn = ChronyConnection(Path(synced.socket), timeout=2.0)
    assert conn.closed and conn.transport is None
    assert conn.get_tracking().is_synchronized()
    assert not conn.closed
    assert conn.transport == "unix"
    conn.close()
    conn.close()
    assert conn.closed
    # A later call opens a new socket.
    assert conn.get_tracking().stratum == 2
    conn.close()


def test_udp_addresses(synced: Daemon) -> None:
    for address in [synced.udp_v4, synced.udp_v6]:
        with ChronyConnection(address) as conn:
            assert conn.transport == "udp"
            assert conn.get_tracking().stratum == 2
            assert conn.address is not None


def test_default_address_is_unix_discovery() -> None:
    with pytest.raises(ChronyConnectionError) as info:
        ChronyConnection(timeout=0.5).get_tracking()
    assert info.value.error_code == -2


def test_open_failure_leaves_it_closed(tmp_path: Path) -> None:
    conn = ChronyConnection(str(tmp_path / "missing.sock"))
    with pytest.raises(ChronyConnectionError):
        with conn:
            pass
    assert conn.closed


def test_repr(synced: Daemon) -> None:
    conn = ChronyConnection(synced.socket)
    assert "closed" in repr(conn)
    with conn:
        assert "open, unix" in repr(conn)


def test_results_pickle(synced: Daemon) -> None:
    with ChronyConnection(synced.socket) as conn:
        status = conn.get_tracking()
    assert pickle.loads(pickle.dumps(status)) == status


QUERIES = 320


def system_calls(code: str, tmp_path: Path) -> dict[str, int]:
    """How often each system call ran in `python -c code` (strace -c, every thread)."""
    out = tmp_path / "strace-c"
    subprocess.run(
        ["strace", "-f", "-qq", "-c", "-o", str(out), sys.executable, "-c", code],
        check=True,
        timeout=120,
    )
    calls: dict[str, int] = {}
    for line in out.read_text().splitlines():
        words = line.split()
        # "% time  seconds  usecs/call  calls  [errors]  syscall", then a total line.
        if len(words) >= 5 and words[3].isdigit() and words[-1] != "total":
            calls[words[-1]] = int(words[3])
    return calls


def test_a_reused_connection_asks_with_send_poll_recv_only(synced: Daemon, tmp_path: Path) -> None:
    """No getpid per query (a fork is noticed by pthread_atfork's count instead) and no
    getrandom per query (sequences are drawn 16 at a time): what is left is the exchange."""
    code = (
        f"import pychrony\nc = pychrony.ChronyConnection({synced.socket!r})\nc.get_tracking()\n"
        f"for _ in range({QUERIES}):\n    c.get_tracking()\n"
    )
    calls = system_calls(code, tmp_path)
    assert calls.get("sendto", 0) >= QUERIES, calls
    # The interpreter's own start and the first query make a few of each.
    assert calls.get("getpid", 0) < QUERIES // 10, calls
    assert calls.get("getrandom", 0) < QUERIES // 10, calls

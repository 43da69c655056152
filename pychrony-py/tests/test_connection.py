"""ChronyConnection against a real chronyd: lifecycle, reuse, properties."""

from __future__ import annotations

import os
import pickle
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

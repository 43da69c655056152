"""chrony-core's fault matrix, seen from Python: the right class and code for each failure."""

from __future__ import annotations

import errno
import os
import socket
import time
from pathlib import Path

import pytest
from conftest import Daemon, kill_9
from pychrony import ChronyConnection, ChronyConnectionError, ChronyError, get_tracking


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def expect(code: int, call: object) -> ChronyError:
    with pytest.raises(ChronyConnectionError) as info:
        call()  # type: ignore[operator]
    err = info.value
    assert err.error_code == code, str(err)
    assert str(err) == f"{err.message} (error code: {code})"
    assert err.message
    return err


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    missing = str(tmp_path / "chronyd.sock")
    err = expect(-2, lambda: get_tracking(missing, timeout=1.0))
    assert missing in err.message
    # The system error is kept as the cause.
    assert isinstance(err.__cause__, FileNotFoundError)
    assert err.__cause__.errno == errno.ENOENT
    expect(-2, lambda: ChronyConnection(missing, timeout=1.0).get_tracking())


def test_missing_directory_is_not_found() -> None:
    expect(-2, lambda: get_tracking("/nonexistent-dir/chronyd.sock", timeout=1.0))


def test_regular_file_is_refused() -> None:
    # A short directory: the client socket is bound next to the path.
    import tempfile

    with tempfile.TemporaryDirectory(prefix="chr.", dir="/tmp") as directory:
        path = os.path.join(directory, "chronyd.sock")
        Path(path).write_text("not a socket\n")
        err = expect(-1, lambda: get_tracking(path, timeout=1.0))
        assert isinstance(err.__cause__, ConnectionRefusedError)
        assert os.listdir(directory) == ["chronyd.sock"], "client files left behind"


def test_stale_socket_after_kill_9_is_refused(fresh: Daemon) -> None:
    assert get_tracking(fresh.socket).is_synchronized()
    kill_9(fresh)
    assert os.path.exists(fresh.socket), "SIGKILL should leave the socket file"
    expect(-1, lambda: get_tracking(fresh.socket, timeout=1.0))
    expect(-1, lambda: ChronyConnection(fresh.socket, timeout=1.0).get_tracking())


def test_udp_port_with_nothing_listening_is_refused() -> None:
    address = f"127.0.0.1:{free_udp_port()}"
    with ChronyConnection(address, timeout=1.0) as conn:
        assert conn.transport == "udp"
        start = time.monotonic()
        expect(-1, conn.get_tracking)
        assert time.monotonic() - start < 0.9, "refusal should be reported, not waited out"


@pytest.mark.parametrize("timeout", [0.3, 1.0])
def test_frozen_daemon_times_out_on_unix_socket(frozen: Daemon, timeout: float) -> None:
    start = time.monotonic()
    err = expect(-6, lambda: get_tracking(frozen.socket, timeout=timeout))
    elapsed = time.monotonic() - start
    assert timeout <= elapsed < timeout + 0.2, elapsed
    assert err.message
    assert err.__cause__ is None


def test_frozen_daemon_times_out_over_udp(frozen: Daemon) -> None:
    with ChronyConnection(frozen.udp_v4, timeout=0.5) as conn:
        start = time.monotonic()
        expect(-6, conn.get_tracking)
        elapsed = time.monotonic() - start
        assert 0.5 <= elapsed < 0.7, elapsed
        # The connection stays usable after a timeout: it times out again, it does not break.
        expect(-6, conn.get_tracking)


def test_invalid_address_is_a_connection_error() -> None:
    expect(-2, lambda: ChronyConnection("not an address", timeout=0.5).get_tracking())

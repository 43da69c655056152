"""`python smoke.py SOCKET UDP_ADDRESS`: the installed pychrony works (a quick check for a wheel
installed under another interpreter, or built from the sdist; `cargo xtask test-wheels` runs it
away from the source tree, against a fixture chronyd synchronised to 127.0.0.1). Not collected
by pytest: the whole suite runs against the main wheel."""

from __future__ import annotations

import sys

import pychrony
from contract import contract_names
from pychrony import (
    ChronyConnection,
    ChronyConnectionError,
    ChronyError,
    TrackingStatus,
    get_tracking,
)


def main(socket_path: str, udp: str) -> None:
    names = contract_names()
    missing = [n for n in names if n not in pychrony.__all__ or not hasattr(pychrony, n)]
    assert not missing, f"missing contract names: {missing}"
    assert issubclass(ChronyConnectionError, ChronyError)

    try:
        get_tracking("/nonexistent-pychrony-smoke/chronyd.sock", timeout=1.0)
    except ChronyConnectionError as e:
        assert e.error_code == -2, e
        print(f"missing socket -> ChronyConnectionError: {e}")
    else:
        raise AssertionError("no error for a missing socket")

    status = get_tracking(socket_path)
    assert isinstance(status, TrackingStatus)
    assert status.is_synchronized() and status.stratum == 2, status
    assert status.reference_id == 0x7F000001, status
    assert status.reference_id_name == "127.0.0.1", status
    with ChronyConnection(udp, timeout=2.0) as conn:
        again = conn.get_tracking()
    assert again.reference_id == status.reference_id, again
    version = sys.version.split()[0]
    print(f"python {version}: pychrony {pychrony.__version__} from {pychrony.__file__}")
    print(
        f"unix: {status.reference_id_name} stratum {status.stratum} "
        f"offset {status.offset:+.9f} s; udp {udp}: stratum {again.stratum}"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Values read from a real chronyd equal what `chronyc -c tracking` reports."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from conftest import Daemon, parse_chronyc_csv
from pychrony import ChronyConnection, TrackingStatus, get_tracking

LEAP_TEXT = {0: "Normal", 1: "Insert second", 2: "Delete second", 3: "Not synchronised"}


def as_csv(status: TrackingStatus) -> list[str]:
    """The status in `chronyc -c tracking`'s formats (seconds of ref time from the float)."""
    return [
        f"{status.reference_id:08X}",
        status.reference_id_name,
        str(status.stratum),
        f"{status.ref_time:.9f}",
        f"{status.offset:.9f}",
        f"{status.last_offset:.9f}",
        f"{status.rms_offset:.9f}",
        f"{status.frequency:.3f}",
        f"{status.residual_freq:.3f}",
        f"{status.skew:.3f}",
        f"{status.root_delay:.9f}",
        f"{status.root_dispersion:.9f}",
        f"{status.update_interval:.1f}",
        LEAP_TEXT.get(status.leap_status, "Invalid"),
    ]


def check_types(status: TrackingStatus) -> None:
    assert type(status) is TrackingStatus
    for name in ["reference_id", "stratum", "leap_status"]:
        assert type(getattr(status, name)) is int, name
    for name in ["reference_id_name", "reference_ip"]:
        assert type(getattr(status, name)) is str, name
    for name in [
        "offset",
        "last_offset",
        "rms_offset",
        "frequency",
        "residual_freq",
        "skew",
        "root_delay",
        "root_dispersion",
        "update_interval",
        "ref_time",
    ]:
        value = getattr(status, name)
        assert type(value) is float, name
        assert math.isfinite(value), name


def test_unsynced_daemon_matches_chronyc_exactly(unsynced: Daemon) -> None:
    status = get_tracking(unsynced.socket)
    check_types(status)
    expected = parse_chronyc_csv(unsynced.chronyc("-c", "tracking"))
    assert as_csv(status) == expected
    assert status == TrackingStatus(
        reference_id=0,
        reference_id_name="",
        stratum=0,
        leap_status=3,
        offset=0.0,
        last_offset=0.0,
        rms_offset=0.0,
        frequency=0.0,
        residual_freq=0.0,
        skew=0.0,
        root_delay=1.0,
        root_dispersion=1.0,
        update_interval=0.0,
        reference_ip="",
        ref_time=0.0,
    )
    assert not status.is_synchronized()
    assert not status.is_leap_pending()


def test_unsynced_daemon_over_udp(unsynced: Daemon) -> None:
    with ChronyConnection(unsynced.udp_v4) as conn:
        assert conn.transport == "udp"
        status = conn.get_tracking()
    assert as_csv(status) == parse_chronyc_csv(unsynced.chronyc("-c", "tracking", udp=True))


def read_between_two_chronyc_calls(
    daemon: Daemon, read: object
) -> tuple[list[str], TrackingStatus, list[str]]:
    """chronyc, us, chronyc again, until no clock update landed in between (same ref time)."""
    for _ in range(50):
        before = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        status = read()  # type: ignore[operator]
        after = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        if before[3] == after[3] and before[0] == after[0]:
            return before, status, after
    pytest.fail("chronyd updated its clock between every pair of chronyc calls")


@pytest.mark.parametrize("how", ["get_tracking", "pathlike", "connection", "udp_v4", "udp_v6"])
def test_synced_daemon_matches_chronyc(synced: Daemon, how: str) -> None:
    conn: ChronyConnection | None = None
    if how == "get_tracking":
        read = lambda: get_tracking(synced.socket)  # noqa: E731
    elif how == "pathlike":
        read = lambda: get_tracking(Path(synced.socket))  # noqa: E731
    else:
        address = {"connection": synced.socket, "udp_v4": synced.udp_v4, "udp_v6": synced.udp_v6}[
            how
        ]
        conn = ChronyConnection(address)
        read = conn.get_tracking
    try:
        expected, status, after = read_between_two_chronyc_calls(synced, read)
    finally:
        if conn is not None:
            conn.close()
    check_types(status)
    got = as_csv(status)
    # Static between clock updates: exact, in chronyc's formats.
    for index in [0, 1, 2, 5, 6, 7, 8, 9, 10, 12, 13]:
        assert got[index] == expected[index], (index, got, expected)
    assert expected[:3] == ["7F000001", "127.0.0.1", "2"]
    # The reference time: as exact as a float of seconds since 1970 can be (~0.25 µs).
    assert abs(status.ref_time - float(expected[3])) < 1e-6
    # Computed by chronyd per request: close, not equal. Root dispersion grows between clock
    # updates, so ours lies between the two chronyc readings (±1 ns for their rounding).
    assert abs(status.offset - float(expected[4])) < 1e-4
    low, high = sorted([float(expected[11]), float(after[11])])
    assert low - 1e-9 <= status.root_dispersion <= high + 1e-9
    assert status.reference_ip == "127.0.0.1"
    assert status.is_synchronized()
    assert not status.is_leap_pending()
    assert status.leap_status == 0


def test_default_socket_discovery_reports_the_paths_it_tried() -> None:
    if any(os.path.exists(p) for p in ["/run/chrony/chronyd.sock", "/var/run/chrony/chronyd.sock"]):
        pytest.fail("a system chronyd socket exists; this test needs a machine without one")
    from pychrony import ChronyConnectionError

    with pytest.raises(ChronyConnectionError) as info:
        get_tracking(timeout=0.5)
    assert info.value.error_code == -2
    assert "/run/chrony/chronyd.sock" in info.value.message
    assert "/var/run/chrony/chronyd.sock" in info.value.message

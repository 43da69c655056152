"""Other real chronyd states: a reference clock (refid "GPS"), a pending leap second (insert and
delete, under libfaketime), and `local stratum N`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Daemon, parse_chronyc_csv, start_daemon
from pychrony import get_tracking

LEAP_TEXT = {0: "Normal", 1: "Insert second", 2: "Delete second", 3: "Not synchronised"}


@pytest.fixture(
    scope="module", params=["refclock", "refclock-leap:1", "refclock-leap:2", "local:5"]
)
def daemon(request: pytest.FixtureRequest) -> Iterator[Daemon]:
    started = start_daemon("start", "--mode", request.param)
    yield started
    started.stop()


def test_values_equal_chronyc(daemon: Daemon) -> None:
    for _ in range(50):
        before = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        status = get_tracking(daemon.socket)
        after = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        if before[3] == after[3]:
            break
    else:
        pytest.fail("chronyd updated its clock between every pair of chronyc calls")
    assert f"{status.reference_id:08X}" == before[0]
    assert status.reference_id_name == before[1]
    assert str(status.stratum) == before[2]
    assert abs(status.ref_time - float(before[3])) < 1e-6
    assert LEAP_TEXT[status.leap_status] == before[13]
    assert f"{status.root_delay:.9f}" == before[10]
    assert f"{status.skew:.3f}" == before[9]
    assert status.reference_ip == ""  # refclocks and local have no address
    mode = daemon.info["MODE"]
    if mode.startswith("refclock"):
        assert (status.reference_id, status.reference_id_name, status.stratum) == (
            0x47505300,
            "GPS",
            1,
        )
    else:
        assert (status.reference_id, status.reference_id_name, status.stratum) == (
            0x7F7F0101,
            "",
            5,
        )
    expected_leap = int(mode.rpartition(":")[2]) if mode.startswith("refclock-leap") else 0
    assert status.leap_status == expected_leap
    assert status.is_leap_pending() is (expected_leap in (1, 2))
    # The contract's rule (reference_id != 0 and stratum < 16) holds for local mode too.
    assert status.is_synchronized()


def test_cli_matches_chronyc(daemon: Daemon) -> None:
    script = Path(sys.executable).parent / "pychrony"
    proc = subprocess.run(
        [str(script), "tracking", "--socket", daemon.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    theirs = daemon.chronyc("-n", "tracking").splitlines()
    ours = proc.stdout.splitlines()
    for index in [0, 1, 12]:  # Reference ID, Stratum, Leap status
        assert ours[index] == theirs[index]

"""`pychrony tracking` and `python -m pychrony`: output like chronyc, exit codes, errors."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon, parse_chronyc_csv

SCRIPT = Path(sys.executable).parent / "pychrony"

# Lines whose values do not move between two reads of a synchronised chronyd (barring a clock
# update in between, which the test retries around).
STATIC_LINES = [
    "Reference ID",
    "Stratum",
    "Ref time (UTC)",
    "Last offset",
    "RMS offset",
    "Frequency",
    "Residual freq",
    "Skew",
    "Root delay",
    "Update interval",
    "Leap status",
]


def run(*args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pychrony"] if module else [str(SCRIPT)]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)


def lines_by_label(text: str) -> dict[str, str]:
    return {line.split(":", 1)[0].strip(): line for line in text.splitlines()}


def test_console_script_is_installed() -> None:
    assert SCRIPT.exists(), SCRIPT


@pytest.mark.parametrize("module", [False, True])
def test_unsynced_output_equals_chronyc_n_and_exit_1(unsynced: Daemon, module: bool) -> None:
    proc = run("tracking", "--socket", unsynced.socket, module=module)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == unsynced.chronyc("-n", "tracking")


def test_unsynced_over_udp_address(unsynced: Daemon) -> None:
    proc = run("tracking", "--socket", unsynced.udp_v4)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == unsynced.chronyc("-n", "tracking", udp=True)


def test_synced_output_matches_chronyc_n_and_exit_0(synced: Daemon) -> None:
    proc = run("tracking", "--socket", synced.socket)
    theirs = lines_by_label(synced.chronyc("-n", "tracking"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ours = lines_by_label(proc.stdout)
    assert list(ours) == list(theirs)
    assert ours["Reference ID"] == "Reference ID    : 7F000001 (127.0.0.1)"
    assert ours["Stratum"] == "Stratum         : 2"
    assert ours["Leap status"] == theirs["Leap status"] == "Leap status     : Normal"
    # The other values move with every clock update (16 a second): same shape here, exact
    # equality in test_synced_report_equals_chronyc_n (no process start inside its window).
    for label in ours:
        assert len(ours[label].split()) == len(theirs[label].split()), label
    assert ours["System time"].endswith(("seconds slow of NTP time", "seconds fast of NTP time"))
    assert ours["Frequency"].endswith(("ppm fast", "ppm slow"))


def test_synced_report_equals_chronyc_n(synced: Daemon) -> None:
    from pychrony import get_tracking
    from pychrony.cli import format_tracking

    # chronyc -c (ref time in ns), chronyc -n, us, chronyc -c: retry until no clock update
    # landed in that window, so every line but the per-request ones must be equal.
    for _ in range(100):
        first = parse_chronyc_csv(synced.chronyc("-c", "tracking"))
        theirs_text = synced.chronyc("-n", "tracking")
        ours_text = format_tracking(get_tracking(synced.socket))
        last = parse_chronyc_csv(synced.chronyc("-c", "tracking"))
        if first[3] == last[3]:
            break
    else:
        pytest.fail("chronyd updated its clock during every attempt")
    ours = lines_by_label(ours_text)
    theirs = lines_by_label(theirs_text)
    assert list(ours) == list(theirs)
    for label in STATIC_LINES:
        assert ours[label] == theirs[label]

    # Computed per request: close values. Root dispersion grows between clock updates, so ours
    # lies between the two chronyc -c readings (±1 ns for rounding).
    def value(label: str, lines: dict[str, str]) -> float:
        return float(lines[label].split(":", 1)[1].split()[0])

    assert abs(value("System time", ours) - value("System time", theirs)) < 1e-4
    low, high = sorted([float(first[11]), float(last[11])])
    assert low - 1e-9 <= value("Root dispersion", ours) <= high + 1e-9
    assert (
        ours["System time"].split()[-4:] == theirs["System time"].split()[-4:]
        or abs(value("System time", ours)) < 1e-6
    )


def test_json_output(synced: Daemon) -> None:
    proc = run("tracking", "--socket", synced.socket, "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["reference_id"] == 0x7F000001
    assert record["reference_id_name"] == "127.0.0.1"
    assert record["stratum"] == 2
    assert record["synchronized"] is True
    assert record["leap_pending"] is False
    # The contract's fields in its order (test_contract checks TrackingStatus against the contract),
    # then the CLI's two additions.
    fields = [f.name for f in dataclasses.fields(pychrony.TrackingStatus)]
    assert len(fields) == 15
    assert list(record) == [*fields, "synchronized", "leap_pending"]


def test_json_unsynced_exit_1(unsynced: Daemon) -> None:
    proc = run("tracking", "--json", "--socket", unsynced.socket, module=True)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["leap_status"] == 3


def test_error_exit_2_with_message_on_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "chronyd.sock"
    proc = run("tracking", "--socket", str(missing), "--timeout", "0.5")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("pychrony: ")
    assert "(error code: -2)" in proc.stderr
    assert str(missing) in proc.stderr


def test_timeout_on_frozen_daemon_exit_2(frozen: Daemon) -> None:
    proc = run("tracking", "--socket", frozen.socket, "--timeout", "0.3")
    assert proc.returncode == 2
    assert "(error code: -6)" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["tracking", "--timeout", "0"],
        ["tracking", "--bogus"],
        ["tracking", "--timeout", "x"],
        ["tracking", "--timeout", "1e300"],
        ["tracking", "--timeout", "inf"],
        ["tracking", "--timeout", "nan"],
        ["tracking", "--timeout", "-1"],
        ["nope"],
        ["ntpdata", "--csv", "--json"],
        ["ntpdata", "192.0.2.1", "192.0.2.2"],
        ["ntpdata", "--timeout", "0"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("pychrony"), proc.stderr
    assert "error: " in proc.stderr and "--help" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help() -> None:
    proc = run("tracking", "--help")
    assert proc.returncode == 0
    assert "--socket" in proc.stdout and "--json" in proc.stdout and "--timeout" in proc.stdout


def test_format_tracking_signs_follow_chronyc() -> None:
    from pychrony import TrackingStatus
    from pychrony.cli import format_tracking

    def report(offset: float, frequency: float) -> dict[str, str]:
        status = TrackingStatus(
            0x47505300,
            "GPS",
            1,
            1,
            offset,
            2e-9,
            0.0,
            frequency,
            -0.0001,
            0.5,
            0.0,
            1e-6,
            16.04,
            "",
            1795959909.9,
        )
        return lines_by_label(format_tracking(status))

    slow = report(1.521e-6, -0.007)
    assert slow["System time"] == "System time     : 0.000001521 seconds slow of NTP time"
    assert slow["Frequency"] == "Frequency       : 0.007 ppm slow"
    assert slow["Residual freq"] == "Residual freq   : -0.000 ppm"
    assert slow["Last offset"] == "Last offset     : +0.000000002 seconds"
    assert slow["Reference ID"] == "Reference ID    : 47505300 (GPS)"
    assert slow["Leap status"] == "Leap status     : Insert second"
    assert slow["Ref time (UTC)"] == "Ref time (UTC)  : Sun Nov 29 13:45:09 2026"
    assert slow["Update interval"] == "Update interval : 16.0 seconds"
    fast = report(-1.521e-6, 12.5)
    assert fast["System time"] == "System time     : 0.000001521 seconds fast of NTP time"
    assert fast["Frequency"] == "Frequency       : 12.500 ppm fast"
    # Zero: chronyc 4.3 prints "fast" for the correction and "slow" for the frequency.
    zero = report(0.0, 0.0)
    assert zero["System time"].endswith("fast of NTP time")
    assert zero["Frequency"].endswith("ppm slow")


def test_ref_time_in_the_last_nanoseconds_of_a_second_prints_that_second() -> None:
    # 1795959909.999999999 rounds to 1795959910.0 as a float; chronyc prints the whole second.
    from fake_chronyd import fake_chronyd, reply, tracking_data

    data = tracking_data(ref_time=(1795959909, 999_999_999))
    with fake_chronyd(lambda r: reply(r, data=data)) as address:
        proc = run("tracking", "--socket", address, "--timeout", "1")
    assert proc.returncode == 0, proc.stderr
    assert (
        lines_by_label(proc.stdout)["Ref time (UTC)"]
        == "Ref time (UTC)  : Sun Nov 29 13:45:09 2026"
    )

"""get_rtc_data(), ChronyConnection.get_rtc_data() and `pychrony rtcdata`.

The fixture's chronyd has no RTC tracking (no `rtcfile`): its real answer, which chronyc prints as
"513 RTC driver not running" with exit status 1, is None here, and the CLI prints what chronyc
prints, with the same exit status. A real chronyd cannot be given an RTC on this machine, so the
values come from the scripted daemon, and the real chronyc pointed at it prints the same text
and CSV."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon
from fake_chronyd import as_sent, fake_chronyd, rtc_answer, rtc_data
from pychrony import ChronyConnection, RTCData, get_rtc_data
from pychrony.cli import RTC_DISABLED_TEXT, format_rtc_data, format_rtc_data_csv, main

SCRIPT = Path(sys.executable).parent / "pychrony"


def cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def test_no_rtc_is_none_where_chronyc_says_513(sources: Daemon) -> None:
    for udp in (False, True):
        for mode in ("-n", "-c"):
            theirs = sources.chronyc_process(mode, "rtcdata", udp=udp)
            assert (theirs.returncode, theirs.stdout) == (1, RTC_DISABLED_TEXT), theirs
    assert get_rtc_data(sources.socket) is None
    for address in (sources.socket, sources.udp_v4):
        with ChronyConnection(address) as conn:
            assert conn.get_rtc_data() is None
            # The connection stays usable after the refusal.
            assert isinstance(conn.get_tracking(), pychrony.TrackingStatus)


def test_cli_without_rtc_prints_and_exits_as_chronyc(sources: Daemon) -> None:
    for ours, theirs in ((["rtcdata"], "-n"), (["rtcdata", "--csv"], "-c")):
        chronyc = sources.chronyc_process(theirs, "rtcdata")
        assert cli([*ours, "--socket", sources.socket]) == (chronyc.returncode, chronyc.stdout)
    assert cli(["rtcdata", "--json", "--socket", sources.socket]) == (1, "null\n")
    proc = subprocess.run(
        [str(SCRIPT), "rtcdata", "--socket", sources.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, RTC_DISABLED_TEXT, "")


def test_values_as_chronyc_prints_them(sources: Daemon) -> None:
    # Reference times whose nanoseconds a float holds exactly; spans of minutes, hours and
    # "none"; offsets and rates above and below chronyc's digits.
    bodies = [
        rtc_data(),
        rtc_data(
            ref_time=(1796304357, 500000000),
            samples=0,
            runs=0,
            span=0xFFFFFFFF,
            offset=-1234.5678,
            freq_offset=123456.7,
        ),
        rtc_data(ref_time=(1796304357, 0), span=50_000, offset=-2e-7, freq_offset=-1e-4),
    ]
    for body in bodies:
        with fake_chronyd(rtc_answer(body)) as address:
            # A UDP address: ChronyConnection (get_rtc_data() takes a socket path only).
            with ChronyConnection(address, timeout=1.0) as conn:
                got = conn.get_rtc_data()
            assert got is not None
            assert format_rtc_data(got) == sources.chronyc("-n", "rtcdata", address=address)
            assert format_rtc_data_csv(got) == sources.chronyc("-c", "rtcdata", address=address)
            assert cli(["rtcdata", "--socket", address]) == (0, format_rtc_data(got))
            assert cli(["rtcdata", "--csv", "--socket", address]) == (0, format_rtc_data_csv(got))
            status, text = cli(["rtcdata", "--json", "--socket", address])
            record = json.loads(text)
            assert status == 0 and record.pop("calibrated") == got.is_calibrated()
            assert list(record) == [f.name for f in dataclasses.fields(RTCData)]
            assert RTCData(**record) == got
    assert got is not None  # the last body's
    assert got.ref_time == 1796304357.0 and got.span == 50_000 and got.is_calibrated()
    assert (got.samples, got.runs) == (12, 7) and type(got.samples) is int
    assert got.offset == as_sent(-2e-7) and got.freq_offset == as_sent(-1e-4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.samples = 3  # type: ignore[misc]
    assert not RTCData(0.0, 0, 0, 0, 0.0, 0.0).is_calibrated()


def test_csv_reference_time_within_the_float_of_chronycs(sources: Daemon) -> None:
    # Nanoseconds a float cannot hold: chronyc prints them all; ours are within 1 µs (the float
    # near 1.8e9 s resolves 0.24 µs), everything else equal.
    with fake_chronyd(rtc_answer(rtc_data(ref_time=(1796304357, 716817192)))) as address:
        with ChronyConnection(address, timeout=1.0) as conn:
            got = conn.get_rtc_data()
        assert got is not None
        theirs = sources.chronyc("-c", "rtcdata", address=address).rstrip("\n").split(",")
        ours = format_rtc_data_csv(got).rstrip("\n").split(",")
    assert theirs[0] == "1796304357.716817192"
    assert abs(float(ours[0]) - float(theirs[0])) < 1e-6 and ours[1:] == theirs[1:]


def test_errors_are_those_of_get_tracking(tmp_path: Path) -> None:
    missing = str(tmp_path / "chronyd.sock")
    with pytest.raises(pychrony.ChronyConnectionError) as rtc_error:
        get_rtc_data(missing)
    with pytest.raises(pychrony.ChronyConnectionError) as tracking_error:
        pychrony.get_tracking(missing)
    assert rtc_error.value.error_code == tracking_error.value.error_code
    with pytest.raises(TypeError):
        get_rtc_data(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_rtc_data(missing, timeout=-1)
    bad = subprocess.run(
        [str(SCRIPT), "rtcdata", "--socket", missing], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")

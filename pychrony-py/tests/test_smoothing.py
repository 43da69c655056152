"""get_smoothing(), ChronyConnection.get_smoothing() and `pychrony smoothing`.

The sources fixture's chronyd has `smoothtime 400 0.001`: chronyd computes the offset, frequency
and times for the moment of each request, so each of our reads is compared with two chronyc reads
around it (within the last digit chronyc prints). A read during which a clock update changed the
wander is done again. The unsynchronised fixture has no `smoothtime`: chronyc prints "505 Facility
not enabled in daemon" with exit status 1, and we return None and print the same."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Daemon
from pychrony import ChronyConnection, Smoothing, TrackingStatus, get_smoothing
from pychrony.cli import (
    SMOOTHING_DISABLED_TEXT,
    format_smoothing,
    format_smoothing_csv,
    main,
)

SCRIPT = Path(sys.executable).parent / "pychrony"
# (CSV field, its decimals in chronyc's output) for the numbers of chronyc -c smoothing.
NUMBERS = ((2, 9), (3, 6), (4, 6), (5, 1), (6, 1))
ATTEMPTS = 200


def csv_fields(line: str) -> list[str]:
    """The 7 fields of a `chronyc -c smoothing` line."""
    fields = line.rstrip("\n").split(",")
    assert len(fields) == 7, line
    return fields


def cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def _between(ours: list[str], before: list[str], after: list[str]) -> str | None:
    """None when `ours` (CSV fields) lies between the two chronyc reads, else why not."""
    if before[4] != after[4]:
        return f"the wander changed from {before[4]} to {after[4]}"
    if ours[:2] != before[:2] or before[:2] != after[:2]:
        return f"flags {ours[:2]} against {before[:2]} and {after[:2]}"
    for index, decimals in NUMBERS:
        x, y, value = float(before[index]), float(after[index]), float(ours[index])
        digit = 10.0**-decimals
        if not min(x, y) - digit <= value <= max(x, y) + digit:
            return f"field {index}: {ours[index]} outside [{before[index]}, {after[index]}]"
    return None


def _bracketed(daemon: Daemon, read: Callable[[], list[str]], *, udp: bool = False) -> None:
    why = "never read"
    for _ in range(ATTEMPTS):
        before = csv_fields(daemon.chronyc("-c", "smoothing", udp=udp))
        ours = read()
        after = csv_fields(daemon.chronyc("-c", "smoothing", udp=udp))
        found = _between(ours, before, after)
        if found is None:
            return
        why = found
    pytest.fail(f"never between two chronyc reads in {ATTEMPTS} attempts: {why}")


def _fields(smoothing: Smoothing | None) -> list[str]:
    assert isinstance(smoothing, Smoothing), smoothing
    return csv_fields(format_smoothing_csv(smoothing))


def test_values_equal_chronyc(sources: Daemon) -> None:
    _bracketed(sources, lambda: _fields(get_smoothing(sources.socket)))
    with ChronyConnection(sources.socket) as conn:
        _bracketed(sources, lambda: _fields(conn.get_smoothing()))
    with ChronyConnection(sources.udp_v4) as conn:
        _bracketed(sources, lambda: _fields(conn.get_smoothing()), udp=True)
    smoothing = get_smoothing(sources.socket)
    assert smoothing is not None
    assert (smoothing.active, smoothing.leap_only) == (True, False)


def test_formats_equal_chronyc_for_its_own_values(sources: Daemon) -> None:
    """chronyc's text, parsed into a Smoothing, formats back to the same bytes; so does its CSV."""
    text = sources.chronyc("smoothing")
    values = [line.split(":", 1)[1].split()[0] for line in text.splitlines()]
    leap_only = "(leap second only)" in text.splitlines()[0]
    parsed = Smoothing(values[0] == "Yes", leap_only, *(float(v) for v in values[1:]))
    assert format_smoothing(parsed) == text
    csv = sources.chronyc("-c", "smoothing")
    fields = csv_fields(csv)
    parsed = Smoothing(fields[0] == "Yes", fields[1] != "", *(float(f) for f in fields[2:]))
    assert format_smoothing_csv(parsed) == csv


def test_cli_equals_chronyc(sources: Daemon) -> None:
    def read_csv() -> list[str]:
        status, out = cli(["smoothing", "--csv", "--socket", sources.socket])
        assert status == 0
        return csv_fields(out)

    _bracketed(sources, read_csv)
    status, out = cli(["smoothing", "--socket", sources.socket])
    assert status == 0
    labels = [line.split(":", 1)[0] for line in sources.chronyc("smoothing").splitlines()]
    assert [line.split(":", 1)[0] for line in out.splitlines()] == labels
    status, out = cli(["smoothing", "--json", "--socket", sources.socket])
    assert status == 0
    record = json.loads(out)
    assert list(record) == [f.name for f in dataclasses.fields(Smoothing)]
    assert (record["active"], record["leap_only"]) == (True, False)


def test_without_smoothtime_is_none_where_chronyc_says_505(unsynced: Daemon) -> None:
    for udp in (False, True):
        for mode in ([], ["-c"]):
            theirs = unsynced.chronyc_process(*mode, "smoothing", udp=udp)
            assert (theirs.returncode, theirs.stdout) == (1, SMOOTHING_DISABLED_TEXT), theirs
    assert get_smoothing(unsynced.socket) is None
    for address in (unsynced.socket, unsynced.udp_v4):
        with ChronyConnection(address) as conn:
            assert conn.get_smoothing() is None
            # The connection stays usable after the refusal.
            assert isinstance(conn.get_tracking(), TrackingStatus)


def test_cli_without_smoothtime_prints_and_exits_as_chronyc(unsynced: Daemon) -> None:
    for ours, theirs in ((["smoothing"], []), (["smoothing", "--csv"], ["-c"])):
        chronyc = unsynced.chronyc_process(*theirs, "smoothing")
        assert cli([*ours, "--socket", unsynced.socket]) == (chronyc.returncode, chronyc.stdout)
    assert cli(["smoothing", "--json", "--socket", unsynced.socket]) == (1, "null\n")
    proc = subprocess.run(
        [str(SCRIPT), "smoothing", "--socket", unsynced.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, SMOOTHING_DISABLED_TEXT, "")

"""get_source_names() and ChronyConnection.get_source_names(), against the fixture's chronyd in
mode "sources" and its `chronyc -c -N sources -a` (names) beside `chronyc -c -n sources -a`
(addresses): one SourceName per NTP source, in chronyd's order; reference clocks have none."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest
from conftest import Daemon
from pychrony import ChronyConnection, SourceMode, SourceName, get_source_names, get_sources
from pychrony.cli import main

# chronyc -c sources: the mode column (`#`: a reference clock) and the name/address column.
MODE, NAME = 0, 2


def chronyc_names(daemon: Daemon, *, udp: bool = False) -> list[tuple[str, str]]:
    """(address, name) of each NTP source as chronyc lists them, the list read twice around
    nothing else so that a source added meanwhile fails the test instead of mismatching."""
    addresses = [
        line.split(",")
        for line in daemon.chronyc("-c", "-n", "sources", "-a", udp=udp).splitlines()
    ]
    names = [
        line.split(",")
        for line in daemon.chronyc("-c", "-N", "sources", "-a", udp=udp).splitlines()
    ]
    assert len(addresses) == len(names), (addresses, names)
    assert [a[MODE] for a in addresses] == [n[MODE] for n in names]
    return [(a[NAME], n[NAME]) for a, n in zip(addresses, names, strict=True) if a[MODE] != "#"]


def pairs(names: list[SourceName]) -> list[tuple[str, str]]:
    return [(s.address, s.name) for s in names]


def test_get_source_names_equals_chronyc(sources: Daemon) -> None:
    expected = chronyc_names(sources)
    got = get_source_names(sources.socket)
    assert pairs(got) == expected
    # The fixture's servers are configured by address, so a name equals its address, and the
    # reference clocks (listed by get_sources) are left out.
    assert expected, "the fixture has NTP sources"
    assert [s.address for s in got] == [
        s.address for s in get_sources(sources.socket) if s.mode is not SourceMode.REFCLOCK
    ]
    assert all(type(s) is SourceName for s in got)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("over", ["unix", "udp"])
def test_connection_get_source_names(sources: Daemon, over: str) -> None:
    # chronyd serves the report over UDP too (chronyc -N sources works there).
    udp = over == "udp"
    address = sources.udp_v4 if udp else sources.socket
    with ChronyConnection(address) as conn:
        got = conn.get_source_names()
        assert pairs(got) == chronyc_names(sources, udp=udp)
        assert conn.get_source_names() == got


def cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(["--csv"], ("-c", "-N", "sources", "-a")), ([], ("-n", "-N", "sources", "-a"))],
)
def test_cli_sources_names_equal_chronyc(
    sources: Daemon, ours: list[str], theirs: tuple[str, ...]
) -> None:
    # The name column equal, line by line; the measured columns change between reads, so
    # they are compared by test_sources.py, not here.
    def name_column(text: str) -> list[str]:
        rows = text.splitlines()
        if ours:
            return [row.split(",")[NAME] for row in rows]
        # chronyc's table: two header lines, then "MS Name/IP..." with the name in 3..30.
        return [row[:30] for row in rows[2:]]

    got = cli(["sources", "-N", *ours, "--socket", sources.socket])
    expected = sources.chronyc(*theirs)
    assert name_column(got) == name_column(expected)
    if not ours:
        assert got.splitlines()[:2] == expected.splitlines()[:2]

"""get_server_stats(), ChronyConnection.get_server_stats() and `pychrony serverstats`, against the
fixture's chronyd in mode "sources": every counter lies between what `chronyc -c serverstats`
printed before and after our read (each chronyc request counts as a command packet)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon
from pychrony import ChronyConnection, ServerStats, get_server_stats
from pychrony.cli import format_server_stats, format_server_stats_csv, main

SCRIPT = Path(sys.executable).parent / "pychrony"


def csv_values(text: str) -> list[int]:
    return [int(v) for v in text.strip().split(",")]


def bracketed(daemon: Daemon, read: Callable[[], str], *, udp: bool = False) -> None:
    """Our `chronyc -c serverstats` line: as many counters as chronyc's, each between chronyc's
    two values around our read."""
    before = csv_values(daemon.chronyc("-c", "serverstats", udp=udp))
    ours = csv_values(read())
    after = csv_values(daemon.chronyc("-c", "serverstats", udp=udp))
    assert len(ours) == len(before) == len(after)
    for i, (b, o, a) in enumerate(zip(before, ours, after, strict=True)):
        assert b <= o <= a, (i, before, ours, after)
    # Our request and chronyc's second one are command packets chronyd counted.
    assert before[2] < ours[2] < after[2]


def test_get_server_stats_bracketed_by_chronyc(sources: Daemon) -> None:
    bracketed(sources, lambda: format_server_stats_csv(get_server_stats(sources.socket)))
    got = get_server_stats(sources.socket)
    assert isinstance(got, ServerStats)
    assert all(type(v) is int for v in dataclasses.astuple(got)[:5])
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.ntp_hits = 1  # type: ignore[misc]


def test_connection_get_server_stats(sources: Daemon) -> None:
    with ChronyConnection(sources.socket) as conn:
        bracketed(sources, lambda: format_server_stats_csv(conn.get_server_stats()))


def cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


def test_cli_text_csv_json(sources: Daemon) -> None:
    sock = ["--socket", sources.socket]
    bracketed(sources, lambda: cli(["serverstats", "--csv", *sock]))

    def text_as_csv() -> str:
        text = cli(["serverstats", *sock])
        theirs = sources.chronyc("-n", "serverstats").splitlines()
        # Same labels and layout as chronyc; the values are bracketed through the CSV.
        assert [line.split(":")[0] for line in text.splitlines()] == [
            line.split(":")[0] for line in theirs
        ]
        return ",".join(line.split(": ")[1] for line in text.splitlines())

    before = csv_values(sources.chronyc("-c", "serverstats"))
    ours = csv_values(text_as_csv())
    after = csv_values(sources.chronyc("-c", "serverstats"))
    assert all(b <= o <= a for b, o, a in zip(before, ours, after, strict=True))

    def from_json() -> str:
        record = json.loads(cli(["serverstats", "--json", *sock]))
        assert list(record) == [f.name for f in dataclasses.fields(ServerStats)]
        return format_server_stats_csv(ServerStats(**record))

    bracketed(sources, from_json)


def test_format_without_the_newer_counters_equals_chronyc_text(sources: Daemon) -> None:
    # A chronyd without the newer counters: chronyc 4.3's 11 lines; each value exact.
    text = sources.chronyc("-n", "serverstats")
    values = [int(line.split(": ")[1]) for line in text.splitlines()]
    stats = ServerStats(*values, *([None] * (17 - len(values))))  # type: ignore[arg-type]
    assert format_server_stats(stats) == text


def test_cli_process_and_errors(sources: Daemon, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), "serverstats", *args], capture_output=True, text=True, timeout=60
        )

    proc = run("--socket", sources.socket)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert len(proc.stdout.splitlines()) == len(sources.chronyc("-n", "serverstats").splitlines())
    bad = run("--socket", str(tmp_path / "nothing"))
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")
    with pytest.raises(pychrony.ChronyConnectionError):
        get_server_stats(str(tmp_path / "nothing"))
    with pytest.raises(TypeError):
        get_server_stats(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_server_stats(sources.socket, timeout=-1)

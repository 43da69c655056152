"""get_activity(), ChronyConnection.get_activity() and `pychrony activity`, against the fixture's
chronyd in mode "sources" and its `chronyc -c activity` / `chronyc -n activity`."""

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
from pychrony import Activity, ChronyConnection, get_activity
from pychrony.cli import format_activity, format_activity_csv, main

SCRIPT = Path(sys.executable).parent / "pychrony"


def equal_when_stable(daemon: Daemon, args: tuple[str, ...], read: Callable[[], str]) -> None:
    """Ours equals `chronyc ARGS` when chronyc printed the same before and after our read (a
    burst may end, or a name resolve, in between: then it is read again)."""
    for _ in range(200):
        before = daemon.chronyc(*args)
        ours = read()
        if daemon.chronyc(*args) == before:
            assert ours == before
            return
    pytest.fail(f"chronyc {' '.join(args)} never printed the same twice around our read")


def test_get_activity_equals_chronyc_csv_and_text(sources: Daemon) -> None:
    equal_when_stable(
        sources, ("-c", "activity"), lambda: format_activity_csv(get_activity(sources.socket))
    )
    equal_when_stable(
        sources, ("-n", "activity"), lambda: format_activity(get_activity(sources.socket))
    )
    got = get_activity(sources.socket)
    assert isinstance(got, Activity) and all(type(v) is int for v in dataclasses.astuple(got))
    # Three NTP servers online (reference clocks are not counted), none offline; unresolved: the
    # sources configured by a name that never resolves.
    assert got.offline == 0 and got.online + got.burst_online == 3
    assert got.unresolved == len(sources.unresolved_names())
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.online = 1  # type: ignore[misc]


def test_connection_get_activity_unix_and_udp(sources: Daemon) -> None:
    for address, udp in ((sources.socket, False), (sources.udp_v4, True)):
        with ChronyConnection(address) as conn:
            for _ in range(200):
                before = sources.chronyc("-c", "activity", udp=udp)
                ours = format_activity_csv(conn.get_activity())
                if sources.chronyc("-c", "activity", udp=udp) == before:
                    assert ours == before
                    break
            else:
                pytest.fail("chronyc -c activity never printed the same twice")


def cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


def test_cli_text_csv_json_equal_chronyc(sources: Daemon) -> None:
    sock = ["--socket", sources.socket]
    equal_when_stable(sources, ("-n", "activity"), lambda: cli(["activity", *sock]))
    equal_when_stable(sources, ("-c", "activity"), lambda: cli(["activity", "--csv", *sock]))

    def from_json() -> str:
        record = json.loads(cli(["activity", "--json", *sock]))
        assert list(record) == [f.name for f in dataclasses.fields(Activity)]
        return format_activity_csv(Activity(**record))

    equal_when_stable(sources, ("-c", "activity"), from_json)


def test_cli_process_and_errors(sources: Daemon, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), "activity", *args], capture_output=True, text=True, timeout=60
        )

    proc = run("--socket", sources.socket)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.splitlines()[0] == "200 OK" and len(proc.stdout.splitlines()) == 6
    bad = run("--socket", str(tmp_path / "nothing"))
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")
    with pytest.raises(pychrony.ChronyConnectionError) as err:
        get_activity(str(tmp_path / "nothing"))
    with pytest.raises(pychrony.ChronyConnectionError) as tracking_err:
        pychrony.get_tracking(str(tmp_path / "nothing"))
    assert err.value.error_code == tracking_err.value.error_code
    with pytest.raises(TypeError):
        get_activity(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_activity(sources.socket, timeout=0)

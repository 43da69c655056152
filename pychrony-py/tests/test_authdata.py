"""get_auth_data(), ChronyConnection.get_auth_data() and `pychrony authdata`, against the
fixture's chronyd in mode "sources" (servers without authentication) and mode "nts" (one server
with NTS), compared with `chronyc -c authdata -a` / `chronyc -n authdata -a` line by line
whenever chronyc printed the line the same before and after our read (the Last column counts
seconds). Over UDP chronyd refuses the report, as chronyc's "501 Not authorised" shows."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json

import pytest
from conftest import Daemon, each_line_equal_when_stable
from pychrony import (
    AuthData,
    AuthMode,
    ChronyConnection,
    ChronyPermissionError,
    get_auth_data,
)
from pychrony.cli import format_auth_data_csv, main

CSV = ("-c", "authdata", "-a")
TEXT = ("-n", "authdata", "-a")
# The NTS cookie count (CSV column 8) is one lower while a poll is in flight (chronyd spends a
# cookie on the request and gets one back with the reply, 16 polls a second in mode "nts"): a read
# of ours in that moment is done again, not failed, when chronyc shows the full count around it.
COOKIES_COLUMN = 8


def csv_lines(auth: list[AuthData]) -> list[str]:
    return format_auth_data_csv(auth).splitlines()


@pytest.fixture(params=["sources", "nts"])
def daemon(request: pytest.FixtureRequest) -> Daemon:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_get_auth_data_equals_chronyc(daemon: Daemon) -> None:
    got = each_line_equal_when_stable(
        daemon,
        CSV,
        lambda: get_auth_data(daemon.socket),
        csv_lines,
        transient=(COOKIES_COLUMN,),
    )
    assert all(type(a) is AuthData and isinstance(a.mode, AuthMode) for a in got)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].nak = True  # type: ignore[misc]


def test_nts_source_is_nts(nts: Daemon) -> None:
    (source,) = get_auth_data(nts.socket)
    assert source.mode is AuthMode.NTS
    assert source.key_type == 15 and source.key_length == 256
    assert source.cookies > 0


def test_connection_get_auth_data(daemon: Daemon) -> None:
    with ChronyConnection(daemon.socket) as conn:
        each_line_equal_when_stable(
            daemon, CSV, lambda: conn.get_auth_data(), csv_lines, transient=(COOKIES_COLUMN,)
        )


def test_refused_over_udp(daemon: Daemon) -> None:
    proc = daemon.chronyc_process(*CSV, udp=True)
    assert proc.returncode != 0 and "Not authorised" in proc.stdout + proc.stderr
    with ChronyConnection(daemon.udp_v4) as conn:
        with pytest.raises(ChronyPermissionError) as info:
            conn.get_auth_data()
    assert info.value.error_code == -3


def cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


def test_cli_text_and_csv_equal_chronyc(daemon: Daemon) -> None:
    sock = ["--socket", daemon.socket]
    each_line_equal_when_stable(
        daemon,
        CSV,
        lambda: cli(["authdata", "--csv", *sock]),
        str.splitlines,
        transient=(COOKIES_COLUMN,),
    )
    # The table too, header and rule included, line by line: a table line is one "column" (no
    # commas), transient as a whole where it holds an NTS cookie count.
    each_line_equal_when_stable(
        daemon,
        TEXT,
        lambda: cli(["authdata", *sock]),
        str.splitlines,
        transient=(0,) if ",NTS," in daemon.chronyc(*CSV) else (),
    )


def test_cli_json(daemon: Daemon) -> None:
    records = json.loads(cli(["authdata", "--json", "--socket", daemon.socket]))
    expected = [line.split(",") for line in daemon.chronyc(*CSV).splitlines()]
    assert [(r["address"], r["mode"]) for r in records] == [
        (e[0], {"-": "NONE", "SK": "SYMMETRIC_KEY", "NTS": "NTS"}[e[1]]) for e in expected
    ]


def test_unknown_mode_is_kept() -> None:
    mode = AuthMode(9)
    assert mode.name == "UNKNOWN_9" and mode.symbol == "?" and AuthMode(9) is mode

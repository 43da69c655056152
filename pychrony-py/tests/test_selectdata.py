"""get_select_data(), ChronyConnection.get_select_data() and `pychrony selectdata`, against the
fixture's chronyd in mode "sources" (a preferred server, a noselect one, one that never answers,
two reference clocks), compared with `chronyc -c selectdata -a` / `chronyc -n selectdata -a` line
by line whenever chronyc printed the line the same before and after our read (the Last column
counts seconds; Score and Interval change at each selection). Over UDP chronyd refuses the
report, as chronyc's "501 Not authorised" shows."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess

import pytest
from conftest import Daemon, each_line_equal_when_stable
from pychrony import (
    ChronyConnection,
    ChronyPermissionError,
    SelectData,
    SelectOptions,
    SelectState,
    get_select_data,
)
from pychrony.cli import SELECT_DATA_CAPTION, SELECT_DATA_HEADER, format_select_data_csv, main

CSV = ("-c", "selectdata", "-a")
TEXT = ("-n", "selectdata", "-a")


def csv_lines(select: list[SelectData]) -> list[str]:
    return format_select_data_csv(select).splitlines()


def test_get_select_data_equals_chronyc(sources: Daemon) -> None:
    got = each_line_equal_when_stable(
        sources, CSV, lambda: get_select_data(sources.socket), csv_lines
    )
    assert [d.address for d in got] == sources.source_addresses()
    assert all(
        type(d) is SelectData
        and isinstance(d.state, SelectState)
        and isinstance(d.configured_options, SelectOptions)
        and isinstance(d.effective_options, SelectOptions)
        for d in got
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].score = 0.0  # type: ignore[misc]


def test_options_and_states_of_the_configured_sources(sources: Daemon) -> None:
    by_address = {d.address: d for d in get_select_data(sources.socket)}
    preferred, ignored = by_address["127.0.0.1"], by_address["127.0.0.2"]
    assert preferred.configured_options == SelectOptions.PREFER
    assert preferred.configured_options.text == "-P---"
    assert ignored.configured_options == SelectOptions.NOSELECT
    assert ignored.state is SelectState.IGNORED and ignored.state.symbol == "N"


def test_connection_get_select_data(sources: Daemon) -> None:
    with ChronyConnection(sources.socket) as conn:
        each_line_equal_when_stable(sources, CSV, lambda: conn.get_select_data(), csv_lines)


def test_refused_over_udp(sources: Daemon) -> None:
    proc = sources.chronyc_process(*CSV, udp=True)
    assert proc.returncode != 0 and "Not authorised" in proc.stdout + proc.stderr
    with ChronyConnection(sources.udp_v4) as conn:
        with pytest.raises(ChronyPermissionError) as info:
            conn.get_select_data()
    assert info.value.error_code == -3


def test_unknown_state_and_options_are_kept() -> None:
    state = SelectState(ord("Z"))
    assert state.name == "UNKNOWN_90" and state.symbol == "Z" and SelectState(90) is state
    assert SelectState.SELECTED.symbol == "*" and SelectState(ord("*")) is SelectState.SELECTED
    options = SelectOptions(0x13)
    assert int(options) == 0x13 and options.text == "NP---"
    assert SelectOptions(0xF).text == "NPTR-" and SelectOptions(0).text == "-----"


def cli(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


def test_cli_text_and_csv_equal_chronyc(sources: Daemon) -> None:
    sock = ["--socket", sources.socket]
    each_line_equal_when_stable(
        sources, CSV, lambda: cli(["selectdata", "--csv", *sock]), str.splitlines
    )
    # The table too, header and rule included, line by line.
    each_line_equal_when_stable(sources, TEXT, lambda: cli(["selectdata", *sock]), str.splitlines)


def chronyc_version(daemon: Daemon) -> tuple[int, ...]:
    # "chronyc (chrony) version 4.9 (+READLINE ...)"
    out = subprocess.run([daemon.info["CHRONYC"], "-v"], capture_output=True, text=True).stdout
    return tuple(int(n) for n in out.split("version ")[1].split()[0].split("."))


def test_cli_verbose_text_equals_chronyc_n_v(sources: Daemon) -> None:
    # Our caption is chronyc 4.9's; the older chronyc this may run against (4.3, 4.6.1) print it
    # without "r - stratum" and with a doubled comma, and nothing else differs.
    def as_this_chronyc(text: str) -> list[str]:
        if chronyc_version(sources) < (4, 9):
            text = text.replace("samples, r - stratum\n", "samples,\n")
            text = text.replace("for update, x", "for update,, x")
        return text.splitlines()

    verbose = ("-n", "selectdata", "-a", "-v")
    read = lambda: cli(["selectdata", "-v", "--socket", sources.socket])  # noqa: E731
    ours = each_line_equal_when_stable(sources, verbose, read, as_this_chronyc)
    assert ours.startswith(SELECT_DATA_CAPTION + SELECT_DATA_HEADER + "\n")


def test_cli_json(sources: Daemon) -> None:
    records = json.loads(cli(["selectdata", "--json", "--socket", sources.socket]))
    expected = [line.split(",") for line in sources.chronyc(*CSV).splitlines()]
    assert [(r["address"], SelectState[r["state"]].symbol) for r in records] == [
        (e[1], e[0]) for e in expected
    ]
    assert [SelectOptions(r["configured_options"]).text for r in records] == [
        "".join(e[3:8]) for e in expected
    ]

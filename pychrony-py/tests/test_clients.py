"""get_clients(), ChronyConnection.get_clients() and `pychrony clients`, against the fixture's
synchronised chronyd after a chronyc call over UDP has made 127.0.0.1 one of its clients (the
unix socket has no address to log). Compared with `chronyc -n -c clients` (and `-k`) line by line
whenever chronyc printed the line the same before and after our read: hits grow and the Last
columns count seconds. Over UDP chronyd refuses the report, as chronyc's "501 Not authorised"
shows."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json

import pytest
from conftest import Daemon, each_line_equal_when_stable
from fake_chronyd import fake_chronyd, reply
from pychrony import ChronyConnection, ChronyPermissionError, Client, get_clients
from pychrony.cli import (
    CLIENT_LOG_INACTIVE_TEXT,
    format_clients,
    format_clients_csv,
    main,
)

CSV = ("-n", "-c", "clients")
CSV_NKE = (*CSV, "-k")
TEXT = ("-n", "clients")
TEXT_NKE = (*TEXT, "-k")


def _log2(value: int | None) -> str:
    return "127" if value is None else str(value)


def _ago(value: int | None) -> str:
    return "4294967295" if value is None else str(value)


def chronyc_csv(clients: list[Client] | None, *, nke: bool = False) -> list[str]:
    """`clients` as chronyc -c prints them, written here from chronyc's columns (not with the
    CLI's formatter, which is compared with chronyc on its own): no data is 127, never is
    4294967295."""
    assert clients is not None, "chronyd logs clients"
    lines = []
    for c in clients:
        if nke:
            last = (c.nke_hits, c.nke_drops, _log2(c.nke_interval), _ago(c.last_nke_hit_ago))
        else:
            last = (c.cmd_hits, c.cmd_drops, _log2(c.cmd_interval), _ago(c.last_cmd_hit_ago))
        first = (c.address, c.ntp_hits, c.ntp_drops, _log2(c.ntp_interval))
        ntp = (_log2(c.ntp_timeout_interval), _ago(c.last_ntp_hit_ago))
        lines.append(",".join(str(v) for v in (*first, *ntp, *last)))
    return lines


@pytest.fixture(scope="module")
def daemon(synced: Daemon) -> Daemon:
    synced.chronyc("tracking", udp=True)
    return synced


def test_get_clients_equals_chronyc(daemon: Daemon) -> None:
    got: list[Client] | None = None
    for args, nke in ((CSV, False), (CSV_NKE, True)):
        got = each_line_equal_when_stable(
            daemon,
            args,
            lambda: get_clients(daemon.socket),
            functools.partial(chronyc_csv, nke=nke),
        )
        assert got is not None and all(type(c) is Client for c in got)
    assert got is not None
    local = [c for c in got if c.address == "127.0.0.1"]
    assert len(local) == 1 and local[0].cmd_hits >= 1, got
    with pytest.raises(dataclasses.FrozenInstanceError):
        local[0].cmd_hits = 0  # type: ignore[misc]


def test_connection_get_clients(daemon: Daemon) -> None:
    with ChronyConnection(daemon.socket) as conn:
        each_line_equal_when_stable(daemon, CSV, lambda: conn.get_clients(), chronyc_csv)


def test_refused_over_udp(daemon: Daemon) -> None:
    proc = daemon.chronyc_process(*CSV, udp=True)
    assert proc.returncode != 0 and "Not authorised" in proc.stdout + proc.stderr
    with ChronyConnection(daemon.udp_v4) as conn:
        with pytest.raises(ChronyPermissionError) as info:
            conn.get_clients()
    assert info.value.error_code == -3


def cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def cli_ok(args: list[str]) -> str:
    status, out = cli(args)
    assert status == 0, out
    return out


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (["--csv"], CSV),
        (["--csv", "-k"], CSV_NKE),
        ([], TEXT),
        (["-k"], TEXT_NKE),
    ],
)
def test_cli_text_and_csv_equal_chronyc(
    daemon: Daemon, ours: list[str], theirs: tuple[str]
) -> None:
    # The table too, header and rule included, line by line.
    args = ["clients", *ours, "--socket", daemon.socket]
    each_line_equal_when_stable(daemon, theirs, lambda: cli_ok(args), str.splitlines)


def test_formats_of_values_chronyc_shows_as_dashes_and_units() -> None:
    """Intervals and ages chronyc prints other than as plain numbers (no data, never, minutes),
    which the fixture's fresh log does not show: laid out by chronyc's column rules (address L25,
    then after two spaces each: R6, R5, R2, R2, R4 ago, R6, R5, R2, R4 ago)."""
    c = Client("192.0.2.1", 5, 0, 7, 1, 0, 0, -3, None, 4, None, 3600, None, None)
    assert format_clients([c]).splitlines()[2] == (
        "192.0.2.1" + " " * 23 + "5      1  -3   -   60m       7      0   4     -"
    )
    assert format_clients_csv([c], nke=True) == "192.0.2.1,5,1,-3,127,3600,0,0,127,4294967295\n"


def test_cli_json(daemon: Daemon) -> None:
    records = json.loads(cli_ok(["clients", "--json", "--socket", daemon.socket]))
    assert [list(r) for r in records] == [[f.name for f in dataclasses.fields(Client)]] * len(
        records
    )
    expected = [line.split(",")[0] for line in daemon.chronyc(*CSV).splitlines()]
    assert [r["address"] for r in records] == expected


def test_cli_over_udp_is_an_error(daemon: Daemon) -> None:
    status, out = cli(["clients", "--socket", daemon.udp_v4])
    assert (status, out) == (2, "")


# chronyd's status 15 (STT_INACTIVE) in its 28-byte error reply (RPY_NULL), as with noclientlog.
def _no_client_log(request: bytes) -> bytes:
    return reply(request, status=15, code=1)


def test_no_client_log_is_none_and_the_cli_prints_what_chronyc_prints(daemon: Daemon) -> None:
    # A real chronyd with noclientlog answers every clients request with status 15; the scripted
    # one does the same, and chronyc is pointed at it too.
    with fake_chronyd(_no_client_log) as address:
        with ChronyConnection(address, timeout=1.0) as conn:
            assert conn.get_clients() is None
        for args, chronyc_args in ((), TEXT), (("-k",), TEXT_NKE), (("--csv",), CSV):
            theirs = daemon.chronyc_process(*chronyc_args, address=address)
            assert theirs.returncode == 1, theirs
            assert CLIENT_LOG_INACTIVE_TEXT in theirs.stdout
            assert cli(["clients", *args, "--socket", address]) == (1, theirs.stdout)
        assert cli(["clients", "--json", "--socket", address]) == (1, "null\n")

"""get_clients(), ChronyConnection.get_clients() and `pychrony clients`, against the fixture's
synchronised chronyd after a chronyc call over UDP has made 127.0.0.1 one of its clients (the
unix socket has no address to log), and against the NTP server of the fixture's mode "nts", which
logs the NTP polls and the NTS key exchange of the daemon under test. Compared with `chronyc -n -c
clients` (and `-k`) line by line whenever chronyc printed the line the same before and after our
read: hits grow and the Last columns count seconds. Over UDP chronyd refuses the report, as
chronyc's "501 Not authorised" shows; a chronyd with `noclientlog` (the fixture's mode
"noclientlog") keeps no log, as chronyc's "519 Client logging is not active" shows."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
from collections.abc import Iterator

import pytest
from conftest import Daemon, each_line_equal_when_stable, start_daemon
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


@pytest.fixture(scope="module")
def nts_server(nts: Daemon) -> Daemon:
    """The NTP server that the daemon under test of mode "nts" polls 16 times a second, after
    one NTS key exchange."""
    return nts.server()


@pytest.fixture(scope="module")
def no_client_log() -> Iterator[Daemon]:
    """An unsynchronised chronyd with `noclientlog`."""
    daemon = start_daemon("start", "--mode", "noclientlog")
    yield daemon
    daemon.stop()


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


def test_the_servers_clients_show_ntp_and_nts_ke_hits_equal_to_chronyc(nts_server: Daemon) -> None:
    got: list[Client] | None = None
    for args, nke in ((CSV, False), (CSV_NKE, True)):
        got = each_line_equal_when_stable(
            nts_server,
            args,
            lambda: get_clients(nts_server.socket),
            functools.partial(chronyc_csv, nke=nke),
        )
    assert got is not None
    local = [c for c in got if c.address == "127.0.0.1"]
    assert len(local) == 1 and local[0].ntp_hits >= 1 and local[0].nke_hits >= 1, got


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


# The CLI's options and the chronyc arguments of the same output.
CLI_FORMATS = pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (["--csv"], CSV),
        (["--csv", "-k"], CSV_NKE),
        ([], TEXT),
        (["-k"], TEXT_NKE),
    ],
)


@CLI_FORMATS
def test_cli_text_and_csv_equal_chronyc(
    daemon: Daemon, ours: list[str], theirs: tuple[str]
) -> None:
    # The table too, header and rule included, line by line.
    args = ["clients", *ours, "--socket", daemon.socket]
    each_line_equal_when_stable(daemon, theirs, lambda: cli_ok(args), str.splitlines)


@CLI_FORMATS
def test_cli_text_and_csv_on_the_server_equal_chronyc(
    nts_server: Daemon, ours: list[str], theirs: tuple[str]
) -> None:
    # NTP and NTS-KE columns with hits, intervals and ages.
    args = ["clients", *ours, "--socket", nts_server.socket]
    each_line_equal_when_stable(nts_server, theirs, lambda: cli_ok(args), str.splitlines)


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


def test_no_client_log_is_none_as_chronyc_says_logging_is_not_active(
    no_client_log: Daemon,
) -> None:
    # chronyd answers every clients request with status 15 (STT_INACTIVE).
    assert get_clients(no_client_log.socket) is None
    with ChronyConnection(no_client_log.socket) as conn:
        assert conn.get_clients() is None
        # The connection goes on after the refusal.
        assert conn.get_clients() is None
    theirs = no_client_log.chronyc_process(*CSV)
    assert (theirs.returncode, theirs.stdout) == (1, CLIENT_LOG_INACTIVE_TEXT), theirs


@CLI_FORMATS
def test_no_client_log_cli_prints_what_chronyc_prints(
    no_client_log: Daemon, ours: list[str], theirs: tuple[str]
) -> None:
    chronyc = no_client_log.chronyc_process(*theirs)
    assert chronyc.returncode == 1, chronyc
    assert CLIENT_LOG_INACTIVE_TEXT in chronyc.stdout
    assert cli(["clients", *ours, "--socket", no_client_log.socket]) == (1, chronyc.stdout)


def test_no_client_log_cli_json_is_null(no_client_log: Daemon) -> None:
    assert cli(["clients", "--json", "--socket", no_client_log.socket]) == (1, "null\n")

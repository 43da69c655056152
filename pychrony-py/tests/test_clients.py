"""get_clients(), ChronyConnection.get_clients() and `pychrony clients`, against the fixture's
synchronised chronyd after a chronyc call over UDP has made 127.0.0.1 one of its clients (the
unix socket has no address to log). Compared with `chronyc -n -c clients` (and `-k`) line by line
whenever chronyc printed the line the same before and after our read: hits grow and the Last
columns count seconds. Over UDP chronyd refuses the report, as chronyc's "501 Not authorised"
shows."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from conftest import Daemon, each_line_equal_when_stable
from pychrony import ChronyConnection, ChronyPermissionError, Client, get_clients

CSV = ("-n", "-c", "clients")
CSV_NKE = (*CSV, "-k")


def _log2(value: int | None) -> str:
    return "127" if value is None else str(value)


def _ago(value: int | None) -> str:
    return "4294967295" if value is None else str(value)


def chronyc_csv(clients: list[Client] | None, *, nke: bool = False) -> list[str]:
    """`clients` as chronyc -c prints them: no data is 127, never is 4294967295."""
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

"""get_ntp_data(address), get_all_ntp_data() and their ChronyConnection methods.

Against the sources fixture's chronyd, compared with `chronyc -c ntpdata` on the same daemon:
chronyd updates a source's data with each of its samples (16 a second), so a source's line is
compared when chronyc printed it the same before and after our read. The sources compared are
those chronyc lists (unresolved sources have no address and are in neither list)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from conftest import Daemon, each_line_equal_when_stable
from fake_chronyd import (
    REPLY_NTP_DATA,
    REPLY_NTP_DATA2,
    fake_chronyd,
    ip_address,
    ntp_data,
    reply,
    source_data,
    source_stats_answer,
    source_stats_data,
    sources_answer,
)
from pychrony import (
    ChronyConnection,
    ChronyPermissionError,
    NTPData,
    NTPMode,
    get_all_ntp_data,
    get_ntp_data,
)
from pychrony._models import LEAP_STATUS_TEXT
from pychrony.cli import main, ntp_data_record

ATTEMPTS = 400
# Columns of chronyc -c ntpdata derived from others (the addresses' and reference ID's
# hexadecimal and text forms, the poll and precision in seconds): not fields of NTPData.
DERIVED = {1, 4, 10, 12, 16}
REF_TIME = 17
SCRIPT = Path(sys.executable).parent / "pychrony"
T = TypeVar("T")


def _columns(d: NTPData) -> dict[int, str]:
    """Our values as chronyc -c ntpdata prints them, by column."""
    bits = d.tests_text().split(" ")
    yes_no = {True: "Yes", False: "No"}
    columns = {
        0: d.remote_address,
        2: str(d.remote_port),
        3: d.local_address if d.local_address is not None else "[UNSPEC]",
        5: LEAP_STATUS_TEXT[d.leap_status],
        6: str(d.version),
        7: d.mode.text,
        8: str(d.stratum),
        9: str(d.poll),
        11: str(d.precision),
        13: f"{d.root_delay:.6f}",
        14: f"{d.root_dispersion:.6f}",
        15: f"{d.reference_id:08X}",
        18: f"{d.offset:.9f}",
        19: f"{d.peer_delay:.9f}",
        20: f"{d.peer_dispersion:.9f}",
        21: f"{d.response_time:.9f}",
        22: f"{d.jitter_asymmetry:.2f}",
        23: bits[0],
        24: bits[1],
        25: bits[2],
        26: yes_no[d.interleaved],
        27: yes_no[d.authenticated],
        28: d.tx_timestamping,
        29: d.rx_timestamping,
        30: str(d.total_tx),
        31: str(d.total_rx),
        32: str(d.total_valid_rx),
        33: str(d.total_good_rx),
    }
    newer = (d.total_kernel_tx, d.total_kernel_rx, d.total_hw_tx, d.total_hw_rx)
    if all(n is not None for n in newer):
        columns.update({34 + i: str(n) for i, n in enumerate(newer)})
    return columns


def _rows(daemon: Daemon) -> dict[str, list[str]]:
    rows = [line.split(",") for line in daemon.chronyc("-c", "ntpdata").splitlines()]
    # 34 columns; 38 where chronyd sends the kernel and hardware counters (4.6+ replies).
    assert rows and all(len(row) in (34, 38) for row in rows), rows
    return {row[0]: row for row in rows}


def _rows_equal_when_stable(
    daemon: Daemon,
    read: Callable[[], dict[str, T]],
    check: Callable[[T, list[str]], None],
    *,
    only: str | None = None,
) -> None:
    """`check(ours, chronyc's -c row)` for each source whose row chronyc printed the same before
    and after `read()` (by remote address; `only`: that source alone, which `read` must return
    alone), until every source has been checked."""
    done: set[str] = set()
    last = "no read"
    for _ in range(ATTEMPTS):
        before = _rows(daemon)
        ours = read()
        after = _rows(daemon)
        if only is not None:
            before = {only: before[only]}
        assert set(ours) == set(before), (sorted(ours), sorted(before))
        for address, row in before.items():
            if after.get(address) != row:
                last = f"{address}: {row} then {after.get(address)}"
                continue
            check(ours[address], row)
            done.add(address)
        if done == set(before):
            return
    pytest.fail(f"never compared every source with chronyc in {ATTEMPTS} reads: {last}")


def _check_fields(d: NTPData, row: list[str]) -> None:
    ours_columns = _columns(d)
    assert len(row) == 34 or max(ours_columns) == 37, (row, d)
    for column, text in ours_columns.items():
        assert text == row[column], (column, text, row)
    # The float carries the reference time to about 0.24 us, chronyc prints ns.
    assert d.ref_time == pytest.approx(float(row[REF_TIME]), abs=1e-6), row


def _equal_when_stable(daemon: Daemon, read: Callable[[], list[NTPData]]) -> None:
    _rows_equal_when_stable(daemon, lambda: {d.remote_address: d for d in read()}, _check_fields)


def test_all_equals_chronyc(sources: Daemon) -> None:
    _equal_when_stable(sources, lambda: get_all_ntp_data(sources.socket))
    with ChronyConnection(sources.socket) as conn:
        _equal_when_stable(sources, conn.get_all_ntp_data)


def test_each_address_equals_chronyc(sources: Daemon) -> None:
    addresses = list(_rows(sources))

    def each(get: Callable[[str], NTPData | None]) -> list[NTPData]:
        found = [get(address) for address in addresses]
        assert all(isinstance(d, NTPData) for d in found), found
        return [d for d in found if d is not None]

    _equal_when_stable(sources, lambda: each(lambda a: get_ntp_data(a, sources.socket)))
    with ChronyConnection(sources.socket) as conn:
        _equal_when_stable(sources, lambda: each(conn.get_ntp_data))


def test_fields_and_modes(sources: Daemon) -> None:
    data = {d.remote_address: d for d in get_all_ntp_data(sources.socket)}
    answering = data["127.0.0.1"]
    assert answering.mode is NTPMode.SERVER and answering.test_passed(0)
    silent = data["127.0.0.3"]  # nothing answers there: chronyc prints mode "Invalid"
    assert silent.mode is NTPMode(0) and silent.mode.name == "UNKNOWN_0"
    assert silent.mode.text == "Invalid"
    assert silent.local_address is None and not silent.test_passed(9)
    assert not answering.test_passed(10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answering.stratum = 9  # type: ignore[misc]


def test_no_such_source_is_none_where_chronyc_says_503(sources: Daemon) -> None:
    theirs = sources.chronyc_process("-n", "ntpdata", "192.0.2.9")
    assert (theirs.returncode, theirs.stdout) == (1, "503 No such source\n"), theirs
    assert get_ntp_data("192.0.2.9", sources.socket) is None
    with ChronyConnection(sources.socket) as conn:
        assert conn.get_ntp_data("192.0.2.9") is None
        assert conn.get_ntp_data("::1") is None


def test_bad_address_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    # No chronyd at this path: had anything been sent, the error would be a connection error
    # (ChronyConnection opens its socket on first use).
    missing = str(tmp_path / "no-chronyd.sock")
    for bad in ("bogus", "", "127.0.0.1:123", "192.0.2.300", "127.0.0.1 "):
        with pytest.raises(ValueError, match="IPv4 or IPv6 address"):
            get_ntp_data(bad, missing)
        with pytest.raises(ValueError):
            ChronyConnection(missing).get_ntp_data(bad)
    for wrong in (None, 127, b"127.0.0.1"):
        with pytest.raises(TypeError, match="address must be a str"):
            get_ntp_data(wrong, missing)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ChronyConnection(missing).get_ntp_data(wrong)  # type: ignore[arg-type]


def test_refused_over_udp_as_chronyc_is(sources: Daemon) -> None:
    theirs = sources.chronyc_process("-c", "ntpdata", udp=True)
    assert (theirs.returncode, theirs.stdout) == (1, "501 Not authorised\n"), theirs
    with ChronyConnection(sources.udp_v4) as conn:
        for read in (lambda: conn.get_ntp_data("127.0.0.1"), conn.get_all_ntp_data):
            with pytest.raises(ChronyPermissionError) as info:
                read()
            assert info.value.error_code == -3


# --- `pychrony ntpdata` ---------------------------------------------------------------------------


def cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def cli_ok(args: list[str]) -> str:
    status, text = cli(args)
    assert status == 0, text
    return text


def test_cli_text_equals_chronyc_n(sources: Daemon) -> None:
    # Every source after a blank line, each line compared whenever chronyc printed it the same
    # before and after our read (offsets, delays and counters move with each sample).
    sock = ["--socket", sources.socket]
    text = each_line_equal_when_stable(
        sources, ("-n", "ntpdata"), lambda: cli_ok(["ntpdata", *sock]), str.splitlines
    )
    assert text.startswith("\nRemote address  : 127.0.0.1 (7F000001)\n"), text
    assert "\nLocal address   : [UNSPEC] (00000000)\n" in text  # 127.0.0.3 never answers


def test_cli_text_of_one_address_equals_chronyc_n(sources: Daemon) -> None:
    sock = ["--socket", sources.socket]
    for address in _rows(sources):
        each_line_equal_when_stable(
            sources,
            ("-n", "ntpdata", address),
            functools.partial(cli_ok, ["ntpdata", address, *sock]),
            str.splitlines,
        )


def _check_csv(ours: list[str], row: list[str]) -> None:
    # Every column as chronyc prints it, but the reference time's digits below a microsecond:
    # the float's, not chronyd's nanoseconds (as NTPData.ref_time).
    assert len(ours) == len(row), (ours, row)
    assert [o for i, o in enumerate(ours) if i != REF_TIME] == [
        r for i, r in enumerate(row) if i != REF_TIME
    ], (ours, row)
    assert float(ours[REF_TIME]) == pytest.approx(float(row[REF_TIME]), abs=1e-6), (ours, row)


def _cli_csv_rows(args: list[str]) -> dict[str, list[str]]:
    rows = [line.split(",") for line in cli_ok(args).splitlines()]
    return {row[0]: row for row in rows}


def test_cli_csv_equals_chronyc_c(sources: Daemon) -> None:
    sock = ["--socket", sources.socket]
    _rows_equal_when_stable(
        sources, functools.partial(_cli_csv_rows, ["ntpdata", "--csv", *sock]), _check_csv
    )
    for address in _rows(sources):
        _rows_equal_when_stable(
            sources,
            functools.partial(_cli_csv_rows, ["ntpdata", address, "--csv", *sock]),
            _check_csv,
            only=address,
        )


def test_cli_json_equals_get_ntp_data(sources: Daemon) -> None:
    # The records of sources whose data get_all_ntp_data returned the same before and after the
    # command's read must equal them (chronyd updates a source with each of its samples).
    sock = ["--socket", sources.socket]

    def normalised(d: NTPData) -> object:
        return json.loads(json.dumps(ntp_data_record(d)))

    done: set[str] = set()
    for _ in range(ATTEMPTS):
        before = {d.remote_address: d for d in get_all_ntp_data(sources.socket)}
        records = json.loads(cli_ok(["ntpdata", "--json", *sock]))
        after = {d.remote_address: d for d in get_all_ntp_data(sources.socket)}
        assert [r["remote_address"] for r in records] == list(before)
        for record in records:
            address = record["remote_address"]
            if before[address] == after[address]:
                assert record == normalised(before[address])
                done.add(address)
        if done == set(before):
            break
    else:
        pytest.fail(f"never compared every source in {ATTEMPTS} reads (compared: {done})")
    one = json.loads(cli_ok(["ntpdata", "127.0.0.3", "--json", *sock]))
    assert one["mode"] == "UNKNOWN_0" and one["local_address"] is None
    assert one["remote_address"] == "127.0.0.3" and one["tests"] == [False] * 10


@pytest.mark.parametrize("address", ["192.0.2.9", "::1"])
def test_cli_no_such_source_as_chronyc(sources: Daemon, address: str) -> None:
    for option in ("-n", "-c"):
        theirs = sources.chronyc_process(option, "ntpdata", address)
        assert (theirs.returncode, theirs.stdout) == (1, "503 No such source\n"), theirs
        args = ["ntpdata", address, "--socket", sources.socket]
        ours = subprocess.run(
            [str(SCRIPT), *args, *(["--csv"] if option == "-c" else [])],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (ours.returncode, ours.stdout, ours.stderr) == (1, theirs.stdout, ""), ours
    assert cli([*args, "--json"]) == (1, "null\n")


@pytest.mark.parametrize("bad", ["bogus", "127.0.0.1:123", "192.0.2.300", "fe80::1%lo", ""])
def test_cli_malformed_address_exit_2_nothing_sent(bad: str) -> None:
    requests: list[bytes] = []

    def record(request: bytes) -> None:
        requests.append(request)

    with fake_chronyd(record) as address:
        proc = subprocess.run(
            [str(SCRIPT), "ntpdata", bad, "--socket", address, "--timeout", "0.5"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and proc.stdout == "", proc
        assert proc.stderr == (
            "pychrony ntpdata: error: argument ADDRESS: address must be an IPv4 or IPv6 address "
            f"such as '192.0.2.1', not \"{bad}\" (see `pychrony ntpdata --help`)\n"
        ), proc.stderr
        assert requests == []
        # The fake does receive what is sent: a well-formed address is asked (and times out).
        proc = subprocess.run(
            [str(SCRIPT), "ntpdata", "192.0.2.1", "--socket", address, "--timeout", "0.3"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and "(error code: -6)" in proc.stderr, proc
        assert requests, "the scripted chronyd saw no request"


def test_cli_refused_over_udp_exit_2(sources: Daemon) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "ntpdata", "--socket", sources.udp_v4],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (2, ""), proc
    assert proc.stderr.startswith("pychrony: ") and "(error code: -3)" in proc.stderr, proc


# Values the fixture's chronyd does not have (IPv6 addresses, whose reference IDs are hashes; a
# stratum-1 server naming its reference clock; other modes, leap states and timestamping), from
# a scripted chronyd that the real chronyc reads too.
SCRIPTED = {
    "2001:db8::1": dict(
        local="2001:db8::2",
        stratum=1,
        ref_id=0x47505300,  # "GPS": named, at stratum 1
        mode=1,
        leap=1,
        poll=-1,
        precision=-20,
        flags=0xC000 | 0x2AA,
        timestamping=b"HD",
    ),
    "192.0.2.7": dict(
        local=None,
        stratum=2,
        ref_id=0x41424344,  # printable, but not named above stratum 1
        mode=2,
        leap=3,
        poll=10,
        precision=0,
        flags=0,
        timestamping=b"XK",
    ),
    "192.0.2.9": dict(local="192.0.2.1", stratum=0, ref_id=0x20414200, mode=3, leap=2, poll=-7),
    # IPv4-compatible and IPv4-mapped IPv6 addresses: chronyc (inet_ntop) prints the compatible
    # one as ::192.0.2.10, which Python's and Rust's own texts spell ::c000:20a.
    "::192.0.2.10": dict(local="::ffff:192.0.2.1"),
}
REQUEST_NTP_DATA = 57


def _scripted_answer(code: int) -> Callable[[bytes], bytes | None]:
    # The sources and their statistics list the addresses (chronyc walks the sources, the
    # library also reads the sourcestats record of a source before its ntpdata); each ntpdata
    # request is answered for the address it names.
    addresses = [ip_address(remote) for remote in SCRIPTED]
    listed = [
        sources_answer([source_data(family=a[17], address=a[:16]) for a in addresses]),
        source_stats_answer([source_stats_data(family=a[17], address=a[:16]) for a in addresses]),
    ]
    records = {
        ip_address(remote): ntp_data(remote=remote, code=code, **values)  # type: ignore[arg-type]
        for remote, values in SCRIPTED.items()
    }

    def answer(request: bytes) -> bytes | None:
        if struct.unpack(">H", request[4:6])[0] == REQUEST_NTP_DATA:
            return reply(request, code=code, data=records[request[20:40]])
        return listed[0](request) or listed[1](request)

    return answer


def test_cli_scripted_values_equal_chronyc(sources: Daemon) -> None:
    # chronyc understands one of the two replies (4.3: 16, 4.6+: 26; the other is "508 Bad reply
    # from daemon"): ours must print what it prints for that one.
    compared = []
    for code in (REPLY_NTP_DATA, REPLY_NTP_DATA2):
        with fake_chronyd(_scripted_answer(code)) as address:
            for remote in [*SCRIPTED, None]:
                one = [] if remote is None else [remote]
                for option, extra in (("-n", []), ("-c", ["--csv"])):
                    theirs = sources.chronyc_process(option, "ntpdata", *one, address=address)
                    if theirs.stdout.startswith("508 "):
                        continue
                    assert theirs.returncode == 0, theirs
                    ours = cli_ok(["ntpdata", *one, *extra, "--socket", address])
                    assert ours == theirs.stdout, (code, remote, option)
                    compared.append((code, remote, option))
    assert len({code for code, _, _ in compared}) == 1, compared
    assert len(compared) == 2 * (len(SCRIPTED) + 1), compared


def test_format_ntp_data_of_scripted_values() -> None:
    # The lines whose form depends on the values, as chronyc 4.3 printed them for the scripted
    # records (test_cli_scripted_values_equal_chronyc compares the rest with chronyc itself).
    from pychrony.cli import format_ntp_data

    with fake_chronyd(_scripted_answer(REPLY_NTP_DATA)) as address:
        with ChronyConnection(address) as conn:
            found = {r: conn.get_ntp_data(r) for r in SCRIPTED}
    text = {
        r: format_ntp_data([d], each_after_blank=False) for r, d in found.items() if d is not None
    }
    v6 = text["2001:db8::1"]
    compatible = found["::192.0.2.10"]
    assert compatible is not None and compatible.remote_address == "::192.0.2.10"
    assert compatible.local_address == "::ffff:192.0.2.1"
    # IPv6 reference IDs: the first 32 bits of the MD5 of the address, as chronyc 4.3 printed them.
    assert "Remote address  : 2001:db8::1 (39AB9B37)\n" in v6
    assert "Local address   : 2001:db8::2 (2D47FD05)\n" in v6
    assert "Reference ID    : 47505300 (GPS)\n" in v6
    assert "Offset          : -0.000003000 seconds\n" in v6 and "Jitter asymmetry: -0.25\n" in v6
    assert "Poll interval   : -1 (0 seconds)\n" in v6
    assert "Reference ID    : 41424344 ()\n" in text["192.0.2.7"]
    assert "Local address   : [UNSPEC] (00000000)\n" in text["192.0.2.7"]
    assert "Reference ID    : 20414200 ( AB)\n" in text["192.0.2.9"]
    assert "Mode            : Invalid\n" in text["192.0.2.9"]


def test_cli_without_ntp_sources_prints_what_chronyc_prints(unsynced: Daemon) -> None:
    # The unsynchronised fixture has no sources: chronyc prints nothing and exits with 0.
    sock = ["--socket", unsynced.socket]
    for option, extra in (("-n", []), ("-c", ["--csv"])):
        theirs = unsynced.chronyc_process(option, "ntpdata")
        assert (theirs.returncode, theirs.stdout) == (0, ""), theirs
        assert cli(["ntpdata", *extra, *sock]) == (0, "")
    assert cli(["ntpdata", "--json", *sock]) == (0, "[]\n")

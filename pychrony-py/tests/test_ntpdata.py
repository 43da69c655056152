"""get_ntp_data(address), get_all_ntp_data() and their ChronyConnection methods.

Against the sources fixture's chronyd, compared with `chronyc -c ntpdata` on the same daemon:
chronyd updates a source's data with each of its samples (16 a second), so a source's line is
compared when chronyc printed it the same before and after our read. The sources compared are
those chronyc lists (unresolved sources have no address and are in neither list)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Daemon
from pychrony import (
    ChronyConnection,
    ChronyPermissionError,
    NTPData,
    NTPMode,
    get_all_ntp_data,
    get_ntp_data,
)
from pychrony._models import LEAP_STATUS_TEXT

ATTEMPTS = 400
# Columns of chronyc -c ntpdata derived from others (the addresses' and reference ID's
# hexadecimal and text forms, the poll and precision in seconds): not fields of NTPData.
DERIVED = {1, 4, 10, 12, 16}
REF_TIME = 17


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


def _equal_when_stable(daemon: Daemon, read: Callable[[], list[NTPData]]) -> None:
    done: set[str] = set()
    last = "no read"
    for _ in range(ATTEMPTS):
        before = _rows(daemon)
        ours = {d.remote_address: d for d in read()}
        after = _rows(daemon)
        assert set(ours) == set(before), (sorted(ours), sorted(before))
        for address, row in before.items():
            if after.get(address) != row:
                last = f"{address}: {row} then {after.get(address)}"
                continue
            d = ours[address]
            ours_columns = _columns(d)
            assert len(row) == 34 or max(ours_columns) == 37, (address, row, d)
            for column, text in ours_columns.items():
                assert text == row[column], (address, column, text, row)
            # The float carries the reference time to about 0.24 us, chronyc prints ns.
            assert d.ref_time == pytest.approx(float(row[REF_TIME]), abs=1e-6), (address, row)
            done.add(address)
        if done == set(before):
            return
    pytest.fail(f"never compared every source with chronyc in {ATTEMPTS} reads: {last}")


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

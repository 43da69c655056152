"""Replies a real chronyd does not send on demand, from a scripted command port:
every reference address family, and refused, malformed or out-of-range replies."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fake_chronyd import REPLY_NULL, TRACKING_REPLY_LEN, fake_chronyd, reply, tracking_data
from pychrony import (
    ChronyConnection,
    ChronyDataError,
    ChronyError,
    ChronyPermissionError,
    TrackingStatus,
)


def read(answer: Callable[[bytes], bytes | None]) -> TrackingStatus:
    with fake_chronyd(answer) as address, ChronyConnection(address, timeout=1.0) as conn:
        return conn.get_tracking()


def test_ipv4_reference_all_fields() -> None:
    status = read(lambda r: reply(r, data=tracking_data()))
    assert status.reference_id == 0x7F000001
    assert status.reference_id_name == "127.0.0.1"
    assert status.reference_ip == "127.0.0.1"
    assert status.stratum == 2
    assert status.leap_status == 0
    assert status.ref_time == pytest.approx(1795959909.214976262, abs=1e-6)
    expected = (1.5e-6, -1e-8, 7.1e-8, -0.007, -0.0003, 0.029, 4.0e-6, 8.7e-7, 0.25)
    got = (
        status.offset,
        status.last_offset,
        status.rms_offset,
        status.frequency,
        status.residual_freq,
        status.skew,
        status.root_delay,
        status.root_dispersion,
        status.update_interval,
    )
    assert got == pytest.approx(expected, rel=1e-6)


def test_ipv6_reference() -> None:
    address = bytes.fromhex("20010db8000000000000000000000001")
    status = read(
        lambda r: reply(r, data=tracking_data(ref_id=0xA1B2C3D4, family=2, address=address))
    )
    assert status.reference_ip == "2001:db8::1"
    assert status.reference_id_name == "2001:db8::1"
    assert status.reference_id == 0xA1B2C3D4


def test_refclock_reference_has_a_name_and_no_address() -> None:
    status = read(
        lambda r: reply(r, data=tracking_data(ref_id=0x47505300, family=0, address=b"", stratum=1))
    )
    assert status.reference_id_name == "GPS"
    assert status.reference_ip == ""
    assert status.is_synchronized()


def test_printable_ipv4_refid_is_not_shown_as_text() -> None:
    status = read(lambda r: reply(r, data=tracking_data(ref_id=0x41424344, address=b"ABCD")))
    assert status.reference_id_name == "65.66.67.68"


def test_unresolved_id_reference() -> None:
    status = read(lambda r: reply(r, data=tracking_data(family=3, address=(42).to_bytes(4, "big"))))
    assert status.reference_ip == "ID#0000000042"
    assert status.reference_id_name == "ID#0000000042"


@pytest.mark.parametrize(
    ("answer", "cls", "code"),
    [
        (lambda r: reply(r, status=3, code=REPLY_NULL), ChronyDataError, -4),  # invalid command
        (lambda r: reply(r, status=2, code=REPLY_NULL), ChronyPermissionError, -3),  # unauthorised
        (lambda r: reply(r, code=99, data=tracking_data()), ChronyDataError, -4),  # unknown reply
        (lambda r: reply(r, data=tracking_data(leap=7)), ChronyDataError, -4),  # out of range
        (lambda r: reply(r, data=tracking_data())[: TRACKING_REPLY_LEN - 8], ChronyDataError, -5),
    ],
    ids=["invalid-command", "unauthorised", "unknown-reply-code", "leap-7", "truncated"],
)
def test_bad_replies(
    answer: Callable[[bytes], bytes | None], cls: type[ChronyError], code: int
) -> None:
    with pytest.raises(cls) as info:
        read(answer)
    assert type(info.value) is cls
    assert info.value.error_code == code
    assert str(info.value).endswith(f"(error code: {code})")


def test_foreign_datagrams_are_ignored_until_the_timeout() -> None:
    def wrong_sequence(request: bytes) -> bytes:
        forged = bytearray(request)
        forged[8:12] = bytes(4) if request[8:12] != bytes(4) else b"\1\1\1\1"
        return reply(bytes(forged), data=tracking_data())

    start = time.monotonic()
    with pytest.raises(ChronyError) as info:
        with fake_chronyd(wrong_sequence) as address:
            with ChronyConnection(address, timeout=0.4) as conn:
                conn.get_tracking()
    assert info.value.error_code == -6
    assert time.monotonic() - start < 0.6


def test_a_late_reply_to_a_timed_out_call_never_answers_the_next_call() -> None:
    calls = 0

    def answer(request: bytes) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(2.0)  # after the first call gave up
            return reply(request, data=tracking_data(stratum=7))
        return reply(request, data=tracking_data(stratum=3))

    with fake_chronyd(answer) as address, ChronyConnection(address, timeout=1.0) as conn:
        with pytest.raises(ChronyError) as info:
            conn.get_tracking()
        assert info.value.error_code == -6
        time.sleep(2.0)  # the stratum-7 reply is now waiting in the socket
        assert conn.get_tracking().stratum == 3


def test_stratum_16_is_accepted_and_not_synchronised() -> None:
    # chronyd following a stratum-15 server (its default maxstratum) reports 16.
    status = read(lambda r: reply(r, data=tracking_data(stratum=16)))
    assert status.stratum == 16
    assert not status.is_synchronized()


def test_an_unknown_address_family_is_shown_as_unspecified() -> None:
    # A newer chronyd's family: chronyc shows the reference ID's characters.
    status = read(lambda r: reply(r, data=tracking_data(ref_id=0x47505300, family=9)))
    assert status.reference_id_name == "GPS"
    assert status.reference_ip == ""

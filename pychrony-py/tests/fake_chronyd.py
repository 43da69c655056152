"""A scripted chronyd command port on UDP loopback, for replies a real chronyd never sends.

Only for what the real fixture cannot produce (malformed or refused replies, reference address
families, sources with values a real daemon does not have on demand); everything else is tested
against real chronyd. The real chronyc talks to it too, to see how chronyc prints such values.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

REPLY_TRACKING = 5
REPLY_NULL = 1
TRACKING_REPLY_LEN = 104
REQUEST_N_SOURCES = 14
REQUEST_SOURCE_DATA = 15
REPLY_N_SOURCES = 2
REPLY_SOURCE_DATA = 3
REQUEST_SOURCE_STATS = 34
REPLY_SOURCE_STATS = 6
REQUEST_RTC_REPORT = 35
REPLY_RTC = 7
REPLY_NTP_DATA = 16  # chrony <= 4.5
REPLY_NTP_DATA2 = 26  # chrony >= 4.6: four more counters


def encode_float(x: float) -> int:
    """chrony's 32-bit Float: 7-bit signed exponent, 25-bit signed coefficient."""
    if x == 0.0:
        return 0
    mantissa, exponent = math.frexp(x)  # x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1
    coef = round(mantissa * (1 << 24))
    if abs(coef) >= 1 << 24:
        coef //= 2
        exponent += 1
    exp = exponent + 1  # x = coef * 2**(exp - 25)
    assert -64 <= exp <= 63
    return ((exp & 0x7F) << 25) | (coef & 0x1FFFFFF)


def tracking_data(
    *,
    ref_id: int = 0x7F000001,
    family: int = 1,
    address: bytes = bytes([127, 0, 0, 1]),
    stratum: int = 2,
    leap: int = 0,
    ref_time: tuple[int, int] = (1795959909, 214976262),
    floats: tuple[float, ...] = (
        1.5e-6,
        -1e-8,
        7.1e-8,
        -0.007,
        -0.0003,
        0.029,
        4.0e-6,
        8.7e-7,
        0.25,
    ),
) -> bytes:
    ip = address.ljust(16, b"\0") + struct.pack(">HH", family, 0)
    body = struct.pack(">I", ref_id) + ip + struct.pack(">HH", stratum, leap)
    body += struct.pack(">III", 0, ref_time[0], ref_time[1])
    body += b"".join(struct.pack(">I", encode_float(f)) for f in floats)
    return body


def decode_float(word: int) -> float:
    """The value chronyd's 32-bit Float `word` stands for (the inverse of encode_float)."""
    exp = (word >> 25) & 0x7F
    coef = word & 0x1FFFFFF
    if exp >= 64:
        exp -= 128
    if coef >= 1 << 24:
        coef -= 1 << 25
    return math.ldexp(coef, exp - 25)


def as_sent(x: float) -> float:
    """`x` as chronyd's Float carries it (24 bits of precision)."""
    return decode_float(encode_float(x))


def source_data(
    *,
    family: int = 1,
    address: bytes = bytes([192, 0, 2, 1]),
    poll: int = 6,
    stratum: int = 2,
    state: int = 0,
    mode: int = 0,
    flags: int = 0,
    reachability: int = 0o377,
    since_sample: int = 12,
    orig_latest_meas: float = 1.5e-6,
    latest_meas: float = 1.4e-6,
    latest_meas_err: float = 3e-5,
) -> bytes:
    """One RPY_SOURCE_DATA body: address (16 bytes, family, padding), poll (signed), stratum,
    state, mode, flags, reachability, seconds since the last sample, then three Floats. A
    reference clock (mode 2) has its refid as an IPv4 address."""
    ip = address.ljust(16, b"\0") + struct.pack(">HH", family, 0)
    body = ip + struct.pack(
        ">hHHHHHI", poll, stratum, state, mode, flags, reachability, since_sample
    )
    floats = (orig_latest_meas, latest_meas, latest_meas_err)
    return body + b"".join(struct.pack(">I", encode_float(f)) for f in floats)


def source_stats_data(
    *,
    ref_id: int = 0xC0000201,
    family: int = 1,
    address: bytes = bytes([192, 0, 2, 1]),
    samples: int = 8,
    runs: int = 5,
    span: int = 120,
    std_dev: float = 2e-6,
    resid_freq: float = -0.25,
    skew: float = 0.5,
    offset: float = 1e-6,
    offset_err: float = 4e-6,
) -> bytes:
    """One RPY_SOURCESTATS body: the reference ID, the address (16 bytes, family, padding;
    family 0 for a reference clock, 3 with the ID in the first 4 bytes for an unresolved name),
    samples, runs, span in seconds, then five Floats (std_dev first, as on the wire)."""
    ip = address.ljust(16, b"\0") + struct.pack(">HH", family, 0)
    body = struct.pack(">I", ref_id) + ip + struct.pack(">III", samples, runs, span)
    floats = (std_dev, resid_freq, skew, offset, offset_err)
    return body + b"".join(struct.pack(">I", encode_float(f)) for f in floats)


def indexed_answer(
    request_code: int, reply_code: int, records: list[bytes]
) -> Callable[[bytes], bytes | None]:
    """Answers the source count and each record of a per-source report (request `request_code`,
    reply `reply_code`) by index; nothing else."""

    def answer(request: bytes) -> bytes | None:
        command = struct.unpack(">H", request[4:6])[0]
        if command == REQUEST_N_SOURCES:
            return reply(request, code=REPLY_N_SOURCES, data=struct.pack(">I", len(records)))
        if command == request_code:
            index = struct.unpack(">i", request[20:24])[0]
            return reply(request, code=reply_code, data=records[index])
        return None

    return answer


def sources_answer(records: list[bytes]) -> Callable[[bytes], bytes | None]:
    """Answers the count and each indexed record of a sources report; nothing else."""
    return indexed_answer(REQUEST_SOURCE_DATA, REPLY_SOURCE_DATA, records)


def source_stats_answer(records: list[bytes]) -> Callable[[bytes], bytes | None]:
    """Answers the count and each indexed record of a sourcestats report; nothing else."""
    return indexed_answer(REQUEST_SOURCE_STATS, REPLY_SOURCE_STATS, records)


def ip_address(text: str | None) -> bytes:
    """chronyd's IPAddr: 16 address bytes, the family (0 none, 1 IPv4, 2 IPv6), padding."""
    if text is None:
        return bytes(20)
    ip = ipaddress.ip_address(text)
    return ip.packed.ljust(16, b"\0") + struct.pack(">HH", 1 if ip.version == 4 else 2, 0)


def ntp_data(
    *,
    remote: str,
    local: str | None,
    code: int = REPLY_NTP_DATA,
    port: int = 123,
    leap: int = 0,
    version: int = 4,
    mode: int = 4,
    stratum: int = 2,
    poll: int = 6,
    precision: int = -20,
    ref_id: int = 0xC0000201,
    ref_time: tuple[int, int] = (1796304357, 500_000_000),
    floats: tuple[float, ...] = (1e-4, 2e-4, -3e-6, 4e-5, 5e-7, 6e-5, -0.25),
    flags: int = 0x3FF,
    timestamping: bytes = b"KD",
    counters: tuple[int, ...] = (10, 9, 8, 7, 6, 5, 4, 3),
) -> bytes:
    """One RPY_NTP_DATA (16) or RPY_NTP_DATA2 (26, with the kernel/hardware counters) body: the
    remote and local addresses, port, leap, version, mode, stratum, poll and precision (log2,
    signed), root delay and dispersion, refid, reference time, then offset, peer delay, peer
    dispersion, response time, jitter asymmetry, flags, the TX and RX timestamping letters, the
    counters (4 for reply 16, 8 for 26), reserved words."""
    body = ip_address(remote) + ip_address(local)
    body += struct.pack(">HBBBBbb", port, leap, version, mode, stratum, poll, precision)
    body += b"".join(struct.pack(">I", encode_float(f)) for f in floats[:2])
    body += struct.pack(">IIII", ref_id, 0, ref_time[0], ref_time[1])
    body += b"".join(struct.pack(">I", encode_float(f)) for f in floats[2:])
    body += struct.pack(">H", flags) + timestamping
    n, reserved = (4, 3) if code == REPLY_NTP_DATA else (8, 4)
    return body + b"".join(struct.pack(">I", c) for c in counters[:n]) + bytes(4 * reserved)


def rtc_data(
    *,
    ref_time: tuple[int, int] = (1795959909, 250000000),
    samples: int = 12,
    runs: int = 7,
    span: int = 3600,
    offset: float = 0.125,
    freq_offset: float = -3.5,
) -> bytes:
    """One RPY_RTC body: the reference time (seconds in two u32 halves, nanoseconds), samples and
    runs (u16), the span in seconds (u32), then two Floats."""
    body = struct.pack(">III", 0, ref_time[0], ref_time[1])
    body += struct.pack(">HHI", samples, runs, span)
    return body + b"".join(struct.pack(">I", encode_float(f)) for f in (offset, freq_offset))


def rtc_answer(data: bytes) -> Callable[[bytes], bytes | None]:
    """Answers the rtcdata request with the RPY_RTC body `data`; nothing else."""

    def answer(request: bytes) -> bytes | None:
        command = struct.unpack(">H", request[4:6])[0]
        if command == REQUEST_RTC_REPORT:
            return reply(request, code=REPLY_RTC, data=data)
        return None

    return answer


def reply(
    request: bytes, *, status: int = 0, code: int = REPLY_TRACKING, data: bytes = b""
) -> bytes:
    command = request[4:6]
    sequence = request[8:12]
    header = bytes([6, 2, 0, 0]) + command + struct.pack(">HH", code, status) + bytes(6)
    return header + sequence + bytes(8) + data


@contextmanager
def fake_chronyd(answer: Callable[[bytes], bytes | None]) -> Iterator[str]:
    """Serves `answer(request)` on 127.0.0.1:<port>; yields the address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                request, peer = sock.recvfrom(2048)
            except TimeoutError:
                continue
            response = answer(request)
            if response is not None:
                sock.sendto(response, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        sock.close()

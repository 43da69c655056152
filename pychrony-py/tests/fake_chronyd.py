"""A scripted chronyd command port on UDP loopback, for replies a real chronyd never sends.

Only for what the real fixture cannot produce (malformed or refused replies, reference address
families); everything else is tested against real chronyd.
"""

from __future__ import annotations

import math
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

REPLY_TRACKING = 5
REPLY_NULL = 1
TRACKING_REPLY_LEN = 104


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

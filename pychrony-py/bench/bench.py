"""Python side of `cargo xtask bench` (for information; nothing is asserted).

Runs with the interpreter of a venv that has either this project's `pychrony` (``--impl ours``)
or pychrony 2.0.3 from PyPI (``--impl peer``) installed; both are imported as `pychrony`, so each
lives in its own venv. The daemon is given (``--socket PATH --udp HOST:PORT``); `cargo xtask bench`
starts it and pins this process and the daemon to one CPU. Subcommands:

  run      per-call time of each case, every sample in ns, as JSON (``--json FILE``); with
           ``--impl ours`` also ``floor.python.*``, the raw socket floor paid from Python, and
           ``exporter.scrape.unix``, a Prometheus scrape when prometheus_client is installed, and
           pychrony.aio's cases (``aio.reused.*``; with ``--many`` also ``aiomany.*.udp``, with
           ``--many-lan`` ``aiomany.*.lan``)
  memory   RSS of a fresh interpreter: before and after ``import pychrony``, after N calls
  startup  ``python -c "import pychrony; <first call>"``: import plus first call timed inside the
           process (perf_counter), and the whole process timed from outside

Standard library only (but prometheus_client for the scrape, in ours' venv): the peer's venv has
nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket as socket_module
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

# ---- run ---------------------------------------------------------------------------------------


Cases = list[tuple[str, str, Callable[[], object]]]

# Calls per sample of the cases that make several in one (the asyncio ones: one sample runs them
# in one turn of the loop, and records the time per call).
CALLS_PER_SAMPLE: dict[str, int] = {}
AIO_CALLS = 20

# REQ_TRACKING as the Rust runner's floor sends it (chronyd-fixture's `wire`): protocol version 6,
# packet type 1 (request), command 33 at offset 4, attempt 0, the sequence at offset 8, padded to
# the reply's 104 bytes. The reply: type 2, code 5 (RPY_TRACKING) at 6, status 0 at 8, the
# sequence echoed at 16.
TRACKING_LEN = 104


def floor_socket(
    transport: str, address: str, closers: list[Callable[[], object]], name: str = "raw"
) -> socket_module.socket:
    """A persistent datagram socket of the `socket` module connected to chronyd, for the
    floors (over unix bound to a path of its own `name`)."""
    if transport == "unix":
        sock = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_DGRAM)
        # Bound next to chronyd's socket (it replies to the client's address), world-writable so
        # a daemon running as another user can reply; removed by the closer.
        path = os.path.join(os.path.dirname(address), f"bench-python-{name}.{os.getpid()}.sock")
        if os.path.exists(path):
            os.unlink(path)
        sock.bind(path)
        os.chmod(path, 0o666)
        closers.append(partial(os.unlink, path))
        sock.connect(address)
    else:
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        family = socket_module.AF_INET6 if ":" in host else socket_module.AF_INET
        sock = socket_module.socket(family, socket_module.SOCK_DGRAM)
        sock.connect((host, int(port)))
    closers.insert(0, sock.close)
    return sock


def tracking_request() -> tuple[bytearray, int]:
    """The tracking request with a random sequence, and the sequence."""
    request = bytearray(TRACKING_LEN)
    request[0], request[1] = 6, 1
    struct.pack_into(">H", request, 4, 33)
    sequence = random.getrandbits(32)
    struct.pack_into(">I", request, 8, sequence)
    return request, sequence


def check_reply(reply: bytes, sequence: int) -> None:
    if len(reply) != TRACKING_LEN or struct.unpack_from(">BxxxxHHxxxxxxI", reply, 1) != (
        2,
        5,
        0,
        sequence,
    ):
        raise RuntimeError("not the tracking reply to this request")


def python_floor(
    transport: str, address: str, closers: list[Callable[[], object]]
) -> Callable[[], None]:
    """The raw socket floor paid from Python: a persistent datagram socket of the `socket`
    module, a hand-built request with a random sequence, one blocking `recv`, the sequence
    checked, no parsing. What any Python client pays at least (next to `floor.raw`, the same in
    Rust)."""
    sock = floor_socket(transport, address, closers)

    def round_trip() -> None:
        request, sequence = tracking_request()
        sock.send(request)
        check_reply(sock.recv(TRACKING_LEN + 16), sequence)

    return round_trip


def aio_cases(
    socket: str, udp: str, fleets: dict[str, list[str]], closers: list[Callable[[], object]]
) -> Cases:
    """pychrony.aio: ``aio.reused.*``, one ``await conn.get_tracking()`` on a reused
    AsyncChronyConnection (beside ``ours.reused.*``: the same call blocking), and
    ``floor.asyncio.*``, the raw socket floor paid in asyncio (``loop.sock_recv``), AIO_CALLS
    awaited one after another per sample inside one ``run_until_complete``; and for each fleet
    (``udp``: ``--many``, the daemons' loopback ports; ``lan``: ``--many-lan``, the same behind
    latency relays), every daemon's tracking one after another (blocking ChronyConnection) and at
    once (``asyncio.gather``)."""
    import asyncio

    from pychrony.aio import AsyncChronyConnection

    loop = asyncio.new_event_loop()
    closers.append(loop.close)
    result: Cases = []
    for transport, address in (("unix", socket), ("udp", udp)):
        conn = AsyncChronyConnection(address)
        loop.run_until_complete(conn.open())
        closers.insert(0, partial(loop.run_until_complete, conn.aclose()))

        async def calls(conn: AsyncChronyConnection = conn) -> None:
            for _ in range(AIO_CALLS):
                await conn.get_tracking()

        sock = floor_socket(transport, address, closers, "asyncio")
        sock.setblocking(False)

        async def floor(sock: socket_module.socket = sock) -> None:
            for _ in range(AIO_CALLS):
                request, sequence = tracking_request()
                await loop.sock_sendall(sock, request)
                check_reply(await loop.sock_recv(sock, TRACKING_LEN + 16), sequence)

        for case_id, label, run in (
            (f"floor.asyncio.{transport}", "raw socket in asyncio (sock_recv)", floor),
            (
                f"aio.reused.{transport}",
                "AsyncChronyConnection reused: await get_tracking()",
                calls,
            ),
        ):
            CALLS_PER_SAMPLE[case_id] = AIO_CALLS
            result.append((case_id, label, lambda run=run: loop.run_until_complete(run())))
    for transport, many in fleets.items():
        if many:
            result.extend(fleet_cases(loop, transport, many, closers))
    return result


def fleet_cases(
    loop: asyncio.AbstractEventLoop,
    transport: str,
    many: list[str],
    closers: list[Callable[[], object]],
) -> Cases:
    """``aiomany.sequential.TRANSPORT`` and ``aiomany.concurrent.TRANSPORT`` on the daemons
    `many`."""
    import asyncio

    from pychrony import ChronyConnection
    from pychrony.aio import AsyncChronyConnection

    blocking = [ChronyConnection(a) for a in many]
    concurrent = [AsyncChronyConnection(a) for a in many]
    for b, c in zip(blocking, concurrent, strict=True):
        b.open()
        closers.append(b.close)
        loop.run_until_complete(c.open())
        closers.insert(0, partial(loop.run_until_complete, c.aclose()))

    def sequential() -> None:
        for b in blocking:
            b.get_tracking()

    async def at_once() -> None:
        await asyncio.gather(*(c.get_tracking() for c in concurrent))

    return [
        (
            f"aiomany.sequential.{transport}",
            "every daemon: ChronyConnection, one after another",
            sequential,
        ),
        (
            f"aiomany.concurrent.{transport}",
            "every daemon: asyncio.gather of AsyncChronyConnection",
            lambda: loop.run_until_complete(at_once()),
        ),
    ]


def cases(impl: str, socket: str, udp: str, closers: list[Callable[[], object]]) -> Cases:
    """(id, label, call) per case; ids are `impl.api.transport`, as in the Rust runner. The
    reused connections' closers are appended to `closers` (the peer leaves its client socket
    directories behind unless its connection is closed)."""
    import pychrony
    from pychrony import ChronyConnection

    result: Cases = []
    if impl == "ours":
        for transport, address in (("unix", socket), ("udp", udp)):
            result.append(
                (
                    f"floor.python.{transport}",
                    "raw socket from Python (socket module)",
                    python_floor(transport, address, closers),
                )
            )
        from pychrony import get_tracking

        result.append(
            ("ours.get_tracking.unix", "pychrony.get_tracking(path)", lambda: get_tracking(socket))
        )
        for transport, address in (("unix", socket), ("udp", udp)):

            def open_close(address: str = address) -> None:
                with ChronyConnection(address) as c:
                    c.get_tracking()

            result.append(
                (
                    f"ours.open_close.{transport}",
                    "with ChronyConnection(addr) as c: c.get_tracking()",
                    open_close,
                )
            )
        for transport, address in (("unix", socket), ("udp", udp)):
            conn = ChronyConnection(address)
            conn.open()
            closers.append(conn.close)
            result.append(
                (
                    f"ours.reused.{transport}",
                    "ChronyConnection reused: get_tracking()",
                    conn.get_tracking,
                )
            )
            # Beside the Rust runner's core.sources.* (Connection::sources()).
            result.append(
                (
                    f"ours.sources.{transport}",
                    "ChronyConnection reused: get_sources()",
                    conn.get_sources,
                )
            )
        result.extend(exporter_scrape(socket, closers))
    else:
        version = getattr(pychrony, "__version__", "?")
        for transport, address in (("unix", socket), ("udp", udp)):

            def peer_open_close(address: str = address) -> None:
                with ChronyConnection(address) as c:
                    c.get_tracking()

            result.append(
                (
                    f"peer.open_close.{transport}",
                    f"pychrony {version}: with ChronyConnection(addr) as c: c.get_tracking()",
                    peer_open_close,
                )
            )
        for transport, address in (("unix", socket), ("udp", udp)):
            # The peer's connection is only usable inside its context manager: enter it once.
            conn = ChronyConnection(address)
            conn.__enter__()
            closers.append(partial(conn.__exit__, None, None, None))
            result.append(
                (
                    f"peer.reused.{transport}",
                    f"pychrony {version}: ChronyConnection reused: get_tracking()",
                    conn.get_tracking,
                )
            )
    return result


def exporter_scrape(socket: str, closers: list[Callable[[], object]]) -> Cases:
    """``exporter.scrape.unix``: what a running ``pychrony exporter`` does per scrape of the
    collectors tracking, sources and serverstats in the text format: ``scrape_text`` (the bytes of
    ``generate_latest``) of a registry holding one ChronyCollector, reused (its connection kept
    across scrapes). None without prometheus_client."""
    try:
        from prometheus_client import CollectorRegistry
    except ModuleNotFoundError:
        return []
    from pychrony._exporter import scrape_text
    from pychrony.prometheus import ChronyCollector

    collector = ChronyCollector(socket, collectors=["tracking", "sources", "serverstats"])
    registry = CollectorRegistry()
    registry.register(collector)
    closers.append(collector.close)  # the socket file next to chronyd's
    text = scrape_text(registry)
    if b"chrony_up 1.0" not in text:
        raise RuntimeError(f"the scrape did not read chronyd: {text[:300]!r}")
    return [
        (
            "exporter.scrape.unix",
            "scrape_text(registry): ChronyCollector tracking+sources+serverstats",
            partial(scrape_text, registry),
        )
    ]


def run(args: argparse.Namespace) -> None:
    closers: list[Callable[[], object]] = []
    todo = cases(args.impl, args.socket, args.udp, closers)
    if args.impl == "ours":
        fleets = {
            transport: [a for a in addresses.split(",") if a]
            for transport, addresses in (("udp", args.many), ("lan", args.many_lan))
        }
        todo.extend(aio_cases(args.socket, args.udp, fleets, closers))
    samples: dict[str, list[int]] = {case_id: [] for case_id, _, _ in todo}
    clock = time.perf_counter_ns
    for _, _, call in todo:  # warm up
        for _ in range(max(args.samples // 10, 20)):
            call()
    blocks = max(args.blocks, 1)
    for block in range(blocks):
        n = args.samples // blocks + (block < args.samples % blocks)
        for case_id, _, call in todo:  # the cases take turns, so load changes hit them alike
            for _ in range(5):
                call()
            out = samples[case_id]
            per = CALLS_PER_SAMPLE.get(case_id, 1)
            for _ in range(n):
                start = clock()
                call()
                out.append((clock() - start) // per)
    for close in closers:
        close()
    for case_id, label, _ in todo:
        print(f"  {case_id:<26} {label[:60]:<60} {statistics.median(samples[case_id]) / 1000:9.1f}")
    doc = {
        "runner": f"python-{args.impl}",
        "cases": [{"id": i, "label": label, "samples_ns": samples[i]} for i, label, _ in todo],
    }
    with open(args.json, "w") as f:
        json.dump(doc, f)


# ---- memory and startup: fresh interpreters ----------------------------------------------------

# Runs in a fresh `python -c`: nothing imported but what the measurement needs.
MEMORY_CHILD = """
import sys
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss()
import pychrony
after_import = rss()
api, address, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
if api == "get_tracking":
    for _ in range(calls):
        pychrony.get_tracking(address)
elif api == "reused":
    c = pychrony.ChronyConnection(address)
    c.__enter__()
    for _ in range(calls):
        c.get_tracking()
    c.__exit__(None, None, None)
else:
    for _ in range(calls):
        with pychrony.ChronyConnection(address) as c:
            c.get_tracking()
after_calls = rss()
print(before, after_import, after_calls)
"""

STARTUP_CHILD = {
    "ours": "import time; t = time.perf_counter(); import pychrony; "
    "pychrony.get_tracking({path!r}); "
    "print(time.perf_counter() - t)",
    "peer": "import time; t = time.perf_counter(); import pychrony\n"
    "with pychrony.ChronyConnection({path!r}) as c: c.get_tracking()\n"
    "print(time.perf_counter() - t)",
    "python": "import time; t = time.perf_counter(); print(time.perf_counter() - t)",
}


def memory(args: argparse.Namespace) -> None:
    results = []
    apis = ["get_tracking", "reused"] if args.impl == "ours" else ["reused"]
    for api in apis:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, api, args.socket, str(args.calls)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        before, after_import, after_calls = (int(x) for x in out.split())
        results.append(
            {
                "impl": args.impl,
                "api": api,
                "calls": args.calls,
                "rss_kib_start": before,
                "rss_kib_after_import": after_import,
                "rss_kib_after_calls": after_calls,
            }
        )
        print(
            f"  {args.impl} {api:<13} RSS KiB: start {before}, after import {after_import}, "
            f"after {args.calls} calls {after_calls}"
        )
    with open(args.json, "w") as f:
        json.dump(results, f)


def instructions(code: str) -> int:
    """Instructions the whole `python -c CODE` process executes (valgrind's callgrind): unlike
    times, this does not depend on the machine's load."""
    out_file = f"/tmp/pychrony-bench-callgrind.{os.getpid()}.out"
    try:
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out_file}",
                sys.executable,
                "-c",
                code,
            ],
            check=True,
            capture_output=True,
        )
        with open(out_file) as f:
            for line in f:
                if line.startswith("summary:"):
                    return int(line.split()[1])
    finally:
        if os.path.exists(out_file):
            os.unlink(out_file)
    raise RuntimeError("no summary line in callgrind's output")


def startup(args: argparse.Namespace) -> None:
    results: dict[str, Any] = {}
    for kind in ("python", args.impl) if args.impl == "ours" else (args.impl,):
        code = STARTUP_CHILD[kind].format(path=args.socket)
        inside, whole = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
            whole.append(time.perf_counter() - start)
            inside.append(float(out))
        key = "bare_python" if kind == "python" else args.impl
        results[key] = {
            "repeat": args.repeat,
            "code": code,
            "import_first_call_s": inside,
            "process_s": whole,
        }
        if args.callgrind:
            results[key]["process_instructions"] = instructions(code)
        print(
            f"  {key:<12} import + first call {statistics.median(inside) * 1e3:7.2f} ms, "
            f"whole process {statistics.median(whole) * 1e3:7.2f} ms (medians of {args.repeat})"
            + (
                f", {results[key]['process_instructions'] / 1e6:.1f} M instructions"
                if args.callgrind
                else ""
            )
        )
    with open(args.json, "w") as f:
        json.dump(results, f)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "memory", "startup"])
    parser.add_argument("--impl", choices=["ours", "peer"], required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--udp", default="")
    # The many daemons' UDP addresses, comma-separated (the asyncio many-daemon cases).
    parser.add_argument("--many", default="")
    # The same daemons behind latency relays (the ``.lan`` cases).
    parser.add_argument("--many-lan", default="")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="startup: also count instructions with valgrind's callgrind",
    )
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    {"run": run, "memory": memory, "startup": startup}[args.command](args)


if __name__ == "__main__":
    main()

"""pychrony.aio against real chronyd: every report and the snapshot as the blocking calls give
them on the same daemon, the fault matrix (missing, refused, permission, frozen, restarted),
cancellation, concurrent calls on one connection, many daemons at once, and nothing left behind.

Each test runs its coroutines twice, with asyncio.run (the default loop) and with uvloop.run
(uvloop is one of the ci venv's pins): pychrony.aio needs only add_reader and call_later, and
both loops must drive it alike. No pytest plugin is needed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pychrony
import pychrony.aio as aio
import pytest
import uvloop
from conftest import Daemon, kill_9, run_as_nobody, start_daemon
from pychrony import ChronyConnection, ChronyConnectionError, ChronyError
from test_faults import free_udp_port
from test_snapshot import ATTEMPTS, static_of_single_reads, static_of_snapshot

# What each report says that does not move while the daemon is stable (as test_snapshot's
# `static`); serverstats' counters move with every request, so only its type.
STATIC: dict[str, Callable[[Any], object]] = {
    "get_tracking": lambda t: (t.reference_id, t.reference_id_name, t.stratum, t.reference_ip),
    "get_sources": lambda v: [(s.address, s.mode, s.state, s.stratum, s.reference_id) for s in v],
    "get_source_stats": lambda v: [(s.address, s.reference_id) for s in v],
    "get_select_data": lambda v: [
        (s.address, s.reference_id, s.state, s.configured_options, s.effective_options) for s in v
    ],
    "get_all_ntp_data": lambda v: [(d.remote_address, d.remote_port, d.version, d.mode) for d in v],
    "get_auth_data": lambda v: v,
    "get_source_names": lambda v: v,
    "get_activity": lambda v: v,
    "get_smoothing": lambda v: v and (v.active, v.leap_only),
    "get_rtc_data": lambda v: v,
    "get_server_stats": lambda v: type(v).__name__,
    "get_clients": lambda v: v and sorted(c.address for c in v),
}
NTP_STATIC: Callable[[Any], object] = lambda d: d and (d.remote_address, d.version, d.mode)  # noqa: E731

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]
# The event loops each test runs on, by module: asyncio's default and uvloop (libuv underneath:
# its own clock, its own fd watching), each with its module's `run`.
LOOPS: dict[str, Run[Any]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.fixture(params=list(LOOPS))
def loop(request: pytest.FixtureRequest) -> str:
    """The name of the loop's module, each in turn."""
    name: str = request.param
    return name


@pytest.fixture
def run(loop: str) -> Run[Any]:
    """Runs a test's main coroutine to completion on a new loop of that kind (and checks that it
    is that kind: a policy set elsewhere must not make both runs the same)."""

    async def on_the_loop(main: Coroutine[Any, Any, T]) -> T:
        running = type(asyncio.get_running_loop()).__module__
        assert running.partition(".")[0] == loop, running
        return await main

    return lambda main: LOOPS[loop](on_the_loop(main))


def outcome(call: Callable[[], Any], static: Callable[[Any], object]) -> object:
    """A call's static value, or its error's class and code (a report refused over UDP)."""
    try:
        return static(call())
    except ChronyError as e:
        return ("raised", type(e).__name__, e.error_code)


async def aoutcome(call: Awaitable[Any], static: Callable[[Any], object]) -> object:
    try:
        return static(await call)
    except ChronyError as e:
        return ("raised", type(e).__name__, e.error_code)


def blocking_round(conn: ChronyConnection) -> list[object]:
    rows = [outcome(getattr(conn, name), static) for name, static in STATIC.items()]
    return [*rows, outcome(lambda: conn.get_ntp_data("127.0.0.1"), NTP_STATIC)]


async def async_round(conn: aio.AsyncChronyConnection) -> list[object]:
    rows = [await aoutcome(getattr(conn, name)(), static) for name, static in STATIC.items()]
    return [*rows, await aoutcome(conn.get_ntp_data("127.0.0.1"), NTP_STATIC)]


async def functions_round(socket: str) -> list[object]:
    rows = [await aoutcome(getattr(aio, name)(socket), static) for name, static in STATIC.items()]
    return [*rows, await aoutcome(aio.get_ntp_data("127.0.0.1", socket), NTP_STATIC)]


def expect_code(code: int, exc: BaseException | None) -> ChronyError:
    assert isinstance(exc, ChronyError), repr(exc)
    assert exc.error_code == code, str(exc)
    assert str(exc) == f"{exc.message} (error code: {code})"
    return exc


async def failure(call: Awaitable[Any]) -> BaseException | None:
    try:
        await call
    except ChronyError as e:
        return e
    return None


# --- the same answers as the blocking calls ------------------------------------------------------


@pytest.mark.parametrize("over", ["unix", "udp", "functions"])
def test_every_report_equals_the_blocking_call(sources: Daemon, over: str, run: Run[Any]) -> None:
    address = sources.udp_v4 if over == "udp" else sources.socket

    async def main(blocking: ChronyConnection) -> list[object]:
        async with aio.AsyncChronyConnection(address) as conn:
            for _ in range(ATTEMPTS):
                before = blocking_round(blocking)
                if over == "functions":
                    seen = await functions_round(address)
                else:
                    seen = await async_round(conn)
                if blocking_round(blocking) == before:
                    assert seen == before
                    return seen
        pytest.fail("the daemon never stood still between two rounds of blocking reads")

    with ChronyConnection(address) as blocking:
        seen = run(main(blocking))
    if over == "udp":
        # Over UDP chronyd refuses some reports: the same -3 as the blocking call.
        assert ("raised", "ChronyPermissionError", -3) in seen
    else:
        assert not [row for row in seen if isinstance(row, tuple) and row[0] == "raised"]


@pytest.mark.parametrize("over", ["unix", "udp"])
def test_an_unsynchronised_tracking_is_exactly_the_blocking_one(
    unsynced: Daemon, over: str, run: Run[Any]
) -> None:
    address = unsynced.udp_v4 if over == "udp" else unsynced.socket

    async def main() -> list[pychrony.TrackingStatus]:
        async with aio.AsyncChronyConnection(address) as conn:
            return [await conn.get_tracking(), await aio.get_tracking(unsynced.socket)]

    with ChronyConnection(address) as blocking:
        expected = blocking.get_tracking()
    assert run(main()) == [expected, expected]


def test_the_snapshot_equals_the_blocking_reads(sources: Daemon, run: Run[Any]) -> None:
    async def main(blocking: ChronyConnection) -> pychrony.Snapshot:
        async with aio.AsyncChronyConnection(sources.socket) as conn:
            for _ in range(ATTEMPTS):
                before = static_of_single_reads(blocking)
                snapshot = await conn.get_snapshot()
                function = await aio.get_snapshot(sources.socket)
                if static_of_single_reads(blocking) == before:
                    assert static_of_snapshot(snapshot) == before
                    assert static_of_snapshot(function) == before
                    return snapshot
        pytest.fail("the daemon never stood still between two rounds of blocking reads")

    with ChronyConnection(sources.socket) as blocking:
        snapshot = run(main(blocking))
    assert not snapshot.errors


def test_over_udp_the_snapshot_s_refused_parts_are_the_blocking_ones(
    sources: Daemon, run: Run[Any]
) -> None:
    def errors(s: pychrony.Snapshot) -> list[object]:
        codes = lambda e: {k: (type(v).__name__, v.error_code) for k, v in e.items()}  # noqa: E731
        return [codes(s.errors), *[(p.source.address, codes(p.errors)) for p in s.sources or []]]

    async def main() -> pychrony.Snapshot:
        async with aio.AsyncChronyConnection(sources.udp_v4) as conn:
            return await conn.get_snapshot(parts=["tracking", "server_stats", "select"])

    with ChronyConnection(sources.udp_v4) as blocking:
        expected = blocking.get_snapshot(parts=["tracking", "server_stats", "select"])
    seen = run(main())
    assert errors(seen) == errors(expected)
    assert seen.errors["server_stats"].error_code == -3


def test_arguments_are_checked_as_the_blocking_calls_check_them(run: Run[Any]) -> None:
    async def main() -> None:
        with pytest.raises(ValueError):
            await aio.get_tracking(timeout=0)
        with pytest.raises(TypeError):
            await aio.get_tracking(timeout=True)
        with pytest.raises(TypeError):
            await aio.get_sources(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await aio.get_ntp_data(1)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await aio.get_ntp_data("not an address", "/nonexistent/chronyd.sock")
        with pytest.raises(ValueError):
            await aio.get_snapshot("/nonexistent/chronyd.sock", parts=["nope"])
        with pytest.raises(TypeError):
            await aio.get_snapshot("/nonexistent/chronyd.sock", parts="tracking")
        with pytest.raises(ValueError):
            aio.AsyncChronyConnection(timeout=float("nan"))

    run(main())


def test_every_blocking_function_and_method_has_its_coroutine() -> None:
    for name in pychrony._api.__all__:
        if name.startswith("get_"):
            assert asyncio.iscoroutinefunction(getattr(aio, name)), name
    for name in dir(ChronyConnection):
        if name.startswith("get_"):
            method = getattr(aio.AsyncChronyConnection, name)
            assert asyncio.iscoroutinefunction(method), name


# --- faults --------------------------------------------------------------------------------------


def test_a_missing_socket_is_not_found(tmp_path: Path, run: Run[Any]) -> None:
    missing = str(tmp_path / "chronyd.sock")

    async def main() -> list[BaseException | None]:
        return [
            await failure(aio.get_tracking(missing, timeout=1.0)),
            await failure(aio.AsyncChronyConnection(missing, timeout=1.0).get_sources()),
            await failure(aio.AsyncChronyConnection("not an address").get_tracking()),
        ]

    for err in run(main()):
        expect_code(-2, err)
    assert os.listdir(tmp_path) == []


def test_a_stale_socket_and_a_silent_udp_port_are_refused(fresh: Daemon, run: Run[Any]) -> None:
    kill_9(fresh)
    assert os.path.exists(fresh.socket), "SIGKILL should leave the socket file"
    files = sorted(os.listdir(fresh.dir))

    async def main() -> list[BaseException | None]:
        return [
            await failure(aio.get_tracking(fresh.socket, timeout=1.0)),
            await failure(aio.AsyncChronyConnection(fresh.socket).get_snapshot()),
            await failure(aio.AsyncChronyConnection(f"127.0.0.1:{free_udp_port()}").get_tracking()),
        ]

    for err in run(main()):
        expect_code(-1, err)
    assert sorted(os.listdir(fresh.dir)) == files, "client files left behind"


def test_the_unix_socket_as_nobody_is_a_permission_error(
    as_nobody: list[str], synced: Daemon, loop: str
) -> None:
    proc = run_as_nobody(
        as_nobody,
        f"""
        import asyncio, os, uvloop
        import pychrony.aio as aio
        from pychrony import ChronyPermissionError
        assert os.geteuid() != 0
        async def main():
            try:
                await aio.get_tracking({synced.socket!r}, timeout=2.0)
            except ChronyPermissionError as e:
                print(e.error_code, type(e.__cause__).__name__)
            async with aio.AsyncChronyConnection({synced.udp_v4!r}) as conn:
                print((await conn.get_tracking()).stratum)
        {loop}.run(main())
        """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split("\n")[:2] == ["-3 PermissionError", "2"]


@pytest.mark.parametrize("over", ["unix", "udp"])
def test_a_frozen_chronyd_times_out_while_the_loop_runs_on(
    frozen: Daemon, synced: Daemon, over: str, run: Run[Any]
) -> None:
    timeout = 0.5
    address = frozen.udp_v4 if over == "udp" else frozen.socket

    async def main() -> tuple[BaseException | None, float, list[float]]:
        done = asyncio.Event()
        answered: list[float] = []

        async def other() -> None:
            async with aio.AsyncChronyConnection(synced.socket) as conn:
                while not done.is_set():
                    assert (await conn.get_tracking()).stratum == 2
                    answered.append(time.monotonic())

        task = asyncio.create_task(other())
        start = time.monotonic()
        async with aio.AsyncChronyConnection(address, timeout=timeout) as conn:
            err = await failure(conn.get_tracking())
        elapsed = time.monotonic() - start
        done.set()
        await task
        return err, elapsed, [t - start for t in answered]

    err, elapsed, answered = run(main())
    expect_code(-6, err)
    assert timeout <= elapsed < timeout + 0.2, elapsed
    # Another task's calls were answered while this one waited for the frozen chronyd.
    assert [t for t in answered if t < timeout], answered


def test_a_restarted_chronyd_is_read_again(restartable: Path, run: Run[Any]) -> None:
    daemon = start_daemon("start", directory=restartable)

    async def main() -> list[object]:
        async with aio.AsyncChronyConnection(daemon.socket, timeout=1.0) as conn:
            first = (await conn.get_tracking()).stratum
            daemon.stop()
            down = await failure(conn.get_tracking())
            again = start_daemon("start", directory=restartable)
            assert again.socket == daemon.socket and again.pid != daemon.pid
            status = await conn.get_tracking()
            snapshot = await conn.get_snapshot(parts=["tracking"])
            again.stop()
            return [first, down, status, snapshot]

    first, down, status, snapshot = run(main())
    assert first == 2
    assert isinstance(down, ChronyConnectionError) and down.error_code in (-1, -2), down
    assert isinstance(status, pychrony.TrackingStatus) and status.stratum == 2
    assert isinstance(snapshot, pychrony.Snapshot) and not snapshot.errors


def test_a_cancelled_call_sends_nothing_more_and_its_late_reply_is_dropped(
    fresh: Daemon, run: Run[Any]
) -> None:
    with ChronyConnection(fresh.socket) as blocking:
        # Each blocking serverstats read counts itself: the step between two of them.
        hits = [blocking.get_server_stats().cmd_hits for _ in range(2)]
        step = hits[1] - hits[0]

        async def main() -> tuple[pychrony.TrackingStatus, int]:
            async with aio.AsyncChronyConnection(fresh.socket, timeout=5.0) as conn:
                fresh.freeze()
                try:
                    task = asyncio.create_task(conn.get_server_stats())
                    await asyncio.sleep(0.3)
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    assert task.cancelled()
                    # Past the 1 s resend the call would have made.
                    await asyncio.sleep(1.5)
                finally:
                    fresh.thaw()
                # chronyd answers in order: this reply comes after the cancelled request's.
                after = blocking.get_server_stats().cmd_hits
                # Its late serverstats reply waits on the connection's socket: the next call
                # must drop it and return its own answer.
                return await conn.get_tracking(), after

        status, after = run(main())
        expected = blocking.get_tracking()
    assert after - hits[1] == step + 1, "the cancelled call sent more than its one request"
    assert STATIC["get_tracking"](status) == STATIC["get_tracking"](expected)


def test_concurrent_calls_on_one_connection_take_turns(sources: Daemon, run: Run[Any]) -> None:
    async def main(expected: list[object]) -> None:
        async with aio.AsyncChronyConnection(sources.socket) as conn:
            for _ in range(ATTEMPTS):
                rounds = await asyncio.gather(*(async_round(conn) for _ in range(4)))
                tracking = await asyncio.gather(*(conn.get_tracking() for _ in range(20)))
                if all(r == expected for r in rounds):
                    assert {STATIC["get_tracking"](t) for t in tracking} == {expected[0]}
                    return
        pytest.fail("the daemon never stood still")

    with ChronyConnection(sources.socket) as blocking:
        run(main(blocking_round(blocking)))


@pytest.fixture(scope="module")
def fleet() -> Iterator[list[Daemon]]:
    """Eight unsynchronised chronyd (every value static), for polling many at once."""
    daemons: list[Daemon] = []
    try:
        for _ in range(8):
            daemons.append(start_daemon("start-unsync"))
        yield daemons
    finally:
        for daemon in daemons:
            daemon.stop()


def test_many_daemons_at_once_with_one_frozen(
    fleet: list[Daemon], frozen: Daemon, run: Run[Any]
) -> None:
    timeout = 1.0
    addresses = [d.udp_v4 for d in fleet] + [frozen.udp_v4] + [d.socket for d in fleet]
    expected = []
    for address in addresses:
        if address == frozen.udp_v4:
            expected.append(None)
            continue
        with ChronyConnection(address) as blocking:
            expected.append(blocking.get_tracking())

    async def poll(address: str) -> pychrony.TrackingStatus | BaseException | None:
        async with aio.AsyncChronyConnection(address, timeout=timeout) as conn:
            return await failure(conn.get_tracking()) or await conn.get_tracking()

    async def main() -> tuple[list[Any], float]:
        start = time.monotonic()
        results = await asyncio.gather(*(poll(a) for a in addresses))
        return results, time.monotonic() - start

    results, elapsed = run(main())
    for address, result, want in zip(addresses, results, expected, strict=True):
        if want is None:
            expect_code(-6, result)
        else:
            assert result == want, address
    # The frozen one costs its own deadline; nobody waits for it longer.
    assert timeout <= elapsed < timeout + 0.3, elapsed


def test_thousands_of_calls_leave_no_fd_or_file(
    synced: Daemon, frozen: Daemon, run: Run[Any]
) -> None:
    socket_dir = os.path.dirname(synced.socket)

    def census() -> tuple[int, list[str]]:
        return len(os.listdir("/proc/self/fd")), sorted(os.listdir(socket_dir))

    async def main() -> None:
        async with aio.AsyncChronyConnection(synced.socket) as conn:
            for _ in range(2000):
                await conn.get_tracking()
        for _ in range(500):
            await aio.get_activity(synced.socket)
        await asyncio.gather(*(aio.get_tracking(synced.socket) for _ in range(200)))
        # Cancelled calls and timeouts too.
        async with aio.AsyncChronyConnection(frozen.socket, timeout=0.2) as conn:
            for _ in range(20):
                task = asyncio.create_task(conn.get_sources())
                await asyncio.sleep(0)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            expect_code(-6, await failure(conn.get_tracking()))

    # What the loop's first run in this process makes and keeps for good (uvloop: libuv's signal
    # pipe, 2 fds) is made before the census: the test run alone counts as it does in the suite.
    run(asyncio.sleep(0))
    before = census()
    run(main())
    assert census() == before

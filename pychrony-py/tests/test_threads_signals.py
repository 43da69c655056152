"""The interpreter is released while a call waits, and Ctrl-C interrupts a waiting call."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import Daemon
from pychrony import ChronyConnection, ChronyConnectionError, get_tracking


def test_other_threads_run_while_a_call_waits(frozen: Daemon) -> None:
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            get_tracking(frozen.socket, timeout=1.5)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.1)  # let the worker enter the native call
    spins = 0
    start = time.monotonic()
    while time.monotonic() - start < 0.5:
        spins += 1
    still_waiting = worker.is_alive()
    worker.join(5)
    # If the worker held the interpreter, this loop could only have run after its call ended.
    assert still_waiting, "the waiting call did not let this thread run"
    assert spins > 10_000, spins
    assert len(outcome) == 1 and isinstance(outcome[0], ChronyConnectionError)
    assert outcome[0].error_code == -6


def test_threads_share_a_connection(synced: Daemon) -> None:
    results: list[object] = []
    with ChronyConnection(synced.socket) as conn:

        def poll() -> None:
            for _ in range(20):
                results.append(conn.get_tracking())

        threads = [threading.Thread(target=poll) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert len(results) == 80
    assert all(getattr(r, "stratum", None) == 2 for r in results)


def test_threads_each_with_get_tracking(synced: Daemon) -> None:
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            for _ in range(20):
                assert get_tracking(synced.socket).stratum == 2
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


@pytest.fixture
def sigint_default() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupt_after(delay: float, sent: list[float]) -> threading.Timer:
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        sent.append(time.monotonic())
        signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(delay, fire)
    timer.start()
    return timer


@pytest.mark.usefixtures("sigint_default")
@pytest.mark.parametrize("transport", ["unix", "udp", "connection-unix"])
def test_ctrl_c_interrupts_a_waiting_call(frozen: Daemon, transport: str) -> None:
    call: Callable[[], object]
    conn: ChronyConnection | None = None
    if transport == "unix":
        call = lambda: get_tracking(frozen.socket, timeout=10.0)  # noqa: E731
    else:
        address = frozen.udp_v4 if transport == "udp" else frozen.socket
        conn = ChronyConnection(address, timeout=10.0)
        conn.open()
        call = conn.get_tracking
    sent: list[float] = []
    timer = interrupt_after(0.3, sent)
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
        caught = time.monotonic()
    finally:
        timer.cancel()
        if conn is not None:
            conn.close()
    assert sent, "the timer did not fire"
    latency = caught - sent[0]
    assert 0 <= latency < 0.2, latency


@pytest.mark.usefixtures("sigint_default")
def test_ctrl_c_via_os_kill_to_the_process(frozen: Daemon) -> None:
    sent: list[float] = []

    def fire() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, fire)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            get_tracking(frozen.socket, timeout=10.0)
        caught = time.monotonic()
    finally:
        timer.cancel()
    assert caught - sent[0] < 0.2


def test_a_signal_handler_exception_propagates(frozen: Daemon) -> None:
    class Custom(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Custom("from the handler")

    previous = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGUSR1))
    timer.start()
    try:
        with pytest.raises(Custom):
            get_tracking(frozen.socket, timeout=5.0)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)

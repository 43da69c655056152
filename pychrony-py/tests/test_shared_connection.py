"""One ChronyConnection used by a signal handler during its own call, closed by another thread
while a call waits, or inherited by fork() while another thread is inside a call: nothing hangs
and no ValueError escapes.

The scenarios that used to hang run in a child process with a hard deadline, so a regression
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest
from conftest import Daemon
from fake_chronyd import fake_chronyd, reply, tracking_data
from pychrony import ChronyConnection, ChronyConnectionError, ChronyError, TrackingStatus

TESTS = Path(__file__).resolve().parent


def answer_all_but_the_first() -> tuple[object, list[bytes]]:
    """A fake chronyd that never answers the first request and answers every later one."""
    seen: list[bytes] = []

    def answer(request: bytes) -> bytes | None:
        seen.append(request)
        if len(seen) == 1:
            return None
        return reply(request, data=tracking_data(stratum=4))

    return answer, seen


def call_in_a_thread(conn: ChronyConnection) -> tuple[threading.Thread, list[BaseException]]:
    """Starts `conn.get_tracking()` in a thread; the list receives what it raised."""
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            conn.get_tracking()
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    return worker, outcome


def run_isolated(code: str, deadline: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter (the installed pychrony, the tests' helpers on the
    path); fails the test if it does not finish within `deadline` seconds."""
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=deadline,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"hung for {deadline} s:\n{exc.stdout!r}\n{exc.stderr!r}")


def test_signal_handler_that_closes_the_connection_during_its_call() -> None:
    # The call waits on a silent UDP port; SIGALRM's handler closes the connection.
    proc = run_isolated(
        """
        import signal, socket, time
        from pychrony import ChronyConnection, ChronyConnectionError

        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        conn = ChronyConnection(f"127.0.0.1:{silent.getsockname()[1]}", timeout=5.0)
        signal.signal(signal.SIGALRM, lambda *_: conn.close())
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        start = time.monotonic()
        try:
            conn.get_tracking()
        except ChronyConnectionError as e:
            print("raised", e.error_code, round(time.monotonic() - start, 1), "closed" in str(e))
        print("closed", conn.closed)
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    code, seconds, says_closed = lines[0].split()[1:]
    assert code == "-1" and says_closed == "True", proc.stdout
    assert float(seconds) < 1.0, "stopped by close(), not by the 5 s timeout"
    assert lines[1] == "closed True"


def test_signal_handler_that_queries_the_connection_during_its_call() -> None:
    # The first request is never answered; the handler's own call is (a connection of its own).
    proc = run_isolated(
        """
        import signal, time
        from fake_chronyd import fake_chronyd, reply, tracking_data
        from pychrony import ChronyConnection, ChronyConnectionError

        seen = []
        def answer(request):
            seen.append(request)
            return None if len(seen) == 1 else reply(request, data=tracking_data(stratum=4))

        with fake_chronyd(answer) as address:
            conn = ChronyConnection(address, timeout=1.0)
            got = []
            signal.signal(signal.SIGALRM, lambda *_: got.append(conn.get_tracking().stratum))
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            try:
                conn.get_tracking()
            except ChronyConnectionError as e:
                print("outer", e.error_code)
            print("handler", got)
            print("after", conn.get_tracking().stratum)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["outer -6", "handler [4]", "after 4"], proc.stdout


def test_close_from_another_thread_stops_a_waiting_call() -> None:
    answer, _ = answer_all_but_the_first()
    with fake_chronyd(answer) as address:
        conn = ChronyConnection(address, timeout=5.0)
        conn.open()
        worker, outcome = call_in_a_thread(conn)
        time.sleep(0.3)
        start = time.monotonic()
        conn.close()
        took = time.monotonic() - start
        worker.join(5)
        assert not worker.is_alive()
        assert took < 0.5, "close() interrupts the call within its 100 ms slices"
        assert len(outcome) == 1 and isinstance(outcome[0], ChronyConnectionError), outcome
        assert outcome[0].error_code == -1
        assert "was closed while this call waited" in str(outcome[0])
        assert conn.closed
        assert conn.get_tracking().stratum == 4, "a later call opens a new socket"
        conn.close()


def own_client_dirs(daemon: Daemon) -> set[str]:
    return {n for n in os.listdir(daemon.dir) if n.startswith(f"chrony-core.{os.getpid()}.")}


def test_close_racing_with_calls_never_raises_valueerror(synced: Daemon) -> None:
    before = own_client_dirs(synced)  # the one-call API's pooled sockets of earlier tests
    conn = ChronyConnection(synced.socket, timeout=2.0)
    unexpected: list[BaseException] = []
    stop = threading.Event()
    answered = 0

    def poll() -> None:
        nonlocal answered
        while not stop.is_set():
            try:
                status = conn.get_tracking()
            except ChronyConnectionError as exc:
                if exc.error_code != -1:
                    unexpected.append(exc)
            except BaseException as exc:
                unexpected.append(exc)
            else:
                assert isinstance(status, TrackingStatus)
                answered += 1

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for t in threads:
        t.start()
    # Until both sides did enough, however slow the machine is (a load-bound count of closes in
    # fixed seconds failed on a busy 2-core machine); the deadline only stops a hang.
    deadline = time.monotonic() + 120.0
    closes = 0
    while (closes <= 1000 or answered <= 100) and time.monotonic() < deadline:
        conn.close()
        closes += 1
        time.sleep(0.0005)
    stop.set()
    for t in threads:
        t.join(10)
    conn.close()
    assert unexpected == []
    assert answered > 100 and closes > 1000, (answered, closes)
    assert own_client_dirs(synced) == before, "every socket opened between the closes is removed"


def test_fork_while_another_thread_is_inside_a_call() -> None:
    answer, seen = answer_all_but_the_first()
    with fake_chronyd(answer) as address:
        # Under 1 s: the worker's call ends without a resend, which would be answered.
        conn = ChronyConnection(address, timeout=0.9)
        conn.open()
        worker, outcome = call_in_a_thread(conn)
        while not seen:  # the worker's request reached the fake: it is inside the call
            time.sleep(0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads (3.12+)
            pid = os.fork()
        if pid == 0:  # the child: only this thread exists; the worker's call is the parent's
            code = 1
            try:
                code = 0 if conn.get_tracking().stratum == 4 else 3
            finally:
                os._exit(code)
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child's call hung")
        worker.join(10)
        conn.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(outcome) == 1 and isinstance(outcome[0], ChronyError), outcome
    assert outcome[0].error_code == -6, "the parent's call went on undisturbed"

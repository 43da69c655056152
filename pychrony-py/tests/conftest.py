"""Shared fixtures: real chronyd daemons started with `cargo xtask chronyd`, and chronyc as the
reference client (the one the fixture reports as CHRONYC, so installed and unpacked chrony alike).

These tests run against the *installed* pychrony (see run.sh): nothing here adds the source tree
to sys.path, and test_install.py checks that the package comes from site-packages.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pychrony
import pytest
from exporter_process import Exporter

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def xtask_command() -> list[str]:
    """The xtask binary: $XTASK_BIN when set, else `cargo xtask` run from the repo root."""
    binary = os.environ.get("XTASK_BIN")
    return [binary] if binary else ["cargo", "xtask"]


def run_xtask(*args: str) -> dict[str, str]:
    """Runs `xtask chronyd ARGS...` and returns its KEY=VALUE lines."""
    proc = subprocess.run(
        [*xtask_command(), "chronyd", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"xtask chronyd {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    values: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isupper():
            values[key] = value
    return values


@dataclass
class Daemon:
    """One fixture chronyd: its directory, unix socket, UDP command addresses and pid."""

    dir: Path
    socket: str
    udp_v4: str
    udp_v6: str
    pid: int
    info: dict[str, str] = field(default_factory=dict)
    stopped: bool = False
    owns_dir: bool = True

    def unresolved_names(self) -> list[str]:
        """The sources configured by a name that never resolves (the fixture's UNRESOLVED_NAMES:
        in mode "sources" as root, where the daemon looks names up in /etc/hosts only)."""
        names = self.info.get("UNRESOLVED_NAMES", "")
        return names.split(",") if names else []

    def source_addresses(self) -> list[str]:
        """The sources of mode "sources" as chronyc -n -a names them, in chronyd's order: the
        unresolved ones last, as `ID#` and their number in 10 digits."""
        unresolved = [f"ID#{i:010d}" for i in range(1, len(self.unresolved_names()) + 1)]
        return ["GPS", "NONE", "127.0.0.1", "127.0.0.2", "127.0.0.3", *unresolved]

    def chronyc(self, *args: str, udp: bool = False, address: str | None = None) -> str:
        """Runs the fixture's chronyc (CHRONYC: installed, or unpacked under target/chrony)
        against this daemon (or the UDP `address` host:port, e.g. a scripted one) and returns its
        output; fails unless chronyc exits with 0."""
        proc = self.chronyc_process(*args, udp=udp, address=address)
        proc.check_returncode()
        return proc.stdout

    def chronyc_process(
        self, *args: str, udp: bool = False, address: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`chronyc` as above, whatever its exit status (for answers chronyc reports as failed)."""
        if address is not None:
            host, port = split_host_port(address)
            target = ["-h", host, "-p", port]
        else:
            target = self.udp_target() if udp else ["-h", self.socket]
        env = dict(os.environ)
        if self.info["CHRONY_LIBRARY_PATH"]:
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                p for p in [self.info["CHRONY_LIBRARY_PATH"], env.get("LD_LIBRARY_PATH", "")] if p
            )
        return subprocess.run(
            [self.info["CHRONYC"], *target, *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )

    def server(self) -> Daemon:
        """The NTP server this daemon polls (modes synced, sources and nts: SERVER_SOCKET, its unix
        command socket; it has no UDP command port), for chronyc and pychrony like this one. It
        belongs to this daemon, which stops it: stopping the returned value does nothing."""
        return dataclasses.replace(
            self,
            socket=self.info["SERVER_SOCKET"],
            udp_v4="",
            udp_v6="",
            pid=int(self.info["SERVER_PID"]),
            stopped=True,
            owns_dir=False,
        )

    def udp_target(self) -> list[str]:
        host, port = split_host_port(self.udp_v4)
        return ["-h", host, "-p", port]

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        try:
            os.kill(self.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.thaw()
        run_xtask("stop", str(self.dir))
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def split_host_port(address: str) -> tuple[str, str]:
    """'127.0.0.1:323' → ('127.0.0.1', '323'); '[::1]:323' → ('::1', '323')."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def start_daemon(command: str = "start", *options: str, directory: Path | None = None) -> Daemon:
    """`xtask chronyd COMMAND [OPTIONS] DIR`, e.g. ("start", "--mode", "refclock"). DIR: a new one
    under /tmp, removed by `stop()`, or `directory` (kept)."""
    owns_dir = directory is None
    if directory is None:
        # Short directory: chronyd and its clients bind sockets inside it (sun_path is 108 bytes).
        directory = Path(tempfile.mkdtemp(prefix="chr.", dir="/tmp"))
    try:
        info = run_xtask(command, *options, str(directory))
    except BaseException:
        if owns_dir:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return Daemon(
        owns_dir=owns_dir,
        dir=directory,
        socket=info["SOCKET"],
        udp_v4=info["UDP_V4"],
        udp_v6=info.get("UDP_V6", ""),
        pid=int(info["PID"]),
        info=info,
    )


def stop_fixture_in(directory: Path) -> None:
    """Stops whatever fixture still runs in `directory` and removes it."""
    subprocess.run(
        [*xtask_command(), "chronyd", "stop", str(directory)],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=300,
    )
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def restartable() -> Iterator[Path]:
    """A directory of the test's own for `start_daemon(directory=...)`, so that a chronyd started
    again there has the same socket path (short: sun_path); whatever still runs there is stopped
    at the end."""
    directory = Path(tempfile.mkdtemp(prefix="chr.", dir="/tmp"))
    yield directory
    stop_fixture_in(directory)


def kill_9(daemon: Daemon) -> None:
    """SIGKILLs the daemon's chronyd and waits until it is gone: its socket file stays behind."""
    os.kill(daemon.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while runs(daemon.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not runs(daemon.pid), f"chronyd {daemon.pid} still runs"


def runs(pid: int) -> bool:
    """Whether the process runs: a zombie does not. Its parent (the fixture's daemonised chronyd is
    an orphan) may be a pid 1 that reaps late, as in `cargo xtask fresh`'s pid namespace."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.fixture
def exporter_of() -> Iterator[type[Exporter]]:
    """Starts `pychrony exporter` processes (Exporter's arguments); each is killed at the end."""
    started: list[Exporter] = []

    class Started(Exporter):
        def __init__(self, *args: str, **options: Any) -> None:
            super().__init__(*args, **options)
            started.append(self)

    yield Started
    for e in started:
        e.close()


@pytest.fixture(scope="session")
def synced() -> Iterator[Daemon]:
    """A synchronised chronyd (refid 7F000001, stratum 2), shared by the session: read only."""
    daemon = start_daemon("start")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def sources() -> Iterator[Daemon]:
    """A chronyd with five sources, shared by the session (read only), in chronyd's order: the
    refclocks GPS (fed, `-`) and NONE (unfed), then the NTP servers 127.0.0.1 (`prefer`, stratum 1,
    selected), 127.0.0.2 (`noselect`, stratum 3) and 127.0.0.3 (never answers); as root also a
    server configured by a name that never resolves (see `source_addresses`)."""
    daemon = start_daemon("start", "--mode", "sources")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def nts() -> Iterator[Daemon]:
    """A chronyd whose one source, 127.0.0.1, is authenticated with NTS (the fixture's mode
    "nts": a certificate made with openssl at start, an NTS-KE port), shared by the session."""
    daemon = start_daemon("start", "--mode", "nts")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def unsynced() -> Iterator[Daemon]:
    """An unsynchronised chronyd: every value is static."""
    daemon = start_daemon("start-unsync")
    yield daemon
    daemon.stop()


@pytest.fixture
def fresh() -> Iterator[Daemon]:
    """A synchronised chronyd of its own, for tests that kill it."""
    daemon = start_daemon("start")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def frozen() -> Iterator[Daemon]:
    """A chronyd stopped with SIGSTOP: it never replies, so every call must time out."""
    daemon = start_daemon("start-unsync")
    daemon.freeze()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def as_nobody() -> Iterator[list[str]]:
    """The command prefix that runs this Python as `nobody`, with pychrony (and uvloop, for
    test_aio's loops) importable: the venv may lie where `nobody` cannot read."""
    if os.geteuid() != 0:
        pytest.fail("this test drops privileges to `nobody` and must run as root")
    interpreter = shutil.which(
        f"python{sys.version_info[0]}.{sys.version_info[1]}", path="/usr/bin:/usr/local/bin"
    )
    if interpreter is None:
        pytest.fail("needs a system python3 that `nobody` can run (e.g. /usr/bin/python3)")
    directory = Path(tempfile.mkdtemp(prefix="chrpy.", dir="/tmp"))
    directory.chmod(0o755)
    for package in (pychrony, importlib.import_module("uvloop")):
        assert package.__file__, package
        source = Path(package.__file__).parent
        shutil.copytree(source, directory / source.name)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "env",
        f"PYTHONPATH={directory}",
        interpreter,
        "-B",
        "-c",
    ]
    shutil.rmtree(directory, ignore_errors=True)


def run_as_nobody(prefix: list[str], code: str) -> subprocess.CompletedProcess[str]:
    """Runs Python `code` with the `as_nobody` prefix, from /."""
    return subprocess.run(
        [*prefix, textwrap.dedent(code)], capture_output=True, text=True, timeout=60, cwd="/"
    )


def in_discovery_namespace() -> bool:
    """True inside the private mount namespace of `cargo xtask test-socket-discovery` (tmpfs over
    /run), where tests may start daemons at the system's socket paths."""
    if os.environ.get("CHRONY_DISCOVERY_NAMESPACE") != "1":
        return False
    with open("/proc/self/mountinfo") as mounts:
        for line in mounts:
            mount, _, fs = line.partition(" - ")
            fields = mount.split()
            if len(fields) > 4 and fields[4] == "/run" and fs.startswith("tmpfs discovery "):
                return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `discovery` run only in that namespace; elsewhere they are deselected (they
    would start daemons at /run/chrony), and `cargo xtask test-socket-discovery` runs them."""
    if in_discovery_namespace():
        return
    kept = [item for item in items if item.get_closest_marker("discovery") is None]
    deselected = [item for item in items if item.get_closest_marker("discovery") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def parse_chronyc_csv(line: str) -> list[str]:
    columns = line.strip().split(",")
    assert len(columns) == 14, line
    return columns


def chronyc_sources_csv(daemon: Daemon, *, udp: bool = False) -> list[list[str]]:
    """`chronyc -c sources -a`: one list of 10 columns per source."""
    rows = [line.split(",") for line in daemon.chronyc("-c", "sources", "-a", udp=udp).splitlines()]
    assert all(len(row) == 10 for row in rows), rows
    return rows


def _number(text: str) -> float:
    return float(text)


def _last_digit(text: str) -> float:
    """One unit in the last digit of a number as chronyc prints it (`0.000123`, `1.234e-05`)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _projected(line: str, project: Callable[[list[str]], list[str]] | None) -> str:
    return line if project is None else ",".join(project(line.split(",")))


# A sign in front of a number that rounds to zero ("-0.000", "+0ns"), not part of a longer number.
_ZERO_SIGN = re.compile(r"(?<![\w.])[-+](?=0+(?:\.0+)?(?![\d.]))")


def _zero_unsigned(line: str) -> str:
    """`line` without the signs of values that round to zero: such a value may change sign with a
    new sample while every printed digit stays the same (a reference clock's residual frequency
    over a 0 s span flips around zero 16 times a second), so "printed the same before and after"
    cannot vouch for that sign."""
    return _ZERO_SIGN.sub("", line)


def each_line_equal_when_stable(
    daemon: Daemon,
    args: Sequence[str],
    read: Callable[[], T],
    lines: Callable[[T], list[str]],
    *,
    extrapolated: Sequence[int] = (),
    transient: Sequence[int] = (),
    project: Callable[[list[str]], list[str]] | None = None,
    attempts: int = 400,
) -> T:
    """Compares what `read()` returns, as `lines(...)`, with `chronyc ARGS` one line at a time:
    a line of ours must equal chronyc's whenever chronyc printed that line the same before and
    after our read, until every line has been compared so (chronyd samples sources 16 times a
    second: the whole list is rarely the same twice). `extrapolated` are CSV columns chronyd
    computes per request (sourcestats' offset): they are left out of "the same" and ours must lie
    between chronyc's two values within its last printed digit (else the line is read again: a
    clock update in between slews them). `transient` are CSV columns that may change and change
    back between chronyc's two reads (authdata's NTS cookie count is one lower while a poll is in
    flight): chronyc's two values must be the same and ours must equal them, but a read where it
    does not is done again rather than failed. `project` maps chronyc's columns to the ones `lines`
    gives (default: all of them, as printed); `extrapolated` counts the projected columns. Fails
    when some line never was compared; returns the last read."""
    done: set[int] = set()
    last = "no read"
    for _ in range(attempts):
        before = [_projected(line, project) for line in daemon.chronyc(*args).splitlines()]
        got = read()
        after = [_projected(line, project) for line in daemon.chronyc(*args).splitlines()]
        ours = lines(got)
        assert len(ours) == len(before), (ours, before)
        for i, line in enumerate(ours):
            b = _zero_unsigned(before[i]).split(",")
            a = _zero_unsigned(after[i]).split(",") if i < len(after) else []
            o = _zero_unsigned(line).split(",")
            fixed = [j for j in range(len(b)) if j not in extrapolated]
            if len(a) != len(b) or [b[j] for j in fixed] != [a[j] for j in fixed]:
                last = f"line {i}: {before[i]!r} then {after[i] if i < len(after) else ''!r}"
                continue
            checked = [j for j in fixed if j not in transient]
            assert len(o) == len(b) and [o[j] for j in checked] == [b[j] for j in checked], (
                f"line {i} vs chronyc {' '.join(args)}: {line!r} vs {before[i]!r}"
            )
            if [o[j] for j in transient] != [b[j] for j in transient]:
                last = f"line {i} columns {list(transient)}: {line!r} between two {before[i]!r}"
                continue
            outside = [
                j
                for j in extrapolated
                if not (
                    min(_number(b[j]), _number(a[j])) - max(_last_digit(b[j]), _last_digit(a[j]))
                    <= _number(o[j])
                    <= max(_number(b[j]), _number(a[j])) + max(_last_digit(b[j]), _last_digit(a[j]))
                )
            ]
            if outside:
                last = f"line {i} columns {outside}: {line!r} outside {before[i]!r}, {after[i]!r}"
                continue
            done.add(i)
        if len(done) == len(ours):
            return got
    pytest.fail(
        f"chronyc {' '.join(args)} never showed each line the same twice in a row around our "
        f"read (compared: {sorted(done)}; last difference: {last})"
    )

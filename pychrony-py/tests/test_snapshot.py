"""get_snapshot(), ChronyConnection.get_snapshot() and `pychrony snapshot`, against the fixture's
chronyd in mode "sources" (refclocks GPS and NONE, servers 127.0.0.1, 127.0.0.2 and 127.0.0.3,
an unresolvable name as root, smoothtime, no RTC).

Each part of a snapshot is compared with chronyc on the same daemon the way that report's own
tests compare it (their helpers, imported, so each comparison is written once): line by line
whenever chronyc printed a line the same before and after our read, and bracketed between two
chronyc reads where chronyd computes a value per request. It is also compared with the
single-report reads around it. Over UDP, each part chronyd refuses is None with the exception a
single call raises (ChronyPermissionError, -3) and the rest is there. `pychrony snapshot` prints,
section by section, what `chronyc -n` prints for each report."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pychrony
import pytest
import test_authdata
import test_cli
import test_ntpdata
import test_selectdata
import test_serverstats
import test_smoothing
import test_sourcename
import test_sources
import test_sourcestats
from conftest import (
    Daemon,
    each_line_equal_when_stable,
    kill_9,
    parse_chronyc_csv,
    start_daemon,
)
from pychrony import (
    ChronyConnection,
    ChronyError,
    ChronyPermissionError,
    Snapshot,
    SourceMode,
    SourceSnapshot,
    get_snapshot,
)
from pychrony.cli import (
    RTC_DISABLED_TEXT,
    SMOOTHING_DISABLED_TEXT,
    format_activity_csv,
    format_server_stats_csv,
    format_tracking,
    main,
)

SCRIPT = Path(sys.executable).parent / "pychrony"
ATTEMPTS = 200

# The sections of `pychrony snapshot`, in order, and the chronyc -n command each stands for.
SECTIONS = {
    "tracking": ("tracking",),
    "sources": ("sources", "-a"),
    "sourcestats": ("sourcestats", "-a"),
    "selectdata": ("selectdata", "-a"),
    "ntpdata": ("ntpdata",),
    "authdata": ("authdata", "-a"),
    "activity": ("activity",),
    "serverstats": ("serverstats",),
    "smoothing": ("smoothing",),
    "rtcdata": ("rtcdata",),
}
HEADING = re.compile(r"=== (\w+) ===")


@pytest.fixture(params=["function", "connection"])
def read(request: pytest.FixtureRequest, sources: Daemon) -> Iterator[Callable[[], Snapshot]]:
    """A snapshot of the sources daemon, from get_snapshot() or a reused ChronyConnection."""
    if request.param == "function":
        yield lambda: get_snapshot(sources.socket)
        return
    with ChronyConnection(sources.socket) as conn:
        yield conn.get_snapshot


def each_source(snapshot: Snapshot) -> list[SourceSnapshot]:
    assert snapshot.sources is not None, snapshot.errors
    return snapshot.sources


def present(snapshot: Snapshot, part: str) -> Any:
    value = getattr(snapshot, part)
    assert value is not None, (part, snapshot.errors)
    return value


# --- the API against chronyc ----------------------------------------------------------------------


def test_per_source_parts_equal_chronyc(sources: Daemon, read: Callable[[], Snapshot]) -> None:
    got = each_line_equal_when_stable(
        sources,
        test_sources.CSV,
        lambda: [p.source for p in each_source(read())],
        test_sources.csv_lines,
    )
    assert [s.address for s in got] == sources.source_addresses()
    each_line_equal_when_stable(
        sources,
        test_sourcestats.CSV,
        lambda: [p.stats for p in each_source(read())],
        test_sourcestats.csv_lines,
        extrapolated=(test_sourcestats.OFFSET_COLUMN,),
    )
    each_line_equal_when_stable(
        sources,
        test_selectdata.CSV,
        lambda: [p.select for p in each_source(read())],
        test_selectdata.csv_lines,
    )
    # Reference clocks have no authdata and no ntpdata (None without an error); the others do.
    each_line_equal_when_stable(
        sources,
        test_authdata.CSV,
        lambda: [p.auth for p in each_source(read()) if p.auth is not None],
        test_authdata.csv_lines,
        transient=(test_authdata.COOKIES_COLUMN,),
    )
    test_ntpdata._equal_when_stable(
        sources, lambda: [p.ntp for p in each_source(read()) if p.ntp is not None]
    )
    names = [(p.source.address, p.name) for p in each_source(read()) if p.name is not None]
    assert names == test_sourcename.chronyc_names(sources)


def test_whole_daemon_parts_equal_chronyc(sources: Daemon, read: Callable[[], Snapshot]) -> None:
    test_serverstats.bracketed(
        sources, lambda: format_server_stats_csv(present(read(), "server_stats"))
    )
    test_smoothing._bracketed(sources, lambda: test_smoothing._fields(read().smoothing))
    # The fixture's activity does not change.
    assert format_activity_csv(present(read(), "activity")) == sources.chronyc("-c", "activity")
    # No RTC: None without an error, where chronyc says 513.
    snapshot = read()
    assert snapshot.rtc is None and "rtc" not in snapshot.errors
    assert sources.chronyc_process("rtcdata").stdout == RTC_DISABLED_TEXT
    # Tracking: chronyc -n's lines that do not move while no clock update lands between the two
    # chronyc -c reads (test_cli.py's rule).
    for _ in range(ATTEMPTS):
        first = parse_chronyc_csv(sources.chronyc("-c", "tracking"))
        theirs = test_cli.lines_by_label(sources.chronyc("-n", "tracking"))
        ours = test_cli.lines_by_label(format_tracking(present(read(), "tracking")))
        last = parse_chronyc_csv(sources.chronyc("-c", "tracking"))
        if first[3] == last[3]:
            break
    else:
        pytest.fail("chronyd updated its clock during every attempt")
    assert list(ours) == list(theirs)
    for label in test_cli.STATIC_LINES:
        assert ours[label] == theirs[label]


def test_nothing_missing_over_the_unix_socket(read: Callable[[], Snapshot]) -> None:
    snapshot = read()
    assert dict(snapshot.errors) == {}
    assert all(dict(p.errors) == {} for p in each_source(snapshot))
    assert isinstance(snapshot.tracking, pychrony.TrackingStatus)
    assert isinstance(snapshot.smoothing, pychrony.Smoothing)
    for p in each_source(snapshot):
        # Each record is of its own source, joined as chronyd numbers them.
        assert p.stats is not None and p.stats.address == p.source.address
        assert p.select is not None and p.select.address == p.source.address
        refclock = p.source.mode is SourceMode.REFCLOCK
        assert (p.ntp is None) == (refclock or p.source.address.startswith("ID#")), p
        assert p.ntp is None or p.ntp.remote_address == p.source.address
        assert (p.auth is None) == refclock and (p.name is None) == refclock, p
        assert p.auth is None or p.auth.address == p.source.address
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.rtc = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        snapshot.errors["x"] = ChronyError("x")  # type: ignore[index]


# --- the API against the single reads around it ---------------------------------------------------


def static(
    tracking: pychrony.TrackingStatus | None,
    sources: list[pychrony.Source],
    stats: list[pychrony.SourceStats],
    select: list[pychrony.SelectData],
    ntp: list[pychrony.NTPData],
    auth: list[pychrony.AuthData],
    names: list[pychrony.SourceName],
    activity: pychrony.Activity | None,
    smoothing: pychrony.Smoothing | None,
) -> list[object]:
    """What does not move while the daemon is stable: per source (joined by index, or by address
    as a snapshot joins them) its address, mode, state, stratum and reference ID, its records'
    addresses and reference IDs, selectdata's state and options, ntpdata's addresses, version,
    mode, stratum and precision, authdata, the name; then tracking's reference, activity and
    smoothing's flags."""
    ntp_by = {d.remote_address: d for d in ntp}
    auth_by = {a.address: a for a in auth}
    name_by = {n.address: n.name for n in names}
    rows: list[object] = []
    for i, s in enumerate(sources):
        d = ntp_by.get(s.address)
        rows.append(
            (
                (s.address, s.mode, s.state, s.stratum, s.reference_id),
                (stats[i].address, stats[i].reference_id),
                (select[i].address, select[i].reference_id, select[i].state),
                (select[i].configured_options, select[i].effective_options),
                d and (d.remote_address, d.local_address, d.remote_port, d.version, d.mode),
                d and (d.stratum, d.precision, d.reference_id),
                auth_by.get(s.address),
                name_by.get(s.address),
            )
        )
    t = tracking
    rows.append(t and (t.reference_id, t.reference_id_name, t.stratum, t.reference_ip))
    rows.append(activity)
    rows.append(smoothing and (smoothing.active, smoothing.leap_only))
    return rows


def static_of_snapshot(s: Snapshot) -> list[object]:
    parts = each_source(s)
    return static(
        s.tracking,
        [p.source for p in parts],
        [p.stats for p in parts if p.stats is not None],
        [p.select for p in parts if p.select is not None],
        [p.ntp for p in parts if p.ntp is not None],
        [p.auth for p in parts if p.auth is not None],
        [pychrony.SourceName(p.source.address, p.name) for p in parts if p.name is not None],
        s.activity,
        s.smoothing,
    )


def static_of_single_reads(conn: ChronyConnection) -> list[object]:
    return static(
        conn.get_tracking(),
        conn.get_sources(),
        conn.get_source_stats(),
        conn.get_select_data(),
        conn.get_all_ntp_data(),
        conn.get_auth_data(),
        conn.get_source_names(),
        conn.get_activity(),
        conn.get_smoothing(),
    )


def test_equals_the_single_reads_around_it(sources: Daemon) -> None:
    with ChronyConnection(sources.socket) as conn:
        for _ in range(ATTEMPTS):
            before = static_of_single_reads(conn)
            first = (conn.get_tracking(), conn.get_server_stats(), conn.get_all_ntp_data())
            snapshot = conn.get_snapshot()
            last = (conn.get_tracking(), conn.get_server_stats(), conn.get_all_ntp_data())
            if static_of_single_reads(conn) == before:
                break
        else:
            pytest.fail("the daemon never stood still between two rounds of single reads")
    assert static_of_snapshot(snapshot) == before
    # Values that only grow lie between the reads around the snapshot: the command counter (each
    # request counts), each NTP source's packet counters. The reference time is the last
    # measurement's, which with two sources combined may be older than the one before (seen: 58 ms
    # back): it lies within a second of the reads around it.
    tracking = present(snapshot, "tracking")
    times = (first[0].ref_time, last[0].ref_time)
    assert min(times) - 1.0 <= tracking.ref_time <= max(times) + 1.0, (times, tracking)
    stats = present(snapshot, "server_stats")
    assert first[1].cmd_hits < stats.cmd_hits < last[1].cmd_hits
    assert (stats.ntp_hits, stats.log_drops) == (last[1].ntp_hits, last[1].log_drops)
    low = {d.remote_address: d for d in first[2]}
    high = {d.remote_address: d for d in last[2]}
    ntp = [p.ntp for p in each_source(snapshot) if p.ntp is not None]
    assert sorted(d.remote_address for d in ntp) == sorted(low)
    for d in ntp:
        a, b = low[d.remote_address], high[d.remote_address]
        assert a.total_tx <= d.total_tx <= b.total_tx, (a, d, b)
        assert a.total_rx <= d.total_rx <= b.total_rx, (a, d, b)


# --- a selection of parts ------------------------------------------------------------------------

# A part's fields that do not move while the daemon is stable (server_stats: its counters move
# with every request, so only its presence; the fixture has smoothing but no RTC: None).
WHOLE_STATIC: dict[str, Callable[[Any], object]] = {
    "tracking": lambda t: (t.reference_id, t.reference_id_name, t.stratum, t.reference_ip),
    "activity": lambda a: a,
    "server_stats": lambda v: v is not None,
    "smoothing": lambda v: v and (v.active, v.leap_only),
    "rtc": lambda v: v,
}
SOURCE_STATIC: dict[str, Callable[[Any], object]] = {
    "stats": lambda v: (v.address, v.reference_id),
    "select": lambda v: (v.address, v.reference_id, v.state, v.configured_options),
    "ntp": lambda d: d and (d.remote_address, d.remote_port, d.version, d.mode, d.stratum),
    "auth": lambda a: a,
    "name": lambda n: n,
}


def static_of_parts(s: Snapshot, parts: list[str], *, selected: bool) -> list[object]:
    """The static fields of the `parts` of `s`; of a selection, asserts that every other part is
    None without an error."""
    rows: list[object] = []
    for name, static_of in WHOLE_STATIC.items():
        if name in parts:
            assert name not in s.errors, s.errors
            rows.append((name, static_of(getattr(s, name))))
        elif selected:
            assert getattr(s, name) is None and name not in s.errors, (name, s)
    per_source = [n for n in SOURCE_STATIC if n in parts]
    if not per_source and "sources" not in parts:
        if selected:
            assert s.sources is None and "sources" not in s.errors, s
        return rows
    for p in each_source(s):
        rows.append((p.source.address, p.source.mode, p.source.state, p.source.stratum))
        assert not (set(p.errors) & set(per_source)), p.errors
        for name, static_of in SOURCE_STATIC.items():
            if name in parts:
                rows.append((name, static_of(getattr(p, name))))
            elif selected:
                assert getattr(p, name) is None and name not in p.errors, (name, p)
    return rows


@pytest.mark.parametrize(
    ("parts", "requests"),
    [
        # The first batch's reports, then for the sources the count, each source's records and
        # the count again (sourcename, ntpdata and authdata need more behind the library: only
        # "fewer than all", None).
        ([], lambda n: 0),
        (["tracking"], lambda n: 1),
        (["stats"], lambda n: 1 + 2 * n + 1),
        (["tracking", "sources", "server_stats"], lambda n: 2 + 1 + n + 1),
        (["activity", "smoothing", "rtc", "select"], lambda n: 3 + 1 + 2 * n + 1),
        (["ntp", "auth", "name"], None),
    ],
)
def test_a_selection_sends_only_its_requests_and_equals_the_full_snapshot(
    sources: Daemon, parts: list[str], requests: Callable[[int], int] | None
) -> None:
    """chronyd's command counter (serverstats; two in a row show what it moves by itself)
    counts the selection's requests; its parts equal a full snapshot's on a stable daemon."""
    with ChronyConnection(sources.socket) as conn:
        n = len(conn.get_sources())

        def sent(read: Callable[[], object]) -> int:
            a = conn.get_server_stats().cmd_hits
            b = conn.get_server_stats().cmd_hits
            read()
            return conn.get_server_stats().cmd_hits - b - (b - a)

        everything = sent(conn.get_snapshot)
        for _ in range(ATTEMPTS):
            full = conn.get_snapshot()
            read: list[Snapshot] = []
            count = sent(lambda read=read: read.append(conn.get_snapshot(parts=parts)))
            if static_of_snapshot(full) == static_of_snapshot(conn.get_snapshot()):
                break
        else:
            pytest.fail("the daemon never stood still between two snapshots")
    if requests is None:
        assert 0 < count < everything, (count, everything)
    else:
        assert count == requests(n), (count, n)
    selected = read[0]
    assert static_of_parts(selected, parts, selected=True) == static_of_parts(
        full, parts, selected=False
    )


def test_a_selection_of_the_function_equals_the_connection_s(sources: Daemon) -> None:
    parts = ["tracking", "name"]
    for _ in range(ATTEMPTS):
        one = get_snapshot(sources.socket, parts=parts)
        with ChronyConnection(sources.socket) as conn:
            other = conn.get_snapshot(parts=parts)
        if static_of_parts(one, parts, selected=True) == static_of_parts(
            other, parts, selected=True
        ):
            return
    pytest.fail("the daemon never stood still between two snapshots")


@pytest.mark.parametrize(
    ("parts", "error", "message"),
    [
        (["tracking", "trakcing"], ValueError, "unknown snapshot part 'trakcing': choose among"),
        (["sourcestats"], ValueError, "unknown snapshot part 'sourcestats'"),
        ("tracking", TypeError, "parts must be a list of part names"),
        (3, TypeError, "parts must be a list of part names"),
    ],
)
def test_bad_parts_are_refused_before_anything_is_sent(
    sources: Daemon, parts: Any, error: type[Exception], message: str
) -> None:
    with ChronyConnection(sources.socket) as conn:
        before = conn.get_server_stats().cmd_hits
        with pytest.raises(error, match=re.escape(message)):
            conn.get_snapshot(parts=parts)
        with pytest.raises(error, match=re.escape(message)):
            get_snapshot(sources.socket, parts=parts)
        # Only this serverstats request itself since the first.
        assert conn.get_server_stats().cmd_hits == before + 1


# --- over UDP, and without smoothing -------------------------------------------------------------


def single_outcome(call: Callable[[], object]) -> tuple[str, int | None, str] | None:
    """The error a single call raises, as (class, code, message), or None when it answers."""
    try:
        call()
    except ChronyError as exc:
        return (type(exc).__name__, exc.error_code, exc.message)
    return None


def part_outcome(value: object, errors: Any, name: str) -> tuple[str, int | None, str] | None:
    if name not in errors:
        assert value is not None or name in ("smoothing", "rtc", "ntp", "auth", "name"), name
        return None
    assert value is None, (name, value)
    exc = errors[name]
    return (type(exc).__name__, exc.error_code, exc.message)


def test_over_udp_refused_parts_carry_the_single_calls_error(sources: Daemon) -> None:
    # chronyc says which reports chronyd refuses over UDP; a snapshot must show the same.
    refused = sources.chronyc_process("-c", "serverstats", udp=True)
    assert refused.returncode != 0 and "Not authorised" in refused.stdout + refused.stderr
    with ChronyConnection(sources.udp_v4) as conn:
        snapshot = conn.get_snapshot()
        single = {
            "tracking": single_outcome(conn.get_tracking),
            "activity": single_outcome(conn.get_activity),
            "server_stats": single_outcome(conn.get_server_stats),
            "smoothing": single_outcome(conn.get_smoothing),
            "rtc": single_outcome(conn.get_rtc_data),
            "sources": single_outcome(conn.get_sources),
        }
        per_source = {
            "stats": single_outcome(conn.get_source_stats),
            "select": single_outcome(conn.get_select_data),
            "auth": single_outcome(conn.get_auth_data),
            "name": single_outcome(conn.get_source_names),
        }
        ntp_single = {
            p.source.address: single_outcome(lambda p=p: conn.get_ntp_data(p.source.address))
            for p in each_source(snapshot)
            if p.ntp is not None or "ntp" in p.errors
        }
    assert single["server_stats"] is not None and single["server_stats"][:2] == (
        "ChronyPermissionError",
        -3,
    )
    for name, expected in single.items():
        assert part_outcome(getattr(snapshot, name), snapshot.errors, name) == expected, name
    assert isinstance(snapshot.errors["server_stats"], ChronyPermissionError)
    assert snapshot.tracking is not None and snapshot.activity is not None
    assert snapshot.smoothing is not None and snapshot.rtc is None
    assert [p.source.address for p in each_source(snapshot)] == sources.source_addresses()
    assert ntp_single, "the fixture has NTP sources with an address"
    for p in each_source(snapshot):
        refclock = p.source.mode is SourceMode.REFCLOCK
        for name, expected in per_source.items():
            if refclock and name in ("auth", "name"):
                # No record to refuse: a reference clock has none.
                assert part_outcome(getattr(p, name), p.errors, name) is None
                continue
            assert part_outcome(getattr(p, name), p.errors, name) == expected, (p.source, name)
        if p.source.address in ntp_single:
            assert part_outcome(p.ntp, p.errors, "ntp") == ntp_single[p.source.address]
        else:
            assert p.ntp is None and "ntp" not in p.errors
    # Over UDP chronyd refuses each source's selectdata as the single call is refused.
    assert per_source["select"] is not None and per_source["select"][1] == -3


def test_without_smoothtime_or_rtc_the_parts_are_none_without_an_error(unsynced: Daemon) -> None:
    for address in (unsynced.socket, unsynced.udp_v4):
        with ChronyConnection(address) as conn:
            snapshot = conn.get_snapshot()
            assert conn.get_smoothing() is None and conn.get_rtc_data() is None
            assert snapshot.tracking == conn.get_tracking()  # every value is static
            assert snapshot.sources is not None
            assert [p.source for p in snapshot.sources] == conn.get_sources()
        assert snapshot.smoothing is None and snapshot.rtc is None
        assert "smoothing" not in snapshot.errors and "rtc" not in snapshot.errors
    assert unsynced.chronyc_process("smoothing").stdout == SMOOTHING_DISABLED_TEXT


def test_errors_and_timeouts_are_those_of_get_tracking(tmp_path: Path, frozen: Daemon) -> None:
    missing = str(tmp_path / "chronyd.sock")
    with pytest.raises(pychrony.ChronyConnectionError) as snapshot_error:
        get_snapshot(missing)
    with pytest.raises(pychrony.ChronyConnectionError) as tracking_error:
        pychrony.get_tracking(missing)
    assert snapshot_error.value.error_code == tracking_error.value.error_code == -2
    with pytest.raises(pychrony.ChronyConnectionError) as timed_out:
        get_snapshot(frozen.socket, timeout=0.3)
    assert timed_out.value.error_code == -6
    with ChronyConnection(frozen.udp_v4, timeout=0.3) as conn:
        with pytest.raises(pychrony.ChronyConnectionError) as timed_out:
            conn.get_snapshot()
    assert timed_out.value.error_code == -6
    with pytest.raises(TypeError):
        get_snapshot(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_snapshot(missing, timeout=0)
    with pytest.raises(TypeError):
        get_snapshot(missing, 1.0)  # type: ignore[misc]


def test_a_kept_connection_to_a_stopped_chronyd_raises_and_reads_the_restarted_one(
    restartable: Path,
) -> None:
    # As get_tracking on the same connection: chronyd gone is the connection's error, not a
    # snapshot whose every part failed; the next call reaches a restarted chronyd.
    daemon = start_daemon("start", directory=restartable)
    with ChronyConnection(daemon.socket, timeout=1.0) as conn:
        assert conn.get_snapshot().tracking is not None
        for stop, code in [(kill_9, -1), (Daemon.stop, -2)]:
            stop(daemon)
            for parts in (None, ["tracking"]):
                with pytest.raises(pychrony.ChronyConnectionError) as gone:
                    conn.get_snapshot(parts=parts)
                assert gone.value.error_code == code, (parts, gone.value)
            with pytest.raises(pychrony.ChronyConnectionError) as tracking_error:
                conn.get_tracking()
            assert tracking_error.value.error_code == code
            daemon.stop()
            daemon = start_daemon("start", directory=restartable)
            snapshot = conn.get_snapshot()
            assert snapshot.errors == {}, snapshot.errors
            assert snapshot.tracking is not None and snapshot.tracking.is_synchronized()
    daemon.stop()


@pytest.mark.parametrize("over", ["function", "connection"])
def test_a_signal_handler_exception_ends_the_wait(frozen: Daemon, over: str) -> None:
    class Custom(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Custom("from the handler")

    previous = signal.signal(signal.SIGUSR1, handler)
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    timer = threading.Timer(0.2, lambda: signal.pthread_kill(main_thread, signal.SIGUSR1))
    timer.start()
    try:
        with pytest.raises(Custom):
            if over == "function":
                get_snapshot(frozen.socket, timeout=5.0)
            else:
                with ChronyConnection(frozen.socket, timeout=5.0) as conn:
                    conn.get_snapshot()
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)


# --- the command line ----------------------------------------------------------------------------


def cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(args)
    return status, out.getvalue()


def sections(text: str) -> dict[str, list[str]]:
    """`pychrony snapshot`'s text by section: the lines under each heading, without the empty
    line that separates sections."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        heading = HEADING.fullmatch(line)
        if heading:
            current = found.setdefault(heading.group(1), [])
        else:
            current.append(line)
    for name, lines in list(found.items())[:-1]:
        assert lines[-1] == "", (name, lines)
        del lines[-1]
    return found


def section_of(daemon: Daemon, name: str, *, address: str | None = None) -> list[str]:
    status, out = cli(["snapshot", "--socket", address or daemon.socket])
    assert status == 0
    return sections(out)[name]


def test_cli_text_sections_equal_chronyc_n(sources: Daemon) -> None:
    status, out = cli(["snapshot", "--socket", sources.socket])
    assert status == 0
    assert list(sections(out)) == list(SECTIONS)
    for name in ("sources", "selectdata", "ntpdata", "authdata", "activity"):
        each_line_equal_when_stable(
            sources, ("-n", *SECTIONS[name]), lambda name=name: section_of(sources, name), list
        )
    got = each_line_equal_when_stable(
        test_sourcestats.as_columns(sources),
        ("-n", *SECTIONS["sourcestats"]),
        lambda: section_of(sources, "sourcestats"),
        lambda lines: [test_sourcestats.text_columns(line) for line in lines],
        extrapolated=(1,),
    )
    assert len(got) == 2 + len(sources.source_addresses())
    assert section_of(sources, "rtcdata") == sources.chronyc_process("rtcdata").stdout.splitlines()
    # serverstats: chronyc's labels, each counter between chronyc's two reads.
    labels = [line.split(":")[0] for line in sources.chronyc("-n", "serverstats").splitlines()]
    assert [line.split(":")[0] for line in section_of(sources, "serverstats")] == labels
    test_serverstats.bracketed(
        sources,
        lambda: ",".join(line.split(": ")[1] for line in section_of(sources, "serverstats")),
    )
    # smoothing: chronyc's labels and flags (the values: test_whole_daemon_parts_equal_chronyc).
    theirs = sources.chronyc("-n", "smoothing").splitlines()
    ours = section_of(sources, "smoothing")
    assert [line.split(":")[0] for line in ours] == [line.split(":")[0] for line in theirs]
    assert ours[0] == theirs[0]
    # tracking: the lines that do not move while no clock update lands in between.
    for _ in range(ATTEMPTS):
        first = parse_chronyc_csv(sources.chronyc("-c", "tracking"))
        theirs_tracking = test_cli.lines_by_label(sources.chronyc("-n", "tracking"))
        ours_tracking = test_cli.lines_by_label("\n".join(section_of(sources, "tracking")))
        last = parse_chronyc_csv(sources.chronyc("-c", "tracking"))
        if first[3] == last[3]:
            break
    else:
        pytest.fail("chronyd updated its clock during every attempt")
    assert list(ours_tracking) == list(theirs_tracking)
    for label in test_cli.STATIC_LINES:
        assert ours_tracking[label] == theirs_tracking[label]


def test_cli_text_over_udp_says_why_a_part_is_missing(sources: Daemon) -> None:
    def refusal(call: Callable[[], object]) -> list[str]:
        with pytest.raises(ChronyPermissionError) as refused:
            call()
        assert refused.value.error_code == -3
        return [f"pychrony: {refused.value}"]

    with ChronyConnection(sources.udp_v4) as conn:
        expected = {
            "serverstats": refusal(conn.get_server_stats),
            # Every source's record is refused as the whole report is: said once.
            "selectdata": refusal(conn.get_select_data),
            "ntpdata": refusal(conn.get_all_ntp_data),
            "authdata": refusal(conn.get_auth_data),
        }
    status, out = cli(["snapshot", "--socket", sources.udp_v4])
    assert status == 0
    text = sections(out)
    for name, lines in expected.items():
        assert text[name] == lines, name
    # The rest is there, as over the socket.
    each_line_equal_when_stable(
        sources,
        ("-n", *SECTIONS["activity"]),
        lambda: section_of(sources, "activity", address=sources.udp_v4),
        list,
    )
    assert len(text["sources"]) == 2 + len(sources.source_addresses())


def test_cli_json_is_one_object_equal_to_the_reports(sources: Daemon) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "snapshot", "--json", "--socket", sources.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    record = json.loads(proc.stdout)
    assert list(record) == [f.name for f in dataclasses.fields(Snapshot)]
    assert record["errors"] == {}
    # Each part as its own command's --json prints it (the same keys).
    _, tracking = cli(["tracking", "--json", "--socket", sources.socket])
    assert list(record["tracking"]) == list(json.loads(tracking))
    assert record["tracking"]["reference_id"] == 0x7F000001
    _, activity = cli(["activity", "--json", "--socket", sources.socket])
    assert record["activity"] == json.loads(activity)
    assert record["rtc"] is None and record["smoothing"]["active"] is True
    source_fields = [f.name for f in dataclasses.fields(SourceSnapshot)]
    assert all(list(s) == source_fields for s in record["sources"])
    assert [s["source"]["address"] for s in record["sources"]] == sources.source_addresses()
    names = [(s["source"]["address"], s["name"]) for s in record["sources"] if s["name"]]
    assert names == test_sourcename.chronyc_names(sources)
    _, auth = cli(["authdata", "--json", "--socket", sources.socket])
    assert [s["auth"] for s in record["sources"] if s["auth"]] == json.loads(auth)
    # ntpdata, which the text leaves out, is there for each NTP source with an address.
    ntp = [s["ntp"]["remote_address"] for s in record["sources"] if s["ntp"]]
    assert ntp == [d.remote_address for d in pychrony.get_all_ntp_data(sources.socket)]


def test_cli_json_over_udp_has_the_errors(sources: Daemon) -> None:
    status, out = cli(["snapshot", "--json", "--socket", sources.udp_v4])
    assert status == 0
    record = json.loads(out)
    assert record["server_stats"] is None
    error = record["errors"]["server_stats"]
    assert (error["error"], error["error_code"]) == ("ChronyPermissionError", -3)
    assert "opencommands" in error["message"]
    assert all(s["errors"]["select"]["error_code"] == -3 for s in record["sources"])


def test_cli_csv_is_refused_and_errors_exit_2(sources: Daemon) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "snapshot", "--csv", "--socket", sources.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "--csv" in proc.stderr and "--json" in proc.stderr
    missing = str(Path(sources.socket).parent / "nothing")
    bad = subprocess.run(
        [str(SCRIPT), "snapshot", "--socket", missing, "--timeout", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")
    assert "(error code: -2)" in bad.stderr

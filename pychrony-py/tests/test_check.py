"""`pychrony check`, the Nagios/Icinga plugin: its threshold ranges (pure), and its verdicts on
real fixture daemons (synchronised, with sources, unsynchronised, NTS, a refclock, a pending
leap second, frozen, missing), each threshold at, just under and just over its limit.

Static values (stratum, source counts, leap status, NTS) are compared with chronyc and tested at
their exact limit. chronyd computes the offset and the root dispersion per request, so those are
bracketed between two `chronyc -c tracking` reads with no clock update in between (same ref
time), and their limits lie a margin away from the value chronyc showed just before."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Daemon, chronyc_sources_csv, parse_chronyc_csv, start_daemon
from pychrony import ChronyConnection, ChronyConnectionError, ChronyPermissionError, get_tracking
from pychrony._check import Range
from pychrony.cli import main

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}

# The plugin guidelines' output: `SERVICE STATUS: text | perfdata`, each perfdata item
# 'label'=value[UOM];[warn];[crit];[min];[max] (value [-0-9.] or U; warn and crit ranges).
LINE = re.compile(r"CHRONY (OK|WARNING|CRITICAL|UNKNOWN): ([^|\n]+?)(?: \| (.+))?")
_NUM = r"-?[0-9.]+"
_RANGE = rf"@?(?:(?:~|{_NUM})?:)?(?:{_NUM})?"
PERF = re.compile(
    rf"([^=' ]+|'(?:[^']|'')+')=(U|{_NUM})(us|ms|s|%|B|KB|MB|TB|c)?"
    rf"(?:;({_RANGE})(?:;({_RANGE})(?:;({_NUM})?(?:;({_NUM})?)?)?)?)?"
)

# chronyc -c tracking columns.
REF_TIME, OFFSET, ROOT_DELAY, ROOT_DISPERSION, LEAP = 3, 4, 10, 11, 13
# chronyc prints seconds with 9 decimals.
ROUNDING = 1e-9


# --- the range syntax (no daemon) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "inside", "normal"),
    [
        ("10", 0.0, 10.0, False, "10"),
        ("10:", 10.0, math.inf, False, "10:"),
        ("~:10", -math.inf, 10.0, False, "~:10"),
        ("10:20", 10.0, 20.0, False, "10:20"),
        ("@10:20", 10.0, 20.0, True, "@10:20"),
        ("0:10", 0.0, 10.0, False, "10"),
        (":10", 0.0, 10.0, False, "10"),
        ("~:", -math.inf, math.inf, False, "~:"),
        ("-5:-1", -5.0, -1.0, False, "-5:-1"),
        ("0.5", 0.0, 0.5, False, "0.5"),
        ("1e-5", 0.0, 1e-5, False, "0.00001"),
        ("+2.50:3", 2.5, 3.0, False, "2.5:3"),
        ("@5", 0.0, 5.0, True, "@5"),
        ("7:7", 7.0, 7.0, False, "7:7"),
    ],
)
def test_range_parses(text: str, start: float, end: float, inside: bool, normal: str) -> None:
    r = Range.parse(text)
    assert (r.start, r.end, r.inside) == (start, end, inside)
    assert str(r) == normal
    assert Range.parse(str(r)) == r


# (range, value, alerts): the guidelines' examples at, just inside and just outside each end.
ALERTS = [
    ("10", -0.001, True),
    ("10", 0, False),
    ("10", 10, False),
    ("10", 10.001, True),
    ("10:", 9.999, True),
    ("10:", 10, False),
    ("10:", 1e300, False),
    ("~:10", -1e300, False),
    ("~:10", 10, False),
    ("~:10", 10.001, True),
    ("10:20", 9.999, True),
    ("10:20", 10, False),
    ("10:20", 20, False),
    ("10:20", 20.001, True),
    ("@10:20", 9.999, False),
    ("@10:20", 10, True),
    ("@10:20", 20, True),
    ("@10:20", 20.001, False),
    ("7:7", 7, False),
    ("7:7", 7.000001, True),
]


@pytest.mark.parametrize(("text", "value", "alerts"), ALERTS)
def test_range_alerts(text: str, value: float, alerts: bool) -> None:
    assert Range.parse(text).alerts(value) is alerts


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("@", "empty"),
        ("abc", "'abc' is not a number"),
        ("10:abc", "'abc' is not a number"),
        ("20:10", "start is above its end"),
        ("1:2:3", "'2:3' is not a number"),
        ("~", "'~' is not a number"),
        ("10:~", "'~' is not a number"),
        ("inf", "'inf' is not a number"),
        ("nan", "'nan' is not a number"),
        ("1e999", "too large"),
        ("@@1", "'@1' is not a number"),
        (" 1", "' 1' is not a number"),
    ],
)
def test_range_rejects(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)) as raised:
        Range.parse(text)
    message = str(raised.value)
    assert message.startswith(f"bad threshold range {text!r}: ")
    assert message.endswith("; write it as 10, 10:, ~:10, 10:20 or @10:20")


# --- running the check ----------------------------------------------------------------------------


def run_check(*args: str) -> tuple[int, str]:
    """`pychrony check ARGS` in this process: (exit status, stdout). stderr must stay empty:
    monitoring systems read stdout only."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["check", *args])
        except SystemExit as exc:
            assert isinstance(exc.code, int)
            status = exc.code
    assert err.getvalue() == ""
    return status, out.getvalue()


def parse_line(output: str) -> tuple[str, str, dict[str, list[str]]]:
    """(state, text, {label: [value with UOM, warn, crit, min, max]}) of one output line, which
    must follow the plugin format (each perfdata item's fields as printed)."""
    assert output.endswith("\n") and output.count("\n") == 1, output
    match = LINE.fullmatch(output[:-1])
    assert match, output
    state, text, perf = match.groups()
    items: dict[str, list[str]] = {}
    for item in (perf or "").split(" ") if perf else []:
        m = PERF.fullmatch(item)
        assert m, f"not perfdata: {item!r} in {output!r}"
        label, _, fields = item.partition("=")
        items[label] = fields.split(";")  # as printed: trailing empty fields dropped
    return state, text, items


def check_line(daemon: Daemon, *args: str) -> tuple[int, str, str, dict[str, list[str]]]:
    status, output = run_check("--socket", daemon.socket, *args)
    state, text, perf = parse_line(output)
    assert state == STATES[status]
    return status, state, text, perf


def check_json(address: str, *args: str) -> tuple[int, dict[str, Any]]:
    status, output = run_check("--socket", address, "--json", *args)
    record = json.loads(output)
    assert record["exit_status"] == status
    assert record["state"] == STATES[status]
    return status, record


def by_name(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in record["checks"]}


def tracking_csv(daemon: Daemon) -> list[str]:
    return parse_chronyc_csv(daemon.chronyc("-c", "tracking"))


# --- offset and maximum error: computed per request -----------------------------------------------


def offset_of(row: list[str]) -> float:
    return abs(float(row[OFFSET]))


def max_error_of(row: list[str]) -> float:
    return offset_of(row) + float(row[ROOT_DISPERSION]) + float(row[ROOT_DELAY]) / 2


def bracket(before: list[str], after: list[str], name: str) -> tuple[float, float]:
    """The interval the check's value must lie in: the offset and the root dispersion each move
    one way between clock updates (bracketed separately: they may move apart), the root delay is
    static; widened by chronyc's rounding of each. |offset| of an offset that crossed 0 between
    the two reads may be anything from 0 to the larger of the two."""
    signed = sorted([float(before[OFFSET]), float(after[OFFSET])])
    crossed = signed[0] <= 0.0 <= signed[1]
    offsets = [0.0, max(map(abs, signed))] if crossed else sorted(map(abs, signed))
    if name == "offset":
        return offsets[0] - ROUNDING, offsets[1] + ROUNDING
    dispersions = sorted([float(before[ROOT_DISPERSION]), float(after[ROOT_DISPERSION])])
    half_delay = float(before[ROOT_DELAY]) / 2
    return (
        offsets[0] + dispersions[0] + half_delay - 3 * ROUNDING,
        offsets[1] + dispersions[1] + half_delay + 3 * ROUNDING,
    )


VALUE_OF: dict[str, Callable[[list[str]], float]] = {
    "offset": offset_of,
    "max_error": max_error_of,
}


def judged_against_chronyc(
    daemon: Daemon, name: str, make_args: Callable[[float], list[str]], limit_side: float
) -> tuple[int, dict[str, Any]]:
    """Runs the check (JSON) with the options `make_args(value)` builds from the value chronyc
    showed just before, until no clock update landed around it; its value must lie between
    chronyc's two, and that whole bracket on the intended side of `limit_side * value` (else a
    fast-moving value is read again)."""
    for _ in range(100):
        before = tracking_csv(daemon)
        value = VALUE_OF[name](before)
        if value < 20 * ROUNDING:
            continue  # too close to 0 for limits a margin away beyond chronyc's rounding
        status, record = check_json(daemon.socket, *make_args(value))
        after = tracking_csv(daemon)
        if before[REF_TIME] != after[REF_TIME]:
            continue
        low, high = bracket(before, after, name)
        got = by_name(record)[name]["value"]
        assert low <= got <= high, (name, got, before, after)
        limit = limit_side * value
        if (low > limit) if limit_side < 1 else (high < limit):
            return status, record
    pytest.fail(
        f"chronyd updated its clock or moved {name} across the limit (or near 0) on every try"
    )


@pytest.mark.parametrize(
    ("option", "factor", "expected"),
    [
        # The value just over the limit (limit below the value) and just under it.
        ("-w", 0.8, WARNING),
        ("-w", 1.25, OK),
        ("-c", 0.8, CRITICAL),
        ("-c", 1.25, OK),
        ("--max-error-warning", 0.8, WARNING),
        ("--max-error-warning", 1.25, OK),
        ("--max-error-critical", 0.8, CRITICAL),
        ("--max-error-critical", 1.25, OK),
    ],
)
def test_offset_and_max_error_thresholds(
    synced: Daemon, option: str, factor: float, expected: int
) -> None:
    name = "offset" if option in ("-w", "-c") else "max_error"
    status, record = judged_against_chronyc(
        synced, name, lambda v: [option, f"{v * factor:.12f}"], factor
    )
    assert status == expected, record
    check = by_name(record)[name]
    assert check["state"] == STATES[expected]
    assert check["unit"] == "s"
    if expected != OK:
        assert record["text"].startswith(check["text"])
        assert "outside" in check["text"]


@pytest.mark.parametrize(("inside", "expected"), [(True, WARNING), (False, OK)])
def test_offset_inside_range_alerts_with_at(synced: Daemon, inside: bool, expected: int) -> None:
    def args(v: float) -> list[str]:
        # A range around the value, or one just above it, alerting inside.
        low, high = (v * 0.5, v * 2) if inside else (v * 1.25, v * 4)
        return ["-w", f"@{low:.12f}:{high:.12f}"]

    for _ in range(100):
        before = tracking_csv(synced)
        if offset_of(before) < 20 * ROUNDING:
            continue
        status, record = check_json(synced.socket, *args(offset_of(before)))
        after = tracking_csv(synced)
        if before[REF_TIME] != after[REF_TIME]:
            continue
        low, high = bracket(before, after, "offset")
        if inside and (low < offset_of(before) * 0.5 or high > offset_of(before) * 2):
            continue
        if not inside and high >= offset_of(before) * 1.25:
            continue
        assert status == expected, record
        return
    pytest.fail("chronyd updated its clock or moved the offset too far on every try")


def test_default_offset_thresholds_are_check_ntp_times(synced: Daemon) -> None:
    status, _, text, perf = check_line(synced)
    assert status == OK
    value, warn, crit = perf["offset"][:3]
    assert (warn, crit) == ("60", "120")
    assert value.endswith("s") and float(value[:-1]) >= 0  # |offset|, as check_ntp_time 3.x
    assert re.fullmatch(r"[0-9]+\.[0-9]{9}s", value)
    assert text.startswith("synchronised to 127.0.0.1, stratum 2, offset ")


# --- stratum, reachable and selectable sources: static ------------------------------------------


def stratum_of(daemon: Daemon) -> int:
    return int(tracking_csv(daemon)[2])


@pytest.mark.parametrize(
    ("option", "state"),
    [("-W", WARNING), ("--swarn", WARNING), ("-C", CRITICAL), ("--scrit", CRITICAL)],
)
@pytest.mark.parametrize(
    ("range_of", "alerts"),
    [
        (lambda s: f"{s}", False),  # at the upper end
        (lambda s: f"{s - 1}", True),  # the value just over the end
        (lambda s: f"{s + 1}", False),  # just under it
        (lambda s: f"{s}:", False),  # at the lower end
        (lambda s: f"{s + 1}:", True),  # just under the start
        (lambda s: f"{s - 1}:", False),
        (lambda s: f"@{s}:{s}", True),
        (lambda s: f"@{s + 1}:{s + 2}", False),
    ],
)
def test_stratum_thresholds(
    synced: Daemon, option: str, state: int, range_of: Callable[[int], str], alerts: bool
) -> None:
    stratum = stratum_of(synced)
    assert stratum == 2
    status, record = check_json(synced.socket, option, range_of(stratum))
    check = by_name(record)["stratum"]
    assert check["value"] == stratum
    assert status == (state if alerts else OK), record
    assert check["state"] == STATES[status]


def source_counts(daemon: Daemon) -> tuple[int, int, int]:
    """(sources, reachable, selectable) as `chronyc -c sources -a` shows them, read until two
    reads agree."""
    for _ in range(50):
        counts = []
        for _ in range(2):
            rows = chronyc_sources_csv(daemon)
            reachable = sum(1 for r in rows if int(r[5], 8) != 0)
            selectable = sum(1 for r in rows if r[1] in ("*", "+", "-"))
            counts.append((len(rows), reachable, selectable))
        if counts[0] == counts[1]:
            return counts[0]
    pytest.fail("chronyc never showed the same sources twice in a row")


COUNT_OPTIONS = [
    ("sources_reachable", "--reachable-warning", WARNING),
    ("sources_reachable", "--reachable-critical", CRITICAL),
    ("sources_selectable", "-m", WARNING),
    ("sources_selectable", "--twarn", WARNING),
    ("sources_selectable", "-n", CRITICAL),
    ("sources_selectable", "--tcrit", CRITICAL),
]


@pytest.mark.parametrize(("name", "option", "state"), COUNT_OPTIONS)
@pytest.mark.parametrize(
    ("range_of", "alerts"),
    [
        (lambda n: f"{n}:", False),  # at least N: at the limit
        (lambda n: f"{n + 1}:", True),  # one short
        (lambda n: f"{n - 1}:", False),  # one to spare
        (lambda n: f"{n}", False),  # at most N
        (lambda n: f"{n - 1}", True),  # one too many
        (lambda n: f"@~:{n}", True),
    ],
)
def test_source_count_thresholds(
    sources: Daemon,
    name: str,
    option: str,
    state: int,
    range_of: Callable[[int], str],
    alerts: bool,
) -> None:
    for _ in range(50):
        counts = source_counts(sources)
        _, reachable, selectable = counts
        expected = reachable if name == "sources_reachable" else selectable
        status, record = check_json(sources.socket, option, range_of(expected))
        if source_counts(sources) == counts:
            break
    else:
        pytest.fail("chronyc showed other counts after each check")
    # The fixture's list: GPS, 127.0.0.1 and 127.0.0.2 answer; 127.0.0.2 is noselect.
    assert (reachable, selectable) == (3, 2)
    check = by_name(record)[name]
    assert check["value"] == expected
    assert status == (state if alerts else OK), record
    assert check["state"] == STATES[status]


def test_source_count_perfdata(sources: Daemon) -> None:
    total, reachable, selectable = source_counts(sources)
    status, _, _, perf = check_line(sources, "--reachable-warning", "2:", "-n", "1:")
    assert status == OK
    assert source_counts(sources) == (total, reachable, selectable)
    assert perf["sources_reachable"] == [str(reachable), "2:", "", "0", str(total)]
    assert perf["sources_selectable"] == [str(selectable), "", "1:", "0", str(total)]
    assert perf["stratum"] == ["2", "", "", "0", "16"]


def test_critical_wins_over_warning(sources: Daemon) -> None:
    _, reachable, _ = source_counts(sources)
    status, _, text, _ = check_line(
        sources, "--reachable-warning", f"{reachable + 1}:", "-C", "1", "-W", "1"
    )
    assert status == CRITICAL
    assert text == (
        f"stratum 2 (outside critical range 1), {reachable} of "
        f"{len(chronyc_sources_csv(sources))} sources reachable (outside warning range "
        f"{reachable + 1}:)"
    )


# --- unsynchronised, leap second, NTS -------------------------------------------------------------


def test_unsynchronised_is_critical(unsynced: Daemon) -> None:
    row = tracking_csv(unsynced)
    assert row[LEAP] == "Not synchronised"
    status, _, text, perf = check_line(unsynced)
    assert (status, text) == (CRITICAL, "not synchronised")
    # chronyd's offset means nothing without a reference: undeterminable.
    assert perf["offset"] == ["U", "60", "120"]
    assert perf["max_error"] == ["U"]
    assert perf["stratum"] == [row[2], "", "", "0", "16"]


def test_unsynchronised_quiet_is_unknown(unsynced: Daemon) -> None:
    for option in ("-q", "--quiet"):
        status, _, text, _ = check_line(unsynced, option, "-w", "~:")
        assert (status, text) == (UNKNOWN, "not synchronised")


def test_text_and_json_agree(unsynced: Daemon) -> None:
    # Every value of an unsynchronised chronyd is static: the two forms print the same verdict.
    status, output = run_check("--socket", unsynced.socket, "-W", "5")
    json_status, record = check_json(unsynced.socket, "-W", "5")
    assert json_status == status == CRITICAL
    assert record["output"] + "\n" == output
    assert record["error"] is None
    checks = by_name(record)
    assert checks["offset"]["value"] is None
    assert checks["stratum"] == {
        "name": "stratum",
        "state": "OK",
        "value": 0,
        "unit": "",
        "warning": "5",
        "critical": None,
        "text": "stratum 0",
    }
    assert record["tracking"]["leap_status"] == 3


@pytest.fixture(scope="module")
def leap_insert() -> Iterator[Daemon]:
    """A refclock chronyd with an insert leap second pending (libfaketime)."""
    daemon = start_daemon("start", "--mode", "refclock-leap:1")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def refclock() -> Iterator[Daemon]:
    """A chronyd synchronised to the refclock GPS, no leap second."""
    daemon = start_daemon("start", "--mode", "refclock")
    yield daemon
    daemon.stop()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), OK),
        (("--leap-pending",), WARNING),
        (("--leap-pending", "warning"), WARNING),
        (("--leap-pending", "critical"), CRITICAL),
    ],
)
def test_leap_second_pending(leap_insert: Daemon, args: tuple[str, ...], expected: int) -> None:
    assert tracking_csv(leap_insert)[LEAP] == "Insert second"
    status, _, text, _ = check_line(leap_insert, *args)
    assert status == expected
    if expected == OK:
        assert text.startswith("synchronised to GPS, stratum 1, offset ")
        assert text.endswith(", leap second pending (insert second)")
    else:
        assert text == "leap second pending (insert second)"


def test_no_leap_second_pending(refclock: Daemon) -> None:
    assert tracking_csv(refclock)[LEAP] == "Normal"
    status, record = check_json(refclock.socket, "--leap-pending", "critical")
    assert status == OK
    assert by_name(record)["leap_pending"]["value"] is False


@pytest.mark.parametrize(("args", "expected"), [((), CRITICAL), (("warning",), WARNING)])
def test_require_nts_fails_without_nts(
    synced: Daemon, args: tuple[str, ...], expected: int
) -> None:
    auth = synced.chronyc("-c", "authdata", "-a").split(",")
    assert auth[:2] == ["127.0.0.1", "-"]
    status, _, text, _ = check_line(synced, "--require-nts", *args)
    assert (status, text) == (expected, "127.0.0.1 does not use NTS")


def test_require_nts_passes_with_nts(nts: Daemon) -> None:
    auth = nts.chronyc("-c", "authdata", "-a").split(",")
    assert auth[:2] == ["127.0.0.1", "NTS"]
    assert [r[:3] for r in chronyc_sources_csv(nts)] == [["^", "*", "127.0.0.1"]]
    status, record = check_json(nts.socket, "--require-nts")
    assert status == OK, record
    assert by_name(record)["nts"] == {
        "name": "nts",
        "state": "OK",
        "value": "127.0.0.1",
        "unit": None,
        "warning": None,
        "critical": None,
        "text": "127.0.0.1 uses NTS",
    }


def test_require_nts_fails_on_a_refclock(refclock: Daemon) -> None:
    assert [r[:3] for r in chronyc_sources_csv(refclock)] == [["#", "*", "GPS"]]
    status, _, text, _ = check_line(refclock, "--require-nts")
    assert (status, text) == (CRITICAL, "GPS does not use NTS")


def test_require_nts_over_udp_is_unknown(nts: Daemon) -> None:
    # chronyd serves authdata over its Unix socket only.
    with pytest.raises(ChronyPermissionError) as refused:
        with ChronyConnection(nts.udp_v4) as conn:
            conn.get_auth_data()
    status, output = run_check("--socket", nts.udp_v4, "--require-nts")
    assert (status, output) == (UNKNOWN, f"CHRONY UNKNOWN: {refused.value}\n")


def test_require_nts_unknown_when_unsynchronised_and_quiet(unsynced: Daemon) -> None:
    status, record = check_json(unsynced.socket, "--require-nts", "-q")
    assert status == UNKNOWN
    assert by_name(record)["nts"]["text"] == "no source selected (NTS required)"


# --- chronyd cannot be asked: UNKNOWN with the reason ---------------------------------------------


def test_missing_socket_is_unknown(tmp_path: Path) -> None:
    missing = str(tmp_path / "chronyd.sock")
    with pytest.raises(ChronyConnectionError) as raised:
        get_tracking(missing)
    status, output = run_check("--socket", missing)
    assert (status, output) == (UNKNOWN, f"CHRONY UNKNOWN: {raised.value}\n")
    status, record = check_json(missing)
    assert status == UNKNOWN
    assert record["error"] == record["text"] == str(raised.value)
    assert record["checks"] == [] and record["tracking"] is None


def test_frozen_daemon_is_unknown(frozen: Daemon) -> None:
    with pytest.raises(ChronyConnectionError) as raised:
        get_tracking(frozen.socket, timeout=0.3)
    assert raised.value.error_code == -6
    status, output = run_check("--socket", frozen.socket, "-t", "0.3")
    assert (status, output) == (UNKNOWN, f"CHRONY UNKNOWN: {raised.value}\n")


# --- usage: UNKNOWN too ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-w", "abc"], "argument -w/--warning: bad threshold range 'abc': 'abc' is not a number"),
        (["-C", "3:1"], "argument -C/--scrit: bad threshold range '3:1': its start is above"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--leap-pending", "loud"], "argument --leap-pending: invalid choice: 'loud'"),
        (["-t", "0"], "argument -t/--timeout: must be a finite number of seconds"),
        (["--json", "extra"], "unrecognized arguments: extra"),
    ],
)
def test_usage_errors_are_unknown(tmp_path: Path, args: list[str], says: str) -> None:
    status, output = run_check("--socket", str(tmp_path / "none.sock"), *args)
    assert status == UNKNOWN
    assert output.startswith(f"CHRONY UNKNOWN: pychrony check: error: {says}"), output
    assert output.endswith(" (see `pychrony check --help`)\n") and output.count("\n") == 1


def test_help_and_version_exit_unknown() -> None:
    status, output = run_check("--help")
    assert status == UNKNOWN
    options = "-w -c --max-error-warning -W -C --reachable-warning -m -n --leap-pending"
    for option in [*options.split(), "--require-nts", "-q", "--json", "-t", "--socket"]:
        assert f" {option}" in output, option
    import pychrony

    assert run_check("-V") == (UNKNOWN, f"pychrony check {pychrony.__version__}\n")


def test_console_script_exit_status(synced: Daemon) -> None:
    script = Path(sys.executable).parent / "pychrony"
    for args, expected in [((), OK), (("-W", "1"), WARNING), (("-C", "1"), CRITICAL)]:
        proc = subprocess.run(
            [str(script), "check", "--socket", synced.socket, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (proc.returncode, proc.stderr) == (expected, ""), proc
        assert parse_line(proc.stdout)[0] == STATES[expected]

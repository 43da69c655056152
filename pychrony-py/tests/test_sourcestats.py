"""get_source_stats(), ChronyConnection.get_source_stats() and `pychrony sourcestats`, against the
fixture's chronyd in mode "sources" (refclocks GPS fed and NONE unfed; servers 127.0.0.1,
127.0.0.2 and the silent 127.0.0.3) and its `chronyc -c sourcestats -a` / `chronyc -n
sourcestats -a`. chronyd extrapolates the offset to the time of each request, so that column is
compared bracketed between chronyc's two reads around ours; every other column equal."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon, each_line_equal_when_stable
from fake_chronyd import as_sent, fake_chronyd, source_stats_answer, source_stats_data
from pychrony import ChronyConnection, SourceStats, get_source_stats, get_sources
from pychrony.cli import format_source_stats, format_source_stats_csv, main

SCRIPT = Path(sys.executable).parent / "pychrony"
CSV = ("-c", "sourcestats", "-a")
TEXT = ("-n", "sourcestats", "-a")
# The estimated offset's column in chronyc -c sourcestats.
OFFSET_COLUMN = 6


def csv_lines(stats: list[SourceStats]) -> list[str]:
    return format_source_stats_csv(stats).splitlines()


# A table row's offset: a signed number and chronyc's unit (the fixture's offsets are far below
# a minute), followed by the standard deviation.
_ROW_OFFSET = re.compile(r"(.*\s)([+-]\d+(?:\.\d+)?)(ns|us|ms|s)(\s+\S+)")
_EXPONENT = {"ns": "e-9", "us": "e-6", "ms": "e-3", "s": ""}


def text_columns(line: str) -> str:
    """A line of the text table as two comma-separated columns: the line with the offset blanked
    (layout and every other value exact), and the offset in seconds, written so that
    each_line_equal_when_stable brackets it within chronyc's last printed digit ("0" for lines
    without an offset)."""
    m = _ROW_OFFSET.fullmatch(line)
    if m is None:
        return f"{line},0"
    head, number, unit, tail = m.groups()
    return f"{head}{'#' * len(number + unit)}{tail},{number}{_EXPONENT[unit]}"


@dataclasses.dataclass
class TextAsColumns(Daemon):
    """The daemon, its chronyc's text output turned into text_columns."""

    def chronyc(self, *args: str, udp: bool = False, address: str | None = None) -> str:
        text = super().chronyc(*args, udp=udp, address=address)
        return "".join(text_columns(line) + "\n" for line in text.splitlines())


def as_columns(daemon: Daemon) -> TextAsColumns:
    return TextAsColumns(**{f.name: getattr(daemon, f.name) for f in dataclasses.fields(daemon)})


def test_get_source_stats_equals_chronyc_csv(sources: Daemon) -> None:
    got = each_line_equal_when_stable(
        sources,
        CSV,
        lambda: get_source_stats(sources.socket),
        csv_lines,
        extrapolated=(OFFSET_COLUMN,),
    )
    assert [s.address for s in got] == sources.source_addresses()
    # The same sources, in the same order and under the same names, as the sources report.
    assert [s.address for s in got] == [s.address for s in get_sources(sources.socket)]
    assert all(isinstance(s, SourceStats) for s in got)


def test_connection_get_source_stats_equals_chronyc_csv_unix_and_udp(sources: Daemon) -> None:
    for address in (sources.socket, sources.udp_v4):
        with ChronyConnection(address) as conn:

            def read(conn: ChronyConnection = conn) -> list[SourceStats]:
                return conn.get_source_stats()

            each_line_equal_when_stable(
                sources, CSV, read, csv_lines, extrapolated=(OFFSET_COLUMN,)
            )
    # chronyc over UDP lists the same sources as over the socket.
    udp = [line.split(",")[0] for line in sources.chronyc(*CSV, udp=True).splitlines()]
    assert udp == sources.source_addresses()


def test_values_and_types(sources: Daemon) -> None:
    by_address = {s.address: s for s in get_source_stats(sources.socket)}
    assert by_address["GPS"].reference_id == 0x47505300
    assert by_address["NONE"].reference_id == 0x4E4F4E45
    assert by_address["127.0.0.1"].reference_id == 0x7F000001
    for name in ("NONE", "127.0.0.3"):
        # Never sampled: no samples, runs or span, and chronyd's figures for "nothing known".
        never = by_address[name]
        assert (never.samples, never.runs, never.span) == (0, 0, 0)
        assert not never.has_sufficient_samples() and never.has_sufficient_samples(0)
    for s in by_address.values():
        assert all(type(getattr(s, n)) is int for n in ("reference_id", "samples", "runs", "span"))
        assert all(
            type(getattr(s, n)) is float
            for n in ("std_dev", "resid_freq", "skew", "offset", "offset_err")
        )
        assert s.has_sufficient_samples(s.samples) and not s.has_sufficient_samples(s.samples + 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_address["GPS"].samples = 3  # type: ignore[misc]


def cli_lines(args: list[str]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue().splitlines()


def test_cli_text_equals_chronyc_n(sources: Daemon) -> None:
    def read() -> list[str]:
        return cli_lines(["sourcestats", "--socket", sources.socket])

    got = each_line_equal_when_stable(
        as_columns(sources),
        TEXT,
        read,
        lambda lines: [text_columns(line) for line in lines],
        extrapolated=(1,),
    )
    assert len(got) == 2 + len(sources.source_addresses())


def test_cli_verbose_text_equals_chronyc_n_v(sources: Daemon) -> None:
    def read() -> list[str]:
        return cli_lines(["sourcestats", "-v", "--socket", sources.socket])

    got = each_line_equal_when_stable(
        as_columns(sources),
        (*TEXT, "-v"),
        read,
        lambda lines: [text_columns(line) for line in lines],
        extrapolated=(1,),
    )
    assert len(got) == 9 + 2 + len(sources.source_addresses())


def test_cli_csv_equals_chronyc_c(sources: Daemon) -> None:
    each_line_equal_when_stable(
        sources,
        CSV,
        lambda: cli_lines(["sourcestats", "--csv", "--socket", sources.socket]),
        list,
        extrapolated=(OFFSET_COLUMN,),
    )


def test_cli_json_has_the_fields_and_equals_chronyc_c(sources: Daemon) -> None:
    def read() -> list[str]:
        records = json.loads(
            "\n".join(cli_lines(["sourcestats", "--json", "--socket", sources.socket]))
        )
        names = [f.name for f in dataclasses.fields(SourceStats)]
        assert all(list(r) == names for r in records)
        return csv_lines([SourceStats(**r) for r in records])

    each_line_equal_when_stable(sources, CSV, read, list, extrapolated=(OFFSET_COLUMN,))


def test_cli_process_exit_codes_and_stable_lines(sources: Daemon, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "sourcestats", "--socket", sources.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    theirs = sources.chronyc(*TEXT).splitlines()
    ours = proc.stdout.splitlines()
    assert len(ours) == len(theirs)
    # The head and the never-sampled sources never change.
    for line in ours[:2] + [x for x in ours if x.startswith(("NONE ", "127.0.0.3 "))]:
        assert line in theirs, line
    bad = subprocess.run(
        [str(SCRIPT), "sourcestats", "--socket", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")


def test_errors_are_those_of_get_tracking(tmp_path: Path) -> None:
    missing = str(tmp_path / "chronyd.sock")
    with pytest.raises(pychrony.ChronyConnectionError) as stats_error:
        get_source_stats(missing)
    with pytest.raises(pychrony.ChronyConnectionError) as tracking_error:
        pychrony.get_tracking(missing)
    assert stats_error.value.error_code == tracking_error.value.error_code
    with pytest.raises(TypeError):
        get_source_stats(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_source_stats(missing, timeout=-1)


def test_names_and_units_as_chronyc_prints_them(sources: Daemon) -> None:
    # What a real chronyd does not have on demand: an unresolved name, a long IPv6 address (the
    # name column is never cut), spans of minutes and days or none, offsets of seconds and
    # more, frequencies of 5 digits and more. The real chronyc prints the same records.
    ipv6 = bytes.fromhex("20010db8123456789abcdef012345678")
    records = [
        source_stats_data(
            ref_id=0x50505300,
            family=0,
            address=b"",
            samples=64,
            runs=30,
            span=4_000_000,
            std_dev=2.5e-4,
            resid_freq=123456.7,
            offset=-12.5,
        ),
        source_stats_data(
            ref_id=0x12345678, family=3, address=bytes([0, 0, 0, 7]), samples=0, span=0xFFFFFFFF
        ),
        source_stats_data(
            ref_id=0x0A0B0C0D, family=2, address=ipv6, span=1300, resid_freq=-99999.4, skew=7.5
        ),
        source_stats_data(span=50_000, std_dev=7200.0, offset=3e4, skew=150000.0),
    ]
    with fake_chronyd(source_stats_answer(records)) as address:
        with ChronyConnection(address, timeout=1.0) as conn:
            got = conn.get_source_stats()
        for verbose in (False, True):
            theirs = sources.chronyc(*TEXT, *(["-v"] if verbose else []), address=address)
            assert format_source_stats(got, verbose=verbose) == theirs
        assert format_source_stats_csv(got) == sources.chronyc(*CSV, address=address)
    assert [s.address for s in got] == [
        "PPS",
        "ID#0000000007",
        "2001:db8:1234:5678:9abc:def0:1234:5678",
        "192.0.2.1",
    ]
    assert got[0].reference_id == 0x50505300 and got[1].span == 0xFFFFFFFF
    assert got[0].resid_freq == as_sent(123456.7) and got[3].offset == as_sent(3e4)
    assert got[3].offset_err == as_sent(4e-6)

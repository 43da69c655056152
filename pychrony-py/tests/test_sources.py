"""get_sources(), ChronyConnection.get_sources() and `pychrony sources`, against the fixture's
chronyd in mode "sources" (refclocks GPS fed and NONE unfed; servers 127.0.0.1 prefer, 127.0.0.2
noselect, 127.0.0.3 silent) and its `chronyc -c sources -a` / `chronyc -n sources -a`."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon, each_line_equal_when_stable
from fake_chronyd import as_sent, fake_chronyd, source_data, sources_answer
from pychrony import ChronyConnection, Source, SourceMode, SourceState, get_sources
from pychrony.cli import format_sources, format_sources_csv, main

SCRIPT = Path(sys.executable).parent / "pychrony"
CSV = ("-c", "sources", "-a")
TEXT = ("-n", "sources", "-a")


def csv_lines(sources: list[Source]) -> list[str]:
    return format_sources_csv(sources).splitlines()


def test_get_sources_equals_chronyc_csv(sources: Daemon) -> None:
    got = each_line_equal_when_stable(sources, CSV, lambda: get_sources(sources.socket), csv_lines)
    assert [s.address for s in got] == sources.source_addresses()
    assert all(isinstance(s, Source) for s in got)


def test_connection_get_sources_equals_chronyc_csv_unix_and_udp(sources: Daemon) -> None:
    for address, udp in ((sources.socket, False), (sources.udp_v4, True)):
        with ChronyConnection(address) as conn:

            def read(conn: ChronyConnection = conn) -> list[Source]:
                return conn.get_sources()

            each_line_equal_when_stable(sources, (*CSV,), read, csv_lines)
            if udp:
                # chronyc over UDP lists the same sources as over the socket.
                lines = sources.chronyc(*CSV, udp=True).splitlines()
                assert len(lines) == len(sources.source_addresses())


def test_values_and_types(sources: Daemon) -> None:
    by_address = {s.address: s for s in get_sources(sources.socket)}
    gps, none = by_address["GPS"], by_address["NONE"]
    assert gps.mode is SourceMode.REFCLOCK and gps.mode.symbol == "#"
    assert gps.reference_id == 0x47505300 and none.reference_id == 0x4E4F4E45
    assert none.last_sample_ago is None and none.reachability == 0 and not none.is_reachable()
    silent = by_address["127.0.0.3"]
    assert silent.mode is SourceMode.CLIENT and silent.reference_id is None
    assert silent.state is SourceState.NONSELECTABLE and silent.state.symbol == "?"
    assert silent.last_sample_ago is None and not silent.is_reachable()
    for s in by_address.values():
        assert type(s.state) is SourceState and type(s.mode) is SourceMode
        assert isinstance(s.latest_meas, float) and isinstance(s.poll, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        gps.poll = 3  # type: ignore[misc]


def test_selected_source_is_the_preferred_server(sources: Daemon) -> None:
    # chronyd may reselect for a moment; its own list says which one is `*` now.
    def read() -> list[Source]:
        return get_sources(sources.socket)

    got = each_line_equal_when_stable(sources, CSV, read, csv_lines)
    selected = [s for s in got if s.is_selected()]
    starred = [r.split(",")[2] for r in sources.chronyc(*CSV).splitlines() if r[2] == "*"]
    assert len(selected) <= 1 and len(starred) <= 1
    assert all(s.state is SourceState.SELECTED for s in selected)
    noselect = next(s for s in got if s.address == "127.0.0.2")
    assert noselect.state is SourceState.NONSELECTABLE and not noselect.is_selected()
    assert [s.is_reachable() for s in got] == [s.reachability & 0xFF != 0 for s in got]


def cli_lines(args: list[str]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue().splitlines()


def test_cli_text_equals_chronyc_n(sources: Daemon) -> None:
    each_line_equal_when_stable(
        sources, TEXT, lambda: cli_lines(["sources", "--socket", sources.socket]), list
    )


def test_cli_verbose_text_equals_chronyc_n_v(sources: Daemon) -> None:
    each_line_equal_when_stable(
        sources,
        ("-n", "sources", "-a", "-v"),
        lambda: cli_lines(["sources", "-v", "--socket", sources.socket]),
        list,
    )


def test_cli_csv_equals_chronyc_c(sources: Daemon) -> None:
    each_line_equal_when_stable(
        sources, CSV, lambda: cli_lines(["sources", "--csv", "--socket", sources.socket]), list
    )


def test_cli_json_has_the_fields_and_equals_chronyc_c(sources: Daemon) -> None:
    def read() -> list[str]:
        records = json.loads(
            "\n".join(cli_lines(["sources", "--json", "--socket", sources.socket]))
        )
        names = [f.name for f in dataclasses.fields(Source)]
        assert all(list(r) == [*names, "reachable", "selected"] for r in records)
        return csv_lines(
            [
                Source(
                    **{
                        **{k: r[k] for k in names},
                        "state": SourceState[r["state"]],
                        "mode": SourceMode[r["mode"]],
                    }
                )
                for r in records
            ]
        )

    each_line_equal_when_stable(sources, CSV, read, list)


def test_cli_process_exit_codes_and_stable_lines(sources: Daemon) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "sources", "--socket", sources.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    theirs = sources.chronyc(*TEXT).splitlines()
    ours = proc.stdout.splitlines()
    assert len(ours) == len(theirs)
    # The unfed refclock and the silent server never change; the head neither.
    for line in ours[:2] + [x for x in ours if " NONE " in x or "127.0.0.3" in x]:
        assert line in theirs, line
    bad = subprocess.run(
        [str(SCRIPT), "sources", "--socket", str(Path(sources.socket).parent / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("pychrony: ")


def test_errors_are_those_of_get_tracking(tmp_path: Path) -> None:
    missing = str(tmp_path / "chronyd.sock")
    with pytest.raises(pychrony.ChronyConnectionError) as sources_error:
        get_sources(missing)
    with pytest.raises(pychrony.ChronyConnectionError) as tracking_error:
        pychrony.get_tracking(missing)
    assert sources_error.value.error_code == tracking_error.value.error_code
    with pytest.raises(TypeError):
        get_sources(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        get_sources(missing, timeout=-1)


def test_unknown_state_and_mode_and_units_as_chronyc_prints_them(sources: Daemon) -> None:
    # What a real chronyd does not have on demand: a newer chronyd's state and mode, samples long
    # ago, large offsets, a record never sampled. The real chronyc prints the same records.
    records = [
        source_data(
            state=9, mode=7, since_sample=4_000_000, latest_meas=-12.5, orig_latest_meas=3e4
        ),
        source_data(since_sample=50_000, latest_meas=2.5e-7, latest_meas_err=7.0),
        source_data(
            since_sample=0xFFFFFFFF, reachability=0, latest_meas=-5e5, orig_latest_meas=2e9
        ),
        source_data(since_sample=1300, state=4, latest_meas=0.0123, latest_meas_err=250.0),
    ]
    with fake_chronyd(sources_answer(records)) as address:
        with ChronyConnection(address, timeout=1.0) as conn:
            got = conn.get_sources()
        assert (
            format_sources(got).splitlines() == sources.chronyc(*TEXT, address=address).splitlines()
        )
        assert csv_lines(got) == sources.chronyc(*CSV, address=address).splitlines()
    assert got[0].state == 9 and got[0].state.name == "UNKNOWN_9" and got[0].state.symbol == " "
    assert got[0].mode is SourceMode(7) and got[0].mode.symbol == " "
    assert SourceState(9) is got[0].state and isinstance(got[0].state, SourceState)
    assert got[1].latest_meas == as_sent(2.5e-7) and got[2].last_sample_ago is None
    with pytest.raises(ValueError):
        SourceState(-1)
    with pytest.raises(ValueError):
        SourceMode(0x10000)


@pytest.mark.parametrize(
    "member",
    [SourceState(9), SourceMode(7), SourceState.SELECTED],
    ids=["unknown state", "unknown mode", "known"],
)
def test_members_copy_and_pickle_as_themselves(member: SourceState | SourceMode) -> None:
    # Python 3.11.2 (Debian 12's) reduces an enum member by name: an UNKNOWN_<n> pseudo-member is
    # no attribute of its class, so copy.deepcopy (dataclasses.asdict, --json) and pickle failed.
    assert copy.deepcopy(member) is member
    assert copy.copy(member) is member
    assert pickle.loads(pickle.dumps(member)) is member

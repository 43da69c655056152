"""Merges the runners' samples into results.json, prints the table and draws the chart.

Run by `cargo xtask bench` with the bench venv's interpreter (it has matplotlib):
``report.py --raw DIR --fact KEY=VALUE... --chronyd PATH --peer-python PATH --results OUT.json
--chart OUT.png``. The facts are the run's plan and loads (a VALUE that parses as JSON is taken as
such); the machine's own facts (CPU, kernel, versions) are read here. DIR holds the
runners' JSON files (`rust-*.json`, `python-ours-*.json`, `python-peer-*.json`: every sample of
every case, in ns; several rounds of the same case are merged), `memory-*.json` and
`startup-*.json`. Statistics: median, p99 (nearest rank), mean; calls per second = 1 / mean
(back-to-back calls in one thread).
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from importlib import metadata
from typing import Any

# Display order and grouping: (id prefix, group) per implementation.
ORDER = [
    "floor.raw",
    "floor.python",
    "floor.asyncio",
    "core.reused",
    "core.shared",
    "async.reused",
    "core.one_call",
    "core.open_close",
    "ours.reused",
    "ours.get_tracking",
    "ours.open_close",
    "aio.reused",
    "peer.reused",
    "peer.open_close",
    "chronyc.subprocess",
    # The reports of every source (the chart's second row).
    "core.sources",
    "ours.sources",
    "core.snapshot",
    "core.sequential_all",
    "chronyc.script",
    "exporter.scrape",
    "chronyc.exporter_script",
    # Many daemons (the UDP ports of `many_daemons` more chronyd): one sample polls them all.
    "many.sequential",
    "many.concurrent",
    "aiomany.sequential",
    "aiomany.concurrent",
]
# One sample = the tracking of every one of the many daemons.
MANY = {"many.sequential", "many.concurrent", "aiomany.sequential", "aiomany.concurrent"}
# The cases reading more than tracking; the rest time one tracking call.
REPORTS = {
    "core.sources",
    "ours.sources",
    "core.snapshot",
    "core.sequential_all",
    "chronyc.script",
    "exporter.scrape",
    "chronyc.exporter_script",
} | MANY
# x_blocking: an async case against the blocking call it wraps, same transport.
BLOCKING_TWIN = {"async.reused": "core.reused", "aio.reused": "ours.reused"}
# x_sequential: the many daemons at once against one after another.
SEQUENTIAL_TWIN = {
    "many.concurrent": "many.sequential",
    "aiomany.concurrent": "aiomany.sequential",
}
# x_tracking: a case against one tracking round trip of a reused Connection, same transport.
TRACKING = "core.reused"
# x_rust: a pychrony case against chrony-core doing the same.
RUST_TWIN = {
    "ours.reused": "core.reused",
    "ours.get_tracking": "core.one_call",
    "ours.open_close": "core.open_close",
    "ours.sources": "core.sources",
}
GROUP = {
    "floor": ("raw socket, std only (floor)", "#7f7f7f"),
    "core": ("chrony-core (Rust)", "#d95f02"),
    "async": ("chrony-core AsyncConnection (tokio)", "#e6ab02"),
    "many": ("16 daemons (Rust: blocking, tokio)", "#a6761d"),
    "aio": ("pychrony.aio (asyncio)", "#66c2a5"),
    "aiomany": ("16 daemons (Python: blocking, asyncio)", "#8c6d31"),
    "ours": ("pychrony (this project)", "#1b9e77"),
    "peer": ("pychrony 2.0.3 (PyPI)", "#e7298a"),
    "chronyc": ("chronyc subprocess", "#7570b3"),
    "exporter": ("pychrony exporter scrape", "#66a61e"),
}
NAMES = {
    "floor.raw": "raw persistent socket (floor)",
    "floor.python": "the same from Python (socket module)",
    "floor.asyncio": "the same in asyncio (loop.sock_recv)",
    "core.reused": "chrony-core: Connection reused",
    "core.shared": "chrony-core: SharedConnection reused",
    "async.reused": "chrony-core: AsyncConnection reused",
    "core.one_call": "chrony-core: tracking(path)",
    "core.open_close": "chrony-core: open+query+drop",
    "ours.reused": "pychrony: connection reused",
    "ours.get_tracking": "pychrony: get_tracking(path)",
    "ours.open_close": "pychrony: open+query+close",
    "peer.reused": "pychrony 2.0.3: connection reused",
    "peer.open_close": "pychrony 2.0.3: open+query+close",
    "chronyc.subprocess": "chronyc -c tracking (subprocess)",
    "core.sources": "chrony-core: sources()",
    "ours.sources": "pychrony: get_sources()",
    "core.snapshot": "chrony-core: snapshot()",
    "core.sequential_all": "chrony-core: same, one by one",
    "chronyc.script": "chronyc sources+sourcestats+tracking+activity",
    "many.sequential": "every daemon, one after another",
    "many.concurrent": "every daemon at once (tokio)",
    "aio.reused": "pychrony.aio: connection reused",
    "aiomany.sequential": "every daemon, one after another (Python)",
    "aiomany.concurrent": "every daemon at once (asyncio)",
    "exporter.scrape": "pychrony exporter: one scrape",
    "chronyc.exporter_script": "chronyc tracking+sources+serverstats",
}


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def stats(samples: list[int]) -> dict[str, Any]:
    s = sorted(samples)
    mean = statistics.fmean(s)
    return {
        "n": len(s),
        "median_us": statistics.median(s) / 1000,
        "p99_us": percentile(s, 99) / 1000,
        "mean_us": mean / 1000,
        "min_us": s[0] / 1000,
        "max_us": s[-1] / 1000,
        "calls_per_s": 1e9 / mean,
    }


def load_cases(raw: str) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for path in sorted(
        glob.glob(os.path.join(raw, "rust-*.json")) + glob.glob(os.path.join(raw, "python-*.json"))
    ):
        with open(path) as f:
            doc = json.load(f)
        for case in doc["cases"]:
            entry = merged.setdefault(
                case["id"], {"label": case["label"], "runner": doc["runner"], "samples": []}
            )
            entry["samples"].extend(case["samples_ns"])
    return merged


def sort_key(case_id: str) -> tuple[int, int]:
    prefix, transport = case_id.rsplit(".", 1)
    return (ORDER.index(prefix) if prefix in ORDER else len(ORDER), transport != "unix")


def ms(us: float | None) -> float | None:
    """Microseconds in milliseconds; None stays None."""
    return None if us is None else us / 1000


def goal(text: str, case: str, value: float | None, limit: float, **beside: Any) -> dict[str, Any]:
    """A goal of the report: `value` (of `case`) at most `limit`, with what is shown `beside` it."""
    met = value is not None and value <= limit
    return {"goal": text, "case": case, "value": value, "limit": limit, "met": met, **beside}


def ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    if a is None or b is None:
        return None
    return float(a["median_us"]) / float(b["median_us"])


METHOD = (
    "one fixture chronyd with `sources` sources (chronyd -x on loopback, mode sources:8: "
    "minpoll -4 client of a local stratum-1 server (selected) and a stratum-3 one (noselect), "
    "four server addresses where nothing answers, a fed and an unfed SOCK refclock); the daemon "
    "and every client process pinned to cpu_pinned (taskset), its NTP servers and refclock "
    "feeder to the other core; runners take turns over `rounds`, cases within a runner in 10 "
    "blocks, each case warmed up first; release builds (cargo --release, maturin build "
    "--release) unless quick; async cases on a current-thread tokio runtime (the client one "
    "thread, as in the blocking cases); the many-daemon cases poll `many_daemons` more "
    "fixture chronyd (mode unsynced, each on its own loopback UDP command port), pinned to "
    "the core the clients do not use, so the client's core runs only the client, as when it "
    "polls a fleet elsewhere; the daemons' own work is serialised on that one core, which "
    "slows only the concurrent case; a wake-up across cores makes each of the sequential "
    "case's round trips dearer than core.reused's (its x_tracking says by how much)"
)


def first_line(*command: str) -> str:
    """The first line a command prints (stdout, else stderr), or "" when it cannot run."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except OSError:
        return ""
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


def meta(args: argparse.Namespace) -> dict[str, Any]:
    """What the report needs besides the samples: when, where, how loaded, how many."""
    facts: dict[str, Any] = {}
    for fact in args.fact:
        key, _, value = fact.partition("=")
        try:
            facts[key] = json.loads(value)
        except json.JSONDecodeError:
            facts[key] = value
    cpu_model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name") and ":" in line:
                cpu_model = line.split(":", 1)[1].strip()
                break
    facts["build"] = "dev (debug) builds" if facts.get("quick") else "release builds"
    peer = "import importlib.metadata as m; print(m.version('pychrony'))"
    return {
        **facts,
        "cpus": os.cpu_count() or 1,
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "chronyd": first_line(args.chronyd, "--version"),
        "rustc": first_line("rustc", "-V"),
        "python": f"Python {sys.version}".replace("\n", " "),
        "pychrony_ours": metadata.version("chrony-monitor"),
        "pychrony_peer": first_line(args.peer_python, "-c", peer),
        "socket_dir_leftovers": args.leftover,
        "method": METHOD,
    }


def build(args: argparse.Namespace) -> dict[str, Any]:
    merged = load_cases(args.raw)
    cases: dict[str, dict[str, Any]] = {}
    for case_id in sorted(merged, key=sort_key):
        entry = merged[case_id]
        cases[case_id] = {
            "label": entry["label"],
            "runner": entry["runner"],
            "transport": case_id.rsplit(".", 1)[1],
            **stats(entry["samples"]),
        }
    for case_id, c in cases.items():
        prefix, transport = case_id.rsplit(".", 1)
        c["x_floor"] = ratio(c, cases.get(f"floor.raw.{transport}"))
        c["x_peer_open_close"] = ratio(c, cases.get(f"peer.open_close.{transport}"))
        if prefix.endswith(".reused"):
            c["x_peer_reused"] = ratio(c, cases.get(f"peer.reused.{transport}"))
        if prefix in REPORTS:
            c["x_tracking"] = ratio(c, cases.get(f"{TRACKING}.{transport}"))
        if prefix in RUST_TWIN:
            c["x_rust"] = ratio(c, cases.get(f"{RUST_TWIN[prefix]}.{transport}"))
        if prefix in BLOCKING_TWIN:
            c["x_blocking"] = ratio(c, cases.get(f"{BLOCKING_TWIN[prefix]}.{transport}"))
        if prefix in SEQUENTIAL_TWIN:
            c["x_sequential"] = ratio(c, cases.get(f"{SEQUENTIAL_TWIN[prefix]}.{transport}"))

    memory: list[Any] = []
    for path in sorted(glob.glob(os.path.join(args.raw, "memory-*.json"))):
        with open(path) as f:
            memory.extend(json.load(f))
    startup: dict[str, Any] = {}
    for path in sorted(glob.glob(os.path.join(args.raw, "startup-*.json"))):
        with open(path) as f:
            for key, value in json.load(f).items():
                value["import_first_call_ms_median"] = (
                    statistics.median(value["import_first_call_s"]) * 1e3
                )
                value["process_ms_median"] = statistics.median(value["process_s"]) * 1e3
                startup[key] = value

    def get(case_id: str, field: str) -> float | None:
        c = cases.get(case_id)
        return None if c is None else c.get(field)

    goals = [
        goal(
            "one-call API <= 0.25 x pychrony 2.0.3 open+query+close (unix)",
            "core.one_call.unix",
            get("core.one_call.unix", "x_peer_open_close"),
            0.25,
            python_get_tracking=get("ours.get_tracking.unix", "x_peer_open_close"),
        )
    ]
    for transport in ("unix", "udp"):
        case = f"core.reused.{transport}"
        goals.append(
            goal(
                f"reused connection <= 1.5 x raw floor ({transport})",
                case,
                get(case, "x_floor"),
                1.5,
                python_reused=get(f"ours.reused.{transport}", "x_floor"),
            )
        )
    for transport in ("unix", "udp"):
        case = f"ours.reused.{transport}"
        goals.append(
            goal(
                f"pychrony reused get_tracking() <= 1.5 x raw floor ({transport})",
                case,
                get(case, "x_floor"),
                1.5,
                x_rust=get(case, "x_rust"),
                # Against the floor as Python itself pays it (the socket module).
                x_python_floor=ratio(cases.get(case), cases.get(f"floor.python.{transport}")),
            )
        )
    facts = meta(args)
    sources = facts.get("sources", "?")
    goals.append(
        goal(
            f"snapshot ({sources} sources) <= 3 x one tracking round trip (unix)",
            "core.snapshot.unix",
            get("core.snapshot.unix", "x_tracking"),
            3.0,
            sequential_x_tracking=get("core.sequential_all.unix", "x_tracking"),
            chronyc_script_x_tracking=get("chronyc.script.unix", "x_tracking"),
        )
    )
    for transport in ("unix", "udp"):
        case = f"ours.sources.{transport}"
        goals.append(
            goal(
                f"pychrony get_sources() ({sources} sources) <= 1.5 x "
                f"Connection::sources() ({transport})",
                case,
                get(case, "x_rust"),
                1.5,
            )
        )
    for prefix, call in (
        ("async", "AsyncConnection tracking()"),
        ("aio", "AsyncChronyConnection get_tracking()"),
    ):
        for transport in ("unix", "udp"):
            case = f"{prefix}.reused.{transport}"
            goals.append(
                goal(
                    f"reused {call} <= 1.3 x the blocking call ({transport})",
                    case,
                    get(case, "x_blocking"),
                    1.3,
                    x_floor=get(case, "x_floor"),
                )
            )
    daemons = facts.get("many_daemons", "?")
    delay = facts.get("lan_delay_us", "?")
    # The goal is for fleets, whose answers take a network round trip (the `lan` cases: relays
    # hold each datagram `lan_delay_us` each way); on loopback (`udp`) a call is mostly CPU, which
    # two cores cannot overlap much: shown beside it, not a goal.
    for prefix, api in (("many", "tokio"), ("aiomany", "asyncio")):
        case = f"{prefix}.concurrent.lan"
        goals.append(
            goal(
                f"{daemons} daemons at once ({api}) <= 0.25 x one after another, "
                f"{delay} µs each way (lan)",
                case,
                get(case, "x_sequential"),
                0.25,
                sequential_ms=ms(get(f"{prefix}.sequential.lan", "median_us")),
                concurrent_ms=ms(get(case, "median_us")),
                loopback_x_sequential=get(f"{prefix}.concurrent.udp", "x_sequential"),
            )
        )
    scrape = "exporter.scrape.unix"
    goals.append(
        goal(
            f"exporter scrape (tracking + {sources} sources + serverstats) <= 1 ms median (unix)",
            scrape,
            ms(get(scrape, "median_us")),
            1.0,
            x_tracking=get(scrape, "x_tracking"),
            # The chronyc runs a textfile script makes for the same reports.
            chronyc_script_ms=ms(get("chronyc.exporter_script.unix", "median_us")),
            x_chronyc_script=ratio(cases.get(scrape), cases.get("chronyc.exporter_script.unix")),
        )
    )
    goals.append(
        goal(
            "import pychrony + first get_tracking() <= 20 ms (inside the process)",
            "startup.ours",
            startup.get("ours", {}).get("import_first_call_ms_median"),
            20.0,
        )
    )
    return {
        **facts,
        "statistics": "median and p99 (nearest rank) of every sample; calls_per_s = "
        "1 / mean; x_* = ratio of medians: x_floor to the raw socket, x_peer_* to pychrony 2.0.3, "
        "x_tracking to one tracking round trip of a reused Connection (core.reused), x_rust to "
        "chrony-core doing the same, x_blocking an async case to the blocking call, x_sequential "
        "the many daemons at once to one after another, all on the same transport",
        "cases": cases,
        "goals": goals,
        "memory": memory,
        "startup": startup,
    }


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_table(results: dict[str, Any]) -> None:
    print(
        f"\n{'case':<27} {'':<36} {'median µs':>10} {'p99 µs':>9} {'calls/s':>9} "
        f"{'×floor':>7} {'×peer o+q+c':>11} {'×peer reused':>12} {'×tracking':>9} {'×Rust':>6} "
        f"{'×blocking':>9} {'×seq':>6}"
    )
    for case_id, c in results["cases"].items():
        print(
            f"{case_id:<27} {NAMES.get(case_id.rsplit('.', 1)[0], c['label'])[:36]:<36} "
            f"{c['median_us']:10.1f} {c['p99_us']:9.1f} {c['calls_per_s']:9.0f} "
            f"{fmt(c['x_floor'], '7.2f'):>7} {fmt(c['x_peer_open_close'], '11.3f'):>11} "
            f"{fmt(c.get('x_peer_reused'), '12.2f'):>12} {fmt(c.get('x_tracking'), '9.2f'):>9} "
            f"{fmt(c.get('x_rust'), '6.2f'):>6} {fmt(c.get('x_blocking'), '9.2f'):>9} "
            f"{fmt(c.get('x_sequential'), '6.3f'):>6}"
        )
    print("\nmemory (RSS, KiB):")
    for m in results["memory"]:
        print(
            f"  {m['impl']:<5} {m['api']:<13} start {m['rss_kib_start']:>7}  after import "
            f"{m['rss_kib_after_import']:>7}  after {m['calls']} calls "
            f"{m['rss_kib_after_calls']:>7}"
        )
    print("\nimport + first call (medians):")
    for key, s in results["startup"].items():
        instr = s.get("process_instructions")
        print(
            f"  {key:<12} inside the process {s['import_first_call_ms_median']:7.2f} ms, "
            f"whole `python -c` process {s['process_ms_median']:7.2f} ms"
            + ("" if instr is None else f", {instr / 1e6:.1f} M instructions (callgrind)")
        )
    print("\ngoals:")
    for g in results["goals"]:
        extra = {k: v for k, v in g.items() if k not in ("goal", "case", "value", "limit", "met")}
        more = "".join(f"; {k} {fmt(v, '.3f')}" for k, v in extra.items())
        print(f"  [{'met' if g['met'] else 'MISSED'}] {g['goal']}: {fmt(g['value'], '.3f')}{more}")


def bars(ax: Any, rows: list[tuple[str, dict[str, Any]]], ratio_of: Any) -> None:
    """Horizontal bars (median, whisker to p99), the first row at the top, each labelled with its
    median and the ratio `ratio_of(case_id, case)` gives (text, or None)."""
    rows = list(reversed(rows))
    y = list(range(len(rows)))
    medians = [c["median_us"] for _, c in rows]
    p99 = [c["p99_us"] for _, c in rows]
    colors = [GROUP[cid.split(".")[0]][1] for cid, _ in rows]
    ax.barh(y, medians, color=colors)
    ax.hlines(y, medians, p99, color="black", lw=0.8, zorder=3)
    ax.scatter(p99, y, marker="|", s=80, color="black", zorder=3)
    for yi, (cid, c) in zip(y, rows, strict=True):
        text = f"{c['median_us']:.0f} µs" if c["median_us"] >= 100 else f"{c['median_us']:.1f} µs"
        extra = ratio_of(cid, c)
        if extra:
            text += f"  ({extra})"
        ax.text(max(c["median_us"], c["p99_us"]) * 1.15, yi, text, fontsize=7.5, va="center")
    ax.set_yticks(y)
    ax.set_yticklabels([NAMES.get(cid.rsplit(".", 1)[0], cid) for cid, _ in rows], fontsize=8)
    ax.set_xscale("log")
    ax.grid(axis="x", which="both", alpha=0.3)


def tracking_ratio(_cid: str, c: dict[str, Any]) -> str | None:
    if not c.get("x_floor"):
        return None
    blocking = f", {c['x_blocking']:.2f}× blocking" if c.get("x_blocking") else ""
    return f"{c['x_floor']:.2f}× floor{blocking}"


def report_ratio(cid: str, c: dict[str, Any]) -> str | None:
    """Against Rust for pychrony, against one tracking round trip for the rest."""
    if c.get("x_rust") is not None:
        return f"{c['x_rust']:.2f}× Rust"
    if c.get("x_sequential") is not None:
        return f"{c['x_sequential']:.3f}× one after another"
    if cid.startswith(TRACKING + "."):
        return "the ×tracking reference"
    if c.get("x_tracking") is not None:
        return f"{c['x_tracking']:.1f}× tracking"
    return None


def chart(results: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    transports = ["unix", "udp"]
    cases = results["cases"]
    # Top: one tracking call per case. Bottom: the reports of every source, beside one tracking
    # round trip (the x_tracking reference) on the same daemon.
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.6), height_ratios=[3, 2])
    sources = results.get("sources", "?")
    for ax, transport in zip(axes[0], transports, strict=True):
        rows = [
            (cid, c)
            for cid, c in cases.items()
            if c["transport"] == transport and cid.rsplit(".", 1)[0] not in REPORTS
        ]
        bars(ax, rows, tracking_ratio)
        ax.set_title("unix socket" if transport == "unix" else "UDP command port (127.0.0.1)")
        ax.set_xlabel("µs per tracking call, log scale: bar = median, whisker to p99")
        ax.set_xlim(5, 300000)
    for ax, transport in zip(axes[1], transports, strict=True):
        reference = f"{TRACKING}.{transport}"
        rows = [(reference, cases[reference])] if reference in cases else []
        rows += [
            (cid, c)
            for cid, c in cases.items()
            if c["transport"] == transport and cid.rsplit(".", 1)[0] in REPORTS
        ]
        bars(ax, rows, report_ratio)
        where = "unix socket" if transport == "unix" else "UDP"
        many = f"; {results.get('many_daemons', '?')} daemons" if transport == "udp" else ""
        ax.set_title(f"{where}: reports of all {sources} sources{many}")
        ax.set_xlabel("µs per call, log scale: bar = median, whisker to p99")
        ax.set_xlim(5, 300000)
    handles = [plt.Rectangle((0, 0), 1, 1, color=color) for _, color in GROUP.values()]
    fig.legend(
        handles,
        [name for name, _ in GROUP.values()],
        loc="lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    load = results.get("loadavg_start", "?"), results.get("loadavg_end", "?")
    fig.suptitle(
        f"chronyd queries, one CPU core for client and daemon "
        f"({results.get('date', '')}, load avg {load[0]} → {load[1]})",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")  # the labels right of the bars too
    print(f"chart: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", required=True)
    parser.add_argument("--fact", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--leftover", action="append", default=[], metavar="NAME")
    parser.add_argument("--chronyd", required=True)
    parser.add_argument("--peer-python", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--chart", required=True)
    args = parser.parse_args()
    results = build(args)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print_table(results)
    chart(results, args.chart)
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()

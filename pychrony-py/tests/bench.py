"""Median cost per call on a fixture chronyd: `python bench.py` (uses `cargo xtask chronyd`).

Not a test: numbers depend on the machine. Run it with the venv's python after run.sh.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable

from conftest import start_daemon

from pychrony import ChronyConnection, get_tracking


def median_us(call: Callable[[], object], n: int = 2000) -> float:
    for _ in range(50):
        call()
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def main() -> None:
    daemon = start_daemon("start")
    try:
        rows = [("get_tracking(path) (pooled unix connection)",
                 median_us(lambda: get_tracking(daemon.socket)))]
        with ChronyConnection(daemon.socket) as conn:
            rows.append(("ChronyConnection(unix).get_tracking()", median_us(conn.get_tracking)))
        with ChronyConnection(daemon.udp_v4) as conn:
            rows.append(("ChronyConnection(udp).get_tracking()", median_us(conn.get_tracking)))

        def open_read_close_udp() -> None:
            with ChronyConnection(daemon.udp_v4) as c:
                c.get_tracking()

        def open_read_close_unix() -> None:
            with ChronyConnection(daemon.socket) as c:
                c.get_tracking()

        rows.append(("ChronyConnection(udp): open + read + close", median_us(open_read_close_udp)))
        rows.append(("ChronyConnection(unix): open + read + close",
                     median_us(open_read_close_unix, 500)))
        rows.append(("chronyc -c tracking (subprocess)", median_us(
            lambda: subprocess.run(["chronyc", "-h", daemon.socket, "-c", "tracking"],
                                   capture_output=True, check=True), 100)))
        for name, value in rows:
            print(f"{value:9.1f} us  {name}")
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()

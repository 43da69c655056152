"""`pychrony exporter` as a process on a free loopback port, for the tests that scrape it."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "pychrony"


class Exporter:
    """`pychrony exporter` on a free port of `listen`'s address (loopback), as a process."""

    def __init__(self, *args: str, listen: str = "127.0.0.1:0") -> None:
        self.proc = subprocess.Popen(
            [str(SCRIPT), "exporter", "--listen", listen, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        host = listen.rpartition(":")[0]
        assert line.startswith(f"pychrony exporter: serving http://{host}:"), (
            line + self.proc.stderr.read() if self.proc.stderr else line
        )
        self.url = line.split()[-1]
        self.base = self.url.removesuffix("/metrics")

    def get(self, url: str, timeout: float = 10.0) -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return reply.status, reply.headers["Content-Type"], reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err

    def close(self) -> None:
        """Kills it if it still runs, and closes its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)

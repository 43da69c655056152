"""`pychrony exporter` as a process on a free loopback port, for the tests that scrape it."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "pychrony"


class Exporter:
    """`pychrony exporter` on a free port of `listen`'s address (loopback), as a process."""

    def __init__(
        self, *args: str, listen: str = "127.0.0.1:0", command: Sequence[str] = (str(SCRIPT),)
    ) -> None:
        """`command` runs the tool: the installed script, or e.g. a Python program that patches
        something first and calls ``pychrony.cli.main``."""
        self.proc = subprocess.Popen(
            [*command, "exporter", "--listen", listen, *args],
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
        status, headers, body = self.request(url, timeout=timeout)
        return status, headers["Content-Type"], body.decode()

    def request(
        self, url: str, headers: dict[str, str] | None = None, timeout: float = 10.0
    ) -> tuple[int, dict[str, str], bytes]:
        """GET `url` with `headers`: the status, the reply's headers and its body (as sent)."""
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err

    def close(self) -> None:
        """Kills it if it still runs, and closes its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)

"""``pychrony exporter``: serves ChronyCollector's metrics over HTTP at ``/metrics``.

prometheus_client's WSGI application on the standard library's wsgiref server (one thread per
request, so a scrape waiting for a frozen chronyd does not hold up the next one), on a registry
of its own: only chronyd's metrics, none of the Python process's.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Iterable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["INSTALL_HINT", "parse_listen", "serve"]

INSTALL_HINT = "install it with `pip install 'chrony-monitor[prometheus]'`"

#: The path Prometheus scrapes by default.
METRICS_PATH = "/metrics"


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPV6]:PORT`` for IPv6) → (host, port); port 0 picks a free one.

    Raises:
        ValueError: with what to write instead.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"--listen must be HOST:PORT such as 127.0.0.1:9123 or [::1]:9123, not {text!r}"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets, as [::1]:9123, not {text!r}")
    return host, int(port_text)


def _make_server(host: str, port: int, app: WSGIApplication) -> WSGIServer:
    # Imported here: the cli module imports this one, and its other commands need no HTTP.
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class QuietHandler(WSGIRequestHandler):
        # wsgiref logs every request on stderr: one line per scrape is noise for a service.
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    return make_server(host, port, app, Server, QuietHandler)


def _routes(metrics: WSGIApplication) -> WSGIApplication:
    """``/metrics`` is the metrics; ``/`` a pointer to it; anything else 404."""

    def app(environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == METRICS_PATH:
            return metrics(environ, start)
        if path == "/":
            body = f'<html><body><a href="{METRICS_PATH}">{METRICS_PATH}</a></body></html>\n'
            start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body.encode()]
        start("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"not found: the metrics are at {METRICS_PATH}\n".encode()]

    return app


class _Stop(Exception):
    """SIGTERM: end serving as Ctrl-C does."""


def _stop(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise _Stop


def serve(
    listen: tuple[str, int], address: str | None, timeout: float, collectors: Sequence[str]
) -> int:
    """Serves until SIGTERM or SIGINT; prints the URL once listening. Returns the exit status.

    Raises:
        ModuleNotFoundError: when prometheus_client is not installed (name ``prometheus_client``).
        OSError: when the address cannot be listened on.
    """
    from prometheus_client import CollectorRegistry, make_wsgi_app

    from .prometheus import ChronyCollector

    # The collector's log (why chronyd could not be asked) on stderr, as the exporter's lines.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pychrony exporter: %(message)s"))
    log = logging.getLogger("pychrony")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    registry = CollectorRegistry()
    registry.register(ChronyCollector(address, timeout, collectors=collectors))
    with _make_server(*listen, _routes(make_wsgi_app(registry))) as server:
        bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        # A line a supervisor (or a test given port 0) can read the address from.
        print(f"pychrony exporter: serving http://{shown}:{bound_port}{METRICS_PATH}", flush=True)
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            server.serve_forever()
        except (_Stop, KeyboardInterrupt):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    print("pychrony exporter: stopped", file=sys.stderr)
    return 0

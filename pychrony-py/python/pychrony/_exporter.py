"""``pychrony exporter``: serves ChronyCollector's metrics over HTTP at ``/metrics``.

prometheus_client's WSGI application on the standard library's wsgiref server (one thread per
request, so a scrape waiting for a frozen chronyd does not hold up the next one; a stop waits
for the requests in flight), on a registry of its own: only chronyd's metrics, none of the
Python process's. A GET of the text format or of OpenMetrics 1.0.0 (what a Prometheus server
asks for), as prometheus_client's content negotiation picks it, gets the bytes prometheus_client
would send, rendered by ``_exposition`` (``scrape_text``) at a fraction of its cost; every other
request is prometheus_client's.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

__all__ = ["INSTALL_HINT", "Replay", "parse_listen", "scrape_text", "serve"]

INSTALL_HINT = "install it with `pip install 'chrony-monitor[prometheus]'`"

#: The path Prometheus scrapes by default.
METRICS_PATH = "/metrics"

#: Seconds a client may stay silent (or not read) before its connection is dropped, so that
#: no connection holds a thread, or the exporter's stop, for longer.
CLIENT_TIMEOUT = 30.0


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
        # Closing the server waits for the requests in flight (a scrape is bounded by the
        # collector's timeout, a client by the handler's): they are answered, and the
        # interpreter never finalizes while one is inside pychrony's native code. Before Python
        # 3.14 a thread that takes the interpreter lock back then is ended by pthread_exit,
        # whose unwinding through Rust frames crashes the process.
        daemon_threads = False
        block_on_close = True
        allow_reuse_address = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that went away or stayed silent past the handler's timeout: not an
            # error of the exporter's, and no traceback on stderr.
            if isinstance(sys.exc_info()[1], OSError):
                return
            super().handle_error(request, client_address)

    class QuietHandler(WSGIRequestHandler):
        timeout = CLIENT_TIMEOUT

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


class Replay:
    """Families already collected, as a registry for ``generate_latest``."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def scrape_text(registry: CollectorRegistry, openmetrics: bool = False) -> bytes:
    """One scrape of `registry`: the bytes of prometheus_client's ``generate_latest`` (or with
    `openmetrics` of its OpenMetrics one), rendered by ``_exposition``, or by prometheus_client
    for families it does not render."""
    from prometheus_client.exposition import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

    from ._exposition import render

    families = list(registry.collect())
    text = render(families, openmetrics)
    if text is not None:
        return text
    return (generate_openmetrics if openmetrics else generate_latest)(Replay(families))


def _rendered_format(encoder: object) -> bool | None:
    """Which of ``_exposition``'s formats prometheus_client's `encoder` writes: False the text
    format, True OpenMetrics 1.0.0, None another (text/plain 1.0.0, other escapings)."""
    from functools import partial

    from prometheus_client import exposition
    from prometheus_client.openmetrics import exposition as openmetrics

    if encoder is exposition.generate_latest:
        return False
    if encoder is openmetrics.generate_latest:  # before 0.22: no versions or escapings
        return True
    if (
        isinstance(encoder, partial)
        and encoder.func is openmetrics.generate_latest
        and not encoder.args
        and encoder.keywords
        == {"escaping": getattr(openmetrics, "UNDERSCORES", None), "version": "1.0.0"}
    ):
        return True
    return None


def _metrics(registry: CollectorRegistry) -> WSGIApplication:
    """``/metrics``: the formats ``_exposition`` renders by ``scrape_text``, anything else by
    prometheus_client. Its content negotiation decides, so every answer is the one it gives."""
    import gzip

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import choose_encoder, gzip_accepted

    theirs = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        openmetrics = _rendered_format(encoder)
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")  # name[] filtering
            or openmetrics is None
        ):
            answer: Iterable[bytes] = theirs(environ, start)
            return answer
        output = scrape_text(registry, openmetrics)
        headers = [("Content-Type", content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING", "")):
            output = gzip.compress(output)
            headers.append(("Content-Encoding", "gzip"))
        start("200 OK", headers)
        return [output]

    return app


#: The signals that end serving: a supervisor's stop, and Ctrl-C.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stop_on_signals(server: WSGIServer) -> dict[int, Any]:
    """Makes STOP_SIGNALS end `server`'s serve_forever; returns the handlers they had.

    The handler raises nothing: socketserver hands an exception raised while it accepts a
    request to handle_error and goes on serving, so a stop would be lost. It asks for the
    shutdown from a thread instead (shutdown waits for serve_forever, which runs on this one).
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        threading.Thread(target=server.shutdown, name="pychrony-exporter-stop").start()

    return {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}


def serve(
    listen: tuple[str, int], address: str | None, timeout: float, collectors: Sequence[str]
) -> int:
    """Serves until SIGTERM or SIGINT (STOP_SIGNALS), printing the URL once it listens.

    Returns the exit status.

    Raises:
        ModuleNotFoundError: when prometheus_client is not installed (name ``prometheus_client``).
        OSError: when the address cannot be listened on.
    """
    from prometheus_client import CollectorRegistry

    from .prometheus import ChronyCollector

    # The collector's log (why chronyd could not be asked) on stderr, as the exporter's lines.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pychrony exporter: %(message)s"))
    log = logging.getLogger("pychrony")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    registry = CollectorRegistry()
    registry.register(ChronyCollector(address, timeout, collectors=collectors))
    with _make_server(*listen, _routes(_metrics(registry))) as server:
        bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        # Before the line: whoever reads it may stop the exporter at once.
        previous = _stop_on_signals(server)
        try:
            # A line a supervisor (or a test given port 0) can read the address from.
            print(
                f"pychrony exporter: serving http://{shown}:{bound_port}{METRICS_PATH}", flush=True
            )
            server.serve_forever()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    print("pychrony exporter: stopped", file=sys.stderr)
    return 0

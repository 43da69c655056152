"""`pychrony exporter`'s own rendering of the text format and OpenMetrics (pychrony._exposition,
used by _exporter.scrape_text) gives the bytes of prometheus_client's two generate_latest for the
same families: on real scrapes of the fixture's daemons (every collector, refused parts over
UDP, a frozen chronyd) and on label values, help texts and numbers that need escaping or Go's
float formatting; families it does not render are left to prometheus_client. The exporter's WSGI
application answers every request (Accept headers, gzip, a `name[]` query, other methods) with
the status, headers and body of prometheus_client's make_wsgi_app on the same registry, and so
does the running exporter over HTTP. test_prometheus_clients.py runs this file with older
prometheus_client releases too."""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Daemon
from exporter_process import Exporter
from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pychrony._exporter import Replay, _metrics, _rendered_format, scrape_text
from pychrony._exposition import render
from pychrony.prometheus import ChronyCollector

FORMATS = pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])


def theirs(families: list[Metric], openmetrics: bool) -> bytes:
    return (generate_openmetrics if openmetrics else generate_latest)(Replay(families))


def collected(address: str, timeout: float = 3.0) -> list[Metric]:
    """One scrape's families, as the exporter's registry yields them."""
    collector = ChronyCollector(address, timeout)
    registry = CollectorRegistry()
    registry.register(collector)
    try:
        return list(registry.collect())
    finally:
        collector.close()


@FORMATS
@pytest.mark.parametrize(
    ("daemon", "over"),
    [("sources", "unix"), ("sources", "udp"), ("unsynced", "unix"), ("nts", "unix")],
)
def test_a_scrape_renders_as_generate_latest(
    daemon: str, over: str, openmetrics: bool, request: pytest.FixtureRequest
) -> None:
    d: Daemon = request.getfixturevalue(daemon)
    families = collected(d.socket if over == "unix" else d.udp_v4)
    ours = render(families, openmetrics)
    assert ours is not None
    assert ours == theirs(families, openmetrics)
    # Every collector's families are there (over UDP only the refused ones lack samples).
    assert len(families) > 30 and b"chrony_up 1.0\n" in ours


@FORMATS
def test_a_frozen_chronyd_s_scrape_renders_as_generate_latest(
    frozen: Daemon, openmetrics: bool
) -> None:
    families = collected(frozen.socket, timeout=0.2)
    ours = render(families, openmetrics)
    assert ours is not None and b"chrony_up 0.0\n" in ours
    assert ours == theirs(families, openmetrics)


def gauge(name: str, doc: str, samples: list[tuple[dict[str, str], float]]) -> Metric:
    family = Metric(name, doc, "gauge")
    family.samples = [Sample(name, labels, value) for labels, value in samples]
    return family


AWKWARD_VALUES = [
    0.0,
    -0.0,
    1.0,
    -5.5,
    0.1,
    1e-7,
    123456.0,
    1234567.0,
    12345678.9,
    2.0**53,
    1e22,
    -1e22,
    math.inf,
    -math.inf,
    math.nan,
    4294967295.0,
]
AWKWARD_TEXT = ["", "plain", 'a "quoted" name', "back\\slash", "line\nfeed", 'all \\ " \n', "ünï ✓"]


@FORMATS
def test_awkward_labels_help_and_numbers_render_as_generate_latest(openmetrics: bool) -> None:
    counter = Metric("chrony_test_events", "Events\\with a\nline feed.", "counter")
    counter.samples = [Sample("chrony_test_events_total", {"z": "1", "a": "2"}, 7.0)]
    families = [
        gauge(
            "chrony_test_values",
            "Numbers.",
            [({"i": str(i)}, v) for i, v in enumerate(AWKWARD_VALUES)],
        ),
        gauge(
            "chrony_test_labels",
            'Help with "quotes" and \\.',
            [({"v": t, "b": t}, 1.0) for t in AWKWARD_TEXT],
        ),
        gauge("chrony_test_empty", "No samples: only the header lines.", []),
        counter,
    ]
    ours = render(families, openmetrics)
    assert ours is not None
    assert ours == theirs(families, openmetrics)


def unrenderable() -> Iterator[tuple[str, list[Metric]]]:
    timestamped = gauge("chrony_test_t", "T.", [])
    timestamped.samples = [Sample("chrony_test_t", {}, 1.0, 1700000000.0)]
    yield "a timestamp", [timestamped]
    yield "a histogram", [Metric("chrony_test_h", "H.", "histogram")]
    yield "an info family", [Metric("chrony_test_i", "I.", "info")]
    # UTF-8 names (prometheus_client >= 0.22 quotes them; older ones refuse them at creation).
    dotted = gauge("chrony_test", "Dotted.", [])
    dotted.name = "chrony.test"
    dotted.samples = [Sample("chrony.test", {}, 1.0)]
    yield "a name to quote", [dotted]
    yield "a colon (OpenMetrics escapes it)", [gauge("chrony_test:colon", "C.", [({}, 2.0)])]
    yield "a label name to quote", [gauge("chrony_test_l", "L.", [({"a-b": "1"}, 1.0)])]
    created = Metric("chrony_test_c", "C.", "counter")
    created.samples = [Sample("chrony_test_c_created", {}, 1.0)]
    yield "a counter's _created sample", [created]
    yield "a unit", [Metric("chrony_test_seconds", "U.", "gauge", unit="seconds")]


@pytest.mark.parametrize(
    ("what", "families"), list(unrenderable()), ids=lambda x: x if isinstance(x, str) else ""
)
@FORMATS
def test_what_it_does_not_render_is_left_to_generate_latest(
    what: str, families: list[Metric], openmetrics: bool
) -> None:
    assert render(families, openmetrics) is None, what


@FORMATS
def test_scrape_text_is_prometheus_client_s_for_a_foreign_family(openmetrics: bool) -> None:
    registry = CollectorRegistry()
    registry.register(Replay([Metric("chrony_test_h", "H.", "histogram")]))
    expected = (generate_openmetrics if openmetrics else generate_latest)(registry)
    assert scrape_text(registry, openmetrics) == expected


# What a Prometheus server sends (2.x), and others.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
ACCEPTS = [
    None,
    "*/*",
    "text/plain",
    "text/plain; version=0.0.4",
    "text/plain;version=1.0.0",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
    "application/openmetrics-text",
    "application/openmetrics-text; version=0.0.1",
    "application/openmetrics-text; version=1.0.0",
    "application/openmetrics-text; version=1.0.0; escaping=values",
    PROMETHEUS_ACCEPT,
]


def answer(app: Any, environ: dict[str, str]) -> tuple[str, list[tuple[str, str]], bytes]:
    """A WSGI app's status, headers and body (gunzipped: gzip's header holds the time)."""
    got: list[Any] = []
    request = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", **environ}
    body = b"".join(app(request, lambda s, h: got.extend([s, h])))
    status, headers = got
    if ("Content-Encoding", "gzip") in headers:
        body = gzip.decompress(body)
    return status, headers, body


@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_exporter_answers_as_make_wsgi_app(sources: Daemon, accept: str | None) -> None:
    registry = CollectorRegistry()
    registry.register(Replay(collected(sources.socket)))
    ours, reference = _metrics(registry), make_wsgi_app(registry)
    for extra in [
        {},
        {"HTTP_ACCEPT_ENCODING": "gzip, deflate"},
        {"QUERY_STRING": "name[]=chrony_up&name[]=chrony_tracking_info"},
        {"REQUEST_METHOD": "OPTIONS"},
        {"REQUEST_METHOD": "HEAD"},
    ]:
        environ = {**extra, **({"HTTP_ACCEPT": accept} if accept is not None else {})}
        assert answer(ours, environ) == answer(reference, environ), environ


def test_the_exporter_answers_each_request_as_prometheus_client_would(
    sources: Daemon, exporter_of: type[Exporter]
) -> None:
    exporter = exporter_of("--socket", sources.socket, "--collectors", "tracking,serverstats")
    plain_type = choose_encoder("")[1]
    status, headers, body = exporter.request(exporter.url)
    assert status == 200 and headers["Content-Type"] == plain_type
    assert "Content-Encoding" not in headers
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    assert "chrony_tracking_info" in names and "chrony_up" in names
    # gzip when asked, as prometheus_client does.
    status, headers, body = exporter.request(exporter.url, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert {f.name for f in text_string_to_metric_families(gzip.decompress(body).decode())} == names
    # What Prometheus asks for: OpenMetrics, prometheus_client's own rendering.
    prometheus_accept = PROMETHEUS_ACCEPT
    status, headers, body = exporter.request(exporter.url, {"Accept": prometheus_accept})
    assert status == 200 and headers["Content-Type"] == choose_encoder(prometheus_accept)[1]
    assert body.endswith(b"# EOF\n")
    assert "chrony_up" in {f.name for f in text_string_to_metric_families(body.decode())}
    # A query string (name[] filtering) is prometheus_client's too.
    status, headers, body = exporter.request(exporter.url + "?name[]=chrony_up")
    assert status == 200
    assert {f.name for f in text_string_to_metric_families(body.decode())} == {"chrony_up"}
    assert exporter.stop()[0] == 0


def test_what_prometheus_and_a_plain_client_ask_for_is_rendered_by_pychrony() -> None:
    # Else every answer above would be prometheus_client's own, and the speed-up gone.
    assert _rendered_format(choose_encoder("")[0]) is False
    assert _rendered_format(choose_encoder(PROMETHEUS_ACCEPT)[0]) is True

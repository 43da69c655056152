"""The metrics as ``pychrony exporter`` serves them: Prometheus's text format (version 0.0.4) and
OpenMetrics 1.0.0 (what a Prometheus server asks for), the same bytes as prometheus_client's
``generate_latest`` and ``openmetrics.exposition.generate_latest`` for the families
ChronyCollector makes (gauges and counters, samples without timestamps or exemplars), written
without their per-sample checks and escaping of names, which our names do not need: they were
about half of a scrape's time. ``tests/test_exposition.py`` checks that the bytes are equal, on
real scrapes and on label values, help texts and numbers that need escaping or Go's formatting.

Any other family (a histogram, a timestamp, a name that would need quoting) is not ours to
render: ``render`` then returns None and the caller uses prometheus_client's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

__all__ = ["render"]

# Go's formatting of a float (prometheus_client's own, so the numbers are its bytes); untyped there.
_go_float: Callable[[float], str] = floatToGoString

# The header lines of each family (its HELP text and names never change between scrapes), and
# the label names seen: a few hundred at most for ChronyCollector, emptied if ever far more.
_headers: dict[tuple[str, str, str, bool], str] = {}
_label_names: set[str] = set()
_CACHE_LIMIT = 4096

# Names that need no quoting or escaping (prometheus_client quotes others from 0.22, and its
# OpenMetrics escapes a colon too).
_METRIC_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _escape(text: str, quote: bool) -> str:
    # A backslash and a line feed are escaped; a double quote in label values, and in OpenMetrics
    # in HELP texts too.
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _header(family: Metric, openmetrics: bool) -> str | None:
    key = (family.name, family.type, family.documentation, openmetrics)
    header = _headers.get(key)
    if header is None:
        if not _METRIC_NAME.fullmatch(family.name) or family.unit:
            return None
        if len(_headers) > _CACHE_LIMIT:
            _headers.clear()
        # The text format names a counter with `_total` in HELP and TYPE, as its sample;
        # OpenMetrics names the family.
        name = family.name
        if family.type == "counter" and not openmetrics:
            name += "_total"
        doc = _escape(family.documentation, quote=openmetrics)
        header = f"# HELP {name} {doc}\n# TYPE {name} {family.type}\n"
        _headers[key] = header
    return header


def _labels(labels: dict[str, str]) -> str | None:
    if not labels:
        return ""
    for name in labels:
        if name not in _label_names:
            if not _LABEL_NAME.fullmatch(name):
                return None
            if len(_label_names) > _CACHE_LIMIT:
                _label_names.clear()
            _label_names.add(name)
    # In the order of the names, as prometheus_client writes them.
    pairs = (f'{k}="{_escape(v, quote=True)}"' for k, v in sorted(labels.items()))
    return "{" + ",".join(pairs) + "}"


def render(families: Iterable[Metric], openmetrics: bool = False) -> bytes | None:
    """`families` (a registry's ``collect()``) in the text format, or in OpenMetrics; None for a
    family this does not render as prometheus_client does (the caller then uses it)."""
    out: list[str] = []
    # Each labels dict once: ChronyCollector gives all of a source's samples the same one (the
    # families, and so the dicts, live until this returns, so their ids stay theirs).
    seen: dict[int, str | None] = {}
    for family in families:
        if family.type not in ("gauge", "counter"):
            return None
        header = _header(family, openmetrics)
        if header is None:
            return None
        out.append(header)
        sample_name = family.name + "_total" if family.type == "counter" else family.name
        for s in family.samples:
            if s.name != sample_name or s.timestamp is not None or s.exemplar is not None:
                return None
            if getattr(s, "native_histogram", None) is not None:  # prometheus_client >= 0.19
                return None
            key = id(s.labels)
            if key in seen:
                labels = seen[key]
            else:
                labels = seen[key] = _labels(s.labels)
            if labels is None:
                return None
            out.append(f"{s.name}{labels} {_go_float(s.value)}\n")
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out).encode()

"""pychrony.prometheus with older prometheus_client releases than the ci venv's pin: the oldest
the `prometheus` extra allows (Debian 12's python3-prometheus-client, 0.16.0) and 0.17.1. Each is
installed once under target/prometheus-client/VERSION (pip --target, no dependencies: it has
none) and put first on PYTHONPATH, and test_prometheus.py (the collector against chronyc on the
fixture's daemons, and `pychrony exporter` over HTTP) and test_exposition.py (the exporter's text
equals that version's generate_latest) run again with it."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

TESTS = Path(__file__).resolve().parent


def oldest_allowed() -> str:
    """The lower bound of the installed distribution's `prometheus` extra, e.g. '0.16.0'."""
    for requirement in importlib.metadata.requires("chrony-monitor") or []:
        # e.g. "prometheus-client>=0.16 ; extra == 'prometheus'"
        m = re.fullmatch(
            r"prometheus[-_]client\s*>=\s*([\d.]+)\s*;\s*extra\s*==\s*[\"']prometheus[\"']",
            requirement,
        )
        if m:
            release = m.group(1).split(".")
            return ".".join(release + ["0"] * (3 - len(release)))
    raise AssertionError("the installed chrony-monitor has no prometheus_client>=... in its extra")


def installed(version: str) -> Path:
    """prometheus_client `version` under target/, installed by pip the first time."""
    directory = REPO_ROOT / "target" / "prometheus-client" / version
    if not (directory / "prometheus_client").is_dir():
        partial = directory.with_name(version + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(partial),
                f"prometheus_client=={version}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert pip.returncode == 0, f"could not install prometheus_client {version}: {pip.stderr}"
        partial.rename(directory)
    return directory


@pytest.mark.parametrize("version", sorted({oldest_allowed(), "0.17.1"}))
def test_collector_and_exporter_with_prometheus_client(version: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(installed(version)), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    seen = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.metadata as m; print(m.version('prometheus_client'))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seen.stdout.strip() == version, seen
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(TESTS / "test_prometheus.py"),
            str(TESTS / "test_exposition.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert run.returncode == 0, f"prometheus_client {version}:\n{run.stdout}\n{run.stderr}"
    assert re.search(r"\b\d+ passed\b", run.stdout) and " skipped" not in run.stdout, run.stdout

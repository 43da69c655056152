"""The one abi3 wheel on the oldest and newest CPython at hand (PYCHRONY_EXTRA_PYTHONS, set by
run.sh to the interpreters it finds, e.g. 3.10 and 3.13)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Daemon

EXTRA = [p for p in os.environ.get("PYCHRONY_EXTRA_PYTHONS", "").split(":") if p]


@pytest.mark.parametrize("interpreter", EXTRA or [None])
def test_wheel_works_on(interpreter: str | None, unsynced: Daemon,
                        tmp_path_factory: pytest.TempPathFactory) -> None:
    if interpreter is None:
        pytest.skip("PYCHRONY_EXTRA_PYTHONS is empty: no other CPython to try the wheel on")
    wheel = os.environ.get("PYCHRONY_WHEEL")
    assert wheel, "PYCHRONY_WHEEL (the wheel under test) is not set: run run.sh"
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([interpreter, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--disable-pip-version-check", "--no-deps", "--no-index", wheel], check=True)
    code = textwrap.dedent(f"""
        import dataclasses, sys
        import pychrony
        s = pychrony.get_tracking({unsynced.socket!r})
        assert [f.name for f in dataclasses.fields(s)][:2] == ["reference_id", "reference_id_name"]
        print(sys.version_info[:2], s.leap_status, s.is_synchronized())
        """)
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd="/",
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(")", 1)[1].split() == ["3", "False"]
    assert Path(python).exists()

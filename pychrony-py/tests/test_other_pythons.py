"""The installed abi3 extension on the oldest and newest other CPython at hand.

Interpreters: $PYCHRONY_EXTRA_PYTHONS (":"-separated), else python3.10 and python3.13 from pyenv,
/usr/bin or /usr/local/bin. The installed package is copied next to them (PYTHONPATH), so no
second wheel or venv is needed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pychrony
import pytest
from conftest import Daemon


def extra_pythons() -> list[str]:
    if "PYCHRONY_EXTRA_PYTHONS" in os.environ:
        return [p for p in os.environ["PYCHRONY_EXTRA_PYTHONS"].split(":") if p]
    found = []
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for version in ["3.10", "3.13"]:
        candidates = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"))
        candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
        for path in candidates:
            if os.access(path, os.X_OK):
                found.append(path)
                break
    return found


EXTRA = extra_pythons()


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("pkg")
    shutil.copytree(Path(pychrony.__file__).parent, directory / "pychrony")
    yield directory


@pytest.mark.parametrize("interpreter", EXTRA or [None])
def test_installed_package_works_on(
    interpreter: str | None, unsynced: Daemon, package_copy: Path
) -> None:
    if interpreter is None:
        pytest.skip("no python3.10 or python3.13 found (set PYCHRONY_EXTRA_PYTHONS)")
    code = textwrap.dedent(f"""
        import dataclasses, sys
        import pychrony
        assert pychrony.__file__.startswith({str(package_copy)!r}), pychrony.__file__
        s = pychrony.get_tracking({unsynced.socket!r})
        assert [f.name for f in dataclasses.fields(s)][:2] == ["reference_id", "reference_id_name"]
        print(sys.version_info[0], sys.version_info[1], s.leap_status, s.is_synchronized())
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = str(package_copy)
    proc = subprocess.run(
        [interpreter, "-B", "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    major, minor, leap, synced = proc.stdout.split()
    assert (int(major), int(minor)) >= (3, 10)
    assert (leap, synced) == ("3", "False")

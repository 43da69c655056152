"""The distribution is `chrony-monitor` (`pychrony` on PyPI is an unrelated project that installs
the same package directory): the name agrees with pyproject.toml, and `import pychrony` warns, once
and with the repair, when the other distribution's metadata lies beside the package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pychrony
from pychrony import _distribution

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
IMPORT_TWICE = "import pychrony, importlib; importlib.import_module('pychrony'); print('imported')"


def test_the_name_is_pyprojects() -> None:
    found = re.search(r'^name = "([^"]+)"$', PYPROJECT.read_text(), re.MULTILINE)
    assert found and found.group(1) == _distribution.NAME == "chrony-monitor"


def run_python(code: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )


def test_import_is_silent_in_this_install() -> None:
    proc = run_python("import warnings; warnings.simplefilter('error'); " + IMPORT_TWICE)
    assert proc.returncode == 0 and proc.stdout == "imported\n", proc.stderr
    assert proc.stderr == ""


def test_import_warns_once_when_the_other_pychrony_is_beside_it(tmp_path: Path) -> None:
    # A site directory holding this package (a link to the installed one) and pychrony 2.x's
    # metadata, first on sys.path.
    (tmp_path / "pychrony").symlink_to(Path(pychrony.__file__).parent, target_is_directory=True)
    other = tmp_path / "pychrony-2.0.3.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: pychrony\nVersion: 2.0.3\n")
    proc = run_python(IMPORT_TWICE, pythonpath=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "imported\n", proc.stderr
    assert proc.stderr.count("RuntimeWarning") == 1, proc.stderr
    for words in [
        "pychrony-2.0.3.dist-info",
        str(tmp_path),
        "pip uninstall pychrony chrony-monitor",
        "pip install chrony-monitor",
    ]:
        assert words in proc.stderr, (words, proc.stderr)


def test_an_unrelated_name_that_starts_alike_does_not_warn(tmp_path: Path) -> None:
    (tmp_path / "pychrony").symlink_to(Path(pychrony.__file__).parent, target_is_directory=True)
    (tmp_path / "pychrony_tools-1.0.dist-info").mkdir()
    proc = run_python("import warnings; warnings.simplefilter('error'); " + IMPORT_TWICE, tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr

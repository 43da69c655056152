"""What ``import pychrony`` loads: only what get_tracking() needs; each report's classes on first
use. Run in a fresh interpreter, since this one has imported everything already."""

import json
import subprocess
import sys

import pychrony

# Modules that `import pychrony` leaves for later: the reports' classes and their conversions,
# the command line, the checks, the exporter, and modules only type checkers need.
LATER = [
    "pychrony._reports",
    "pychrony._convert",
    "pychrony.cli",
    "pychrony._check",
    "pychrony.prometheus",
    "prometheus_client",
    "typing",
]


def _loaded_after(code: str) -> list[str]:
    """Which of LATER are imported once ``code`` has run in a new interpreter."""
    script = (
        f"import sys\n{code}\n"
        f"import json\nprint(json.dumps([m for m in {LATER!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout)
    return loaded


def test_import_pychrony_loads_none_of_the_reports_modules() -> None:
    assert _loaded_after("import pychrony") == []


def test_the_tracking_class_and_exceptions_need_no_report_module() -> None:
    code = (
        "from pychrony import (TrackingStatus, ChronyConnection, ChronyError,\n"
        "    ChronyConnectionError, ChronyPermissionError, ChronyDataError, ChronyLibraryError)\n"
        "ChronyConnection('/nonexistent/chronyd.sock')"
    )
    assert _loaded_after(code) == []


def test_a_report_class_is_imported_on_first_access() -> None:
    loaded = _loaded_after("import pychrony\npychrony.Source")
    assert "pychrony._reports" in loaded
    assert "pychrony.cli" not in loaded


def test_a_function_returning_a_report_imports_its_conversions_when_called() -> None:
    # A bad argument is refused before anything is sent, after the conversions are loaded by
    # get_snapshot's part check: the function loads them when called, not on import.
    code = (
        "import pychrony\n"
        "try:\n    pychrony.get_snapshot('/nonexistent/chronyd.sock', parts=['nope'])\n"
        "except ValueError:\n    pass"
    )
    loaded = _loaded_after(code)
    assert "pychrony._convert" in loaded
    assert "pychrony._reports" in loaded


def test_lazy_names_are_the_reports_classes_and_listed() -> None:
    from pychrony import _reports

    for name in _reports.__all__:
        assert getattr(pychrony, name) is getattr(_reports, name)
        assert name in dir(pychrony)
        assert name in pychrony.__all__
    assert set(pychrony.__all__) <= set(dir(pychrony))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        pychrony.NoSuchReport  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchReport" in str(exc)
    else:
        raise AssertionError("pychrony.NoSuchReport did not raise AttributeError")


def test_star_import_gives_every_name_of_all() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pychrony import *\nimport json, pychrony\n"
            "print(json.dumps([n for n in pychrony.__all__ if n not in globals()]))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []

"""ChronyLibraryError for real: a wheel built against a system libchrony, run without it.

run.sh builds that wheel (`maturin build --no-default-features`, libchrony from
`cargo xtask system-lib PREFIX`) and passes PYCHRONY_SYSTEM_WHEEL and PYCHRONY_SYSTEM_LIBDIR.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Daemon


@pytest.fixture(scope="module")
def system_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python of a venv with the system-linked wheel installed, directory of libchrony.so.0)."""
    wheel = os.environ.get("PYCHRONY_SYSTEM_WHEEL")
    libdir = os.environ.get("PYCHRONY_SYSTEM_LIBDIR")
    if not wheel or not libdir:
        if os.environ.get("PYCHRONY_SKIP_SYSTEM_BUILD") == "1":
            pytest.skip("PYCHRONY_SKIP_SYSTEM_BUILD=1: system-libchrony wheel not tested")
        pytest.fail(
            "PYCHRONY_SYSTEM_WHEEL / PYCHRONY_SYSTEM_LIBDIR are not set: run "
            "pychrony-py/tests/run.sh (or set PYCHRONY_SKIP_SYSTEM_BUILD=1 to skip)"
        )
    lib = Path(libdir).resolve()
    assert (lib / "libchrony.so.0").exists(), lib
    venv = tmp_path_factory.mktemp("system-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            str(Path(wheel).resolve()),
        ],
        check=True,
    )
    return python, lib


def run_in(python: Path, code: str, *, libdir: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}
    if libdir is not None:
        env["LD_LIBRARY_PATH"] = str(libdir)
    return subprocess.run(
        [str(python), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd="/",
    )


def test_the_system_build_links_libchrony_dynamically(system_build: tuple[Path, Path]) -> None:
    python, libdir = system_build
    proc = run_in(python, "import pychrony._native as n; print(n.__file__)", libdir=libdir)
    assert proc.returncode == 0, proc.stderr
    needed = subprocess.run(
        ["readelf", "-d", proc.stdout.strip()], capture_output=True, text=True, check=True
    ).stdout
    assert "[libchrony.so.0]" in needed


def test_the_system_build_works_with_its_library(
    system_build: tuple[Path, Path], unsynced: Daemon
) -> None:
    python, libdir = system_build
    proc = run_in(
        python,
        f"""
        import pychrony
        s = pychrony.get_tracking({unsynced.socket!r})
        print(s.leap_status, s.root_delay)
        """,
        libdir=libdir,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["3", "1.0"]


def test_without_its_library_import_works_and_calls_raise_library_error(
    system_build: tuple[Path, Path],
) -> None:
    python, _ = system_build
    proc = run_in(
        python,
        """
        import pychrony
        from pychrony import ChronyLibraryError, ChronyError, ChronyConnection, get_tracking
        for call in (get_tracking, lambda: get_tracking("/run/x.sock", timeout=1.0),
                     ChronyConnection):
            try:
                call()
            except ChronyLibraryError as e:
                assert isinstance(e, ChronyError)
                assert e.error_code is None, e.error_code
                assert str(e) == e.message
                print("MESSAGE", e.message)
            else:
                raise SystemExit("no ChronyLibraryError")
        """,
        libdir=None,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    messages = [line for line in proc.stdout.splitlines() if line.startswith("MESSAGE")]
    assert len(messages) == 3
    message = messages[0]
    assert "libchrony.so.0: cannot open shared object file" in message  # the loader's words
    assert "install it" in message and "LD_LIBRARY_PATH" in message  # how to fix it
    assert "reinstall pychrony from a wheel built with the default `bundled` feature" in message


def test_without_its_library_the_cli_exits_2(system_build: tuple[Path, Path]) -> None:
    python, _ = system_build
    proc = run_in(
        python,
        "import sys; from pychrony.cli import main; sys.exit(main(['tracking']))",
        libdir=None,
    )
    assert proc.returncode == 2
    assert "libchrony.so.0" in proc.stderr


def test_the_system_build_reads_a_snapshot(
    system_build: tuple[Path, Path], sources: Daemon
) -> None:
    # Through the dynamically linked library: every part there, each source's configured name
    # as get_source_names() gives it.
    python, libdir = system_build
    proc = run_in(
        python,
        f"""
        import pychrony
        names = {{n.address: n.name for n in pychrony.get_source_names({sources.socket!r})}}
        snap = pychrony.get_snapshot({sources.socket!r})
        print(sorted(snap.errors), snap.tracking is not None, snap.server_stats is not None)
        for p in snap.sources:
            same = p.name == names.get(p.source.address)
            print(p.source.address, same, sorted(p.errors), p.stats is not None)
        """,
        libdir=libdir,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[] True True", lines
    assert lines[1:] == [f"{a} True [] True" for a in sources.source_addresses()]


def test_the_system_build_reads_through_asyncio(
    system_build: tuple[Path, Path], sources: Daemon
) -> None:
    # Without the bundled library's shared-fd extension, pychrony.aio runs a snapshot's requests
    # one exchange at a time on the event loop: the same results as the blocking call.
    python, libdir = system_build
    proc = run_in(
        python,
        f"""
        import asyncio, pychrony, pychrony.aio
        async def main():
            async with pychrony.aio.AsyncChronyConnection({sources.socket!r}) as conn:
                return await conn.get_snapshot(), await conn.get_sources()
        snap, listed = asyncio.run(main())
        blocking = pychrony.get_sources({sources.socket!r})
        print(sorted(snap.errors), snap.tracking is not None, snap.server_stats is not None)
        print([s.address for s in listed] == [s.address for s in blocking])
        for p in snap.sources:
            print(p.source.address, sorted(p.errors), p.stats is not None)
        """,
        libdir=libdir,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["[] True True", "True"], lines
    assert lines[2:] == [f"{a} [] True" for a in sources.source_addresses()]

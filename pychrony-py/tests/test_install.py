"""The package under test is the installed wheel, and its packaging holds what it promises."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pychrony
from pychrony import _native

SOURCE_TREE = Path(__file__).resolve().parents[1] / "python"


def cargo_version() -> str:
    """The package version, written once: in pychrony-py/Cargo.toml."""
    text = (SOURCE_TREE.parent / "Cargo.toml").read_text()
    found = re.search(r'^version = "([^"]+)"$', text, re.MULTILINE)
    assert found, "pychrony-py/Cargo.toml has no version line"
    return found.group(1)


def test_imported_from_site_packages_not_the_source_tree() -> None:
    package_dir = Path(pychrony.__file__).resolve().parent
    assert package_dir.parent == Path(sysconfig.get_paths()["purelib"]).resolve()
    assert SOURCE_TREE not in package_dir.parents
    assert str(SOURCE_TREE) not in sys.path


def test_native_module_is_abi3_and_loaded() -> None:
    native_file = Path(_native.__file__ or "")
    assert native_file.name.endswith(".abi3.so"), native_file
    assert native_file.parent == Path(pychrony.__file__).resolve().parent
    assert _native.Connection.__module__ == "pychrony._native"


def test_wheel_metadata() -> None:
    meta = importlib.metadata.metadata("chrony-monitor")
    assert meta["Name"] == "chrony-monitor"  # pychrony on PyPI is another project
    assert meta["Version"] == cargo_version(), "the version comes from pychrony-py/Cargo.toml"
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "MIT OR Apache-2.0"
    files = {str(f) for f in importlib.metadata.files("chrony-monitor") or []}
    assert "pychrony/py.typed" in files
    assert "pychrony/_native.pyi" in files
    scripts = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts.get("pychrony") == "pychrony.cli:main"


LICENCE_FILES = ["LICENSE-MIT", "LICENSE-APACHE", "LICENSES-THIRD-PARTY.md"]


def test_the_licence_texts_travel_with_the_wheel() -> None:
    """Both licences require their text with every copy; the third-party list names the rest."""
    meta = importlib.metadata.metadata("chrony-monitor")
    assert meta.get_all("License-File") == LICENCE_FILES
    dist = importlib.metadata.distribution("chrony-monitor")
    for name in LICENCE_FILES:
        installed = [f for f in dist.files or [] if f.name == name and "licenses" in f.parts]
        assert installed, f"{name} is not in the wheel's .dist-info/licenses/"
        text = installed[0].read_text()
        assert text == (SOURCE_TREE.parent / name).read_text(), name
    third_party = (SOURCE_TREE.parent / "LICENSES-THIRD-PARTY.md").read_text()
    for crate in ["pyo3", "libc", "thiserror", "chrony-core", "Rust standard library"]:
        assert f"| {crate} " in third_party, crate


def test_stubtest_accepts_the_native_stub() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "pychrony._native"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_contract_examples() -> None:
    typing_dir = Path(__file__).parent / "typing"
    examples = sorted(typing_dir.glob("*.py"))
    assert len(examples) >= 5
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, examples)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=typing_dir,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_rejects_misuse() -> None:
    # The typing check must be able to fail: a wrong field type is reported.
    typing_dir = Path(__file__).parent / "typing"
    code = "from pychrony import get_tracking\nx: str = get_tracking().stratum\n"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=typing_dir,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Incompatible types in assignment" in proc.stdout


def test_mypy_strict_on_the_installed_package() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "pychrony"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent / "typing",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

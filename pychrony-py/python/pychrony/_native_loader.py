"""Loads the native module, or remembers why it could not be loaded.

``import pychrony`` must work even when the extension cannot be loaded (for example a build linked
to a system libchrony whose ``libchrony.so.0`` is missing at run time): the failure is reported as
:class:`ChronyLibraryError` when the caller first needs the native code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._errors import ChronyLibraryError

_native: ModuleType | None
_load_error: ImportError | None

try:
    _native = importlib.import_module("pychrony._native")
except ImportError as exc:
    _native = None
    _load_error = exc
else:
    _load_error = None


def native() -> ModuleType:
    """The native module ``pychrony._native``, or raise :class:`ChronyLibraryError`."""
    if _native is None:
        raise ChronyLibraryError(
            f"pychrony's native module cannot be loaded: {_load_error}. "
            "If this pychrony was built against a system libchrony, install it (the libchrony "
            "package of your distribution) or add the directory holding libchrony.so.0 to "
            "LD_LIBRARY_PATH; otherwise reinstall pychrony from a wheel built with the default "
            "`bundled` feature, which contains the C library and needs nothing else"
        )
    return _native

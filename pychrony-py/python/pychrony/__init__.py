"""pychrony: read chronyd's tracking status and time sources.

The contract's names are ``get_tracking``, ``TrackingStatus`` and the exception classes
``ChronyError``, ``ChronyConnectionError``, ``ChronyPermissionError``, ``ChronyDataError`` and
``ChronyLibraryError``. Documented additions: ``ChronyConnection`` for programs that poll, and the
sources report (``get_sources``, ``Source``, ``SourceState``, ``SourceMode``).
"""

from __future__ import annotations

from . import _distribution
from ._api import (
    ChronyConnection,
    get_activity,
    get_all_ntp_data,
    get_auth_data,
    get_clients,
    get_ntp_data,
    get_rtc_data,
    get_select_data,
    get_server_stats,
    get_smoothing,
    get_snapshot,
    get_source_names,
    get_source_stats,
    get_sources,
    get_tracking,
)
from ._errors import (
    ChronyConnectionError,
    ChronyDataError,
    ChronyError,
    ChronyLibraryError,
    ChronyPermissionError,
)
from ._models import TrackingStatus

# typing takes milliseconds to import and only type checkers need it here (mypy reads this
# name as True).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._reports import (
        Activity,
        AuthData,
        AuthMode,
        Client,
        NTPData,
        NTPMode,
        RTCData,
        SelectData,
        SelectOptions,
        SelectState,
        ServerStats,
        Smoothing,
        Snapshot,
        Source,
        SourceMode,
        SourceName,
        SourceSnapshot,
        SourceState,
        SourceStats,
    )

del TYPE_CHECKING

_distribution.warn_if_other_installed(__path__[0])

# The installed distribution's version, which maturin takes from pychrony-py/Cargo.toml; looked
# up on first use, so `import pychrony` does not pay for importlib.metadata.
__version__: str

# The reports' classes other than TrackingStatus (pychrony._reports) are imported on first use:
# defining them all took more than half of `import pychrony`, and get_tracking() needs none.
# Which names those are: _REPORT_NAMES, at the end.


def __getattr__(name: str) -> Any:
    if name in _REPORT_NAMES:
        from . import _reports

        value = getattr(_reports, name)
    elif name == "__version__":
        from importlib.metadata import version

        value = version(_distribution.NAME)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The names not imported yet are listed too, as if they were.
    return sorted(set(globals()) | _REPORT_NAMES)


__all__ = [
    # Core function
    "get_tracking",
    # Data model
    "TrackingStatus",
    # Exceptions
    "ChronyError",
    "ChronyConnectionError",
    "ChronyPermissionError",
    "ChronyDataError",
    "ChronyLibraryError",
    # Addition (documented in docs/python-api.md): a reusable connection
    "ChronyConnection",
    # Additions (documented in docs/python-api.md): the sources report
    "get_sources",
    "Source",
    "SourceState",
    "SourceMode",
    # Addition (documented in docs/python-api.md): the activity report
    "get_activity",
    "Activity",
    # Addition (documented in docs/python-api.md): the serverstats report
    "get_server_stats",
    "ServerStats",
    # Addition (documented in docs/python-api.md): the sourcestats report
    "get_source_stats",
    "SourceStats",
    # Addition (documented in docs/python-api.md): the rtcdata report
    "get_rtc_data",
    "RTCData",
    # Addition (documented in docs/python-api.md): the sourcename report
    "get_source_names",
    "SourceName",
    # Addition (documented in docs/python-api.md): the authdata report
    "get_auth_data",
    "AuthData",
    "AuthMode",
    # Addition (documented in docs/python-api.md): the smoothing report
    "get_smoothing",
    "Smoothing",
    # Addition (documented in docs/python-api.md): the ntpdata report
    "get_ntp_data",
    "get_all_ntp_data",
    "NTPData",
    "NTPMode",
    # Addition (documented in docs/python-api.md): the clients report
    "get_clients",
    "Client",
    # Addition (documented in docs/python-api.md): the selectdata report
    "get_select_data",
    "SelectData",
    "SelectState",
    "SelectOptions",
    # Addition (documented in docs/python-api.md): every report in one pipelined round
    "get_snapshot",
    "Snapshot",
    "SourceSnapshot",
]

# The public names imported on first use: the ones __all__ lists that are not defined by now.
_REPORT_NAMES = frozenset(name for name in __all__ if name not in globals())

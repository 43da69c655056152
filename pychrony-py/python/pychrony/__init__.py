"""pychrony: read chronyd's tracking status.

The contract's names are ``get_tracking``, ``TrackingStatus`` and the exception classes
``ChronyError``, ``ChronyConnectionError``, ``ChronyPermissionError``, ``ChronyDataError`` and
``ChronyLibraryError``. ``ChronyConnection`` is a documented addition for programs that poll.
"""

from __future__ import annotations

from ._api import ChronyConnection, get_tracking
from ._errors import (
    ChronyConnectionError,
    ChronyDataError,
    ChronyError,
    ChronyLibraryError,
    ChronyPermissionError,
)
from ._models import TrackingStatus

__version__ = "1.0.0"

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
    # Addition (documented in the README): a reusable connection
    "ChronyConnection",
]

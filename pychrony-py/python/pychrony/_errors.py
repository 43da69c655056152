"""The exception hierarchy of the contract, and the table that maps chrony-core's error codes to it.

The classes are plain Python (they need a custom ``__init__``, attributes and ``__str__``); the
native module looks them up here when it raises, through :func:`_from_native`.
"""

__all__ = [
    "ChronyConnectionError",
    "ChronyDataError",
    "ChronyError",
    "ChronyLibraryError",
    "ChronyPermissionError",
]


class ChronyError(Exception):
    """Base class of every error pychrony raises.

    ``message`` says what went wrong and what to do; ``error_code`` is chrony-core's code
    (see the table in the README), or None when there is none.
    """

    message: str
    error_code: int | None

    def __init__(self, message: str, error_code: int | None = None) -> None:
        super().__init__(message, error_code)
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        if self.error_code is None:
            return self.message
        return f"{self.message} (error code: {self.error_code})"


class ChronyConnectionError(ChronyError):
    """chronyd is not running or socket unreachable.

    Codes: -1 connection refused or another I/O error, -2 socket not found, -6 no reply in time.
    """


class ChronyPermissionError(ChronyError):
    """Insufficient permissions to access chronyd socket (code -3)."""


class ChronyDataError(ChronyError):
    """Tracking data is invalid, incomplete, or corrupted (codes -4 and -5)."""


class ChronyLibraryError(ChronyError):
    """libchrony is not installed or cannot be loaded (error_code is always None)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, None)
        # Pickle rebuilds an exception as ``cls(*args)``: keep the one-argument form.
        self.args = (message,)


# chrony-core's Error::code() values. Timeouts (-6) are connection errors: the contract's hierarchy
# has no timeout class, and "no reply in time" is what a caller handles like "not reachable".
_CLASS_BY_CODE: dict[int, type[ChronyError]] = {
    -1: ChronyConnectionError,
    -2: ChronyConnectionError,
    -3: ChronyPermissionError,
    -4: ChronyDataError,
    -5: ChronyDataError,
    -6: ChronyConnectionError,
}


def _from_native(message: str, code: int) -> ChronyError:
    """Build the exception for chrony-core's ``(message, code)``; called by the native module."""
    cls = _CLASS_BY_CODE.get(code, ChronyError)
    return cls(message, code)

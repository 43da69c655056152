"""The contract (docs/python-api.md), point by point, without a daemon."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import os
import pickle
import typing

import pychrony
import pytest
from contract import added_names, contract_names
from pychrony import (
    ChronyConnection,
    ChronyConnectionError,
    ChronyDataError,
    ChronyError,
    ChronyLibraryError,
    ChronyPermissionError,
    TrackingStatus,
    get_tracking,
)

CONTRACT_NAMES = contract_names()
# Documented additions (docs/python-api.md, "Additions to the contract").
ADDED_NAMES = added_names()

CONTRACT_FIELDS = [
    ("reference_id", int),
    ("reference_id_name", str),
    ("stratum", int),
    ("leap_status", int),
    ("offset", float),
    ("last_offset", float),
    ("rms_offset", float),
    ("frequency", float),
    ("residual_freq", float),
    ("skew", float),
    ("root_delay", float),
    ("root_dispersion", float),
    ("update_interval", float),
]
ADDED_FIELDS = [("reference_ip", str, ""), ("ref_time", float, 0.0)]


def make_status(**overrides: object) -> TrackingStatus:
    values: dict[str, object] = {
        "reference_id": 0x7F000001,
        "reference_id_name": "127.0.0.1",
        "stratum": 2,
        "leap_status": 0,
        "offset": -1.5e-6,
        "last_offset": -1e-8,
        "rms_offset": 7.1e-8,
        "frequency": -0.007,
        "residual_freq": -0.0003,
        "skew": 0.029,
        "root_delay": 4.063e-6,
        "root_dispersion": 8.7e-7,
        "update_interval": 0.3,
    }
    values.update(overrides)
    return TrackingStatus(**values)  # type: ignore[arg-type]


# --- names ----------------------------------------------------------------------------------------


def test_all_holds_the_contract_names_in_order_plus_documented_additions() -> None:
    assert pychrony.__all__ == CONTRACT_NAMES + ADDED_NAMES


@pytest.mark.parametrize("name", CONTRACT_NAMES + ADDED_NAMES)
def test_every_exported_name_is_importable(name: str) -> None:
    assert getattr(pychrony, name) is not None
    namespace: dict[str, object] = {}
    exec(f"from pychrony import {name}", namespace)
    assert namespace[name] is getattr(pychrony, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from pychrony import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(pychrony.__all__)


def test_version() -> None:
    # One source: pychrony-py/Cargo.toml, through the wheel's metadata (test_install.py).
    assert pychrony.__version__ == importlib.metadata.version("chrony-monitor")
    assert pychrony.__version__.count(".") == 2


# --- get_tracking ---------------------------------------------------------------------------------


def test_get_tracking_signature() -> None:
    sig = inspect.signature(get_tracking)
    params = list(sig.parameters.values())
    assert [p.name for p in params] == ["socket_path", "timeout"]
    socket_path, timeout = params
    assert socket_path.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert socket_path.default is None
    assert socket_path.annotation == str | os.PathLike[str] | None
    assert timeout.kind is inspect.Parameter.KEYWORD_ONLY
    assert timeout.default == 3.0
    assert timeout.annotation is float
    assert sig.return_annotation is TrackingStatus


def test_get_tracking_docstring_lists_the_contract_errors() -> None:
    doc = inspect.getdoc(get_tracking) or ""
    for name in [
        "ChronyLibraryError",
        "ChronyConnectionError",
        "ChronyPermissionError",
        "ChronyDataError",
        "/run/chrony/chronyd.sock",
        "/var/run/chrony/chronyd.sock",
    ]:
        assert name in doc


@pytest.mark.parametrize("bad", [b"/run/chrony/chronyd.sock", 42, 1.5, ["/x"], object()])
def test_get_tracking_rejects_socket_path_of_wrong_type(bad: object) -> None:
    with pytest.raises(TypeError, match="socket_path"):
        get_tracking(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [0, 0.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e300, 2.0**64]
)
def test_get_tracking_rejects_bad_timeout_values(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        get_tracking("/nonexistent/chronyd.sock", timeout=bad)


@pytest.mark.parametrize("bad", ["3", None, True, b"1"])
def test_get_tracking_rejects_bad_timeout_types(bad: object) -> None:
    with pytest.raises(TypeError, match="timeout"):
        get_tracking("/nonexistent/chronyd.sock", timeout=bad)  # type: ignore[arg-type]


def test_get_tracking_timeout_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        get_tracking("/nonexistent/chronyd.sock", 1.0)  # type: ignore[call-arg]


# --- TrackingStatus -------------------------------------------------------------------------------


def test_tracking_status_is_a_frozen_dataclass() -> None:
    assert dataclasses.is_dataclass(TrackingStatus)
    params = TrackingStatus.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen is True
    assert params.eq is True
    status = make_status()
    for name, _ in CONTRACT_FIELDS:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(status, name, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.ref_time = 1.0  # type: ignore[misc]


def test_field_order_types_and_defaults() -> None:
    fields = dataclasses.fields(TrackingStatus)
    assert [(f.name, f.type) for f in fields[:13]] == CONTRACT_FIELDS
    for f in fields[:13]:
        assert f.default is dataclasses.MISSING
    assert [(f.name, f.type, f.default) for f in fields[13:]] == ADDED_FIELDS
    hints = typing.get_type_hints(TrackingStatus)
    assert list(hints.items()) == [(n, t) for n, t in CONTRACT_FIELDS] + [
        (n, t) for n, t, _ in ADDED_FIELDS
    ]


def test_constructible_from_the_13_contract_fields_positionally() -> None:
    values = [f(1) if f in (int, float) else "x" for _, f in CONTRACT_FIELDS]
    status = TrackingStatus(*values)  # type: ignore[arg-type]
    assert status.reference_ip == ""
    assert status.ref_time == 0.0


def test_eq_repr_asdict_hash_and_pickle() -> None:
    a = make_status()
    b = make_status()
    assert a == b
    assert a != make_status(stratum=3)
    assert hash(a) == hash(b)
    text = repr(a)
    assert text.startswith("TrackingStatus(reference_id=2130706433, reference_id_name='127.0.0.1'")
    assert "ref_time=0.0" in text
    record = dataclasses.asdict(a)
    assert list(record) == [n for n, _ in CONTRACT_FIELDS] + ["reference_ip", "ref_time"]
    assert pickle.loads(pickle.dumps(a)) == a
    assert dataclasses.replace(a, stratum=5).stratum == 5


@pytest.mark.parametrize(
    ("reference_id", "stratum", "expected"),
    [
        (0x7F000001, 2, True),
        (0x47505300, 1, True),
        (0x7F000001, 15, True),
        (0x7F000001, 16, False),
        (0, 0, False),
        (0, 2, False),
        (0xFFFFFFFF, 0, True),
    ],
)
def test_is_synchronized(reference_id: int, stratum: int, expected: bool) -> None:
    result = make_status(reference_id=reference_id, stratum=stratum).is_synchronized()
    assert result is expected


@pytest.mark.parametrize(("leap", "expected"), [(0, False), (1, True), (2, True), (3, False)])
def test_is_leap_pending(leap: int, expected: bool) -> None:
    assert make_status(leap_status=leap).is_leap_pending() is expected


def test_method_signatures() -> None:
    for name in ["is_synchronized", "is_leap_pending"]:
        sig = inspect.signature(getattr(TrackingStatus, name))
        assert list(sig.parameters) == ["self"]
        assert sig.return_annotation in (bool, "bool")


# --- exceptions -----------------------------------------------------------------------------------

SUBCLASSES = [ChronyConnectionError, ChronyPermissionError, ChronyDataError, ChronyLibraryError]


def test_exception_hierarchy() -> None:
    assert issubclass(ChronyError, Exception)
    assert ChronyError.__bases__ == (Exception,)
    for cls in SUBCLASSES:
        assert cls.__bases__ == (ChronyError,), cls
    assert not issubclass(ChronyError, OSError)


def test_chrony_error_init_signature() -> None:
    sig = inspect.signature(ChronyError.__init__)
    params = list(sig.parameters.values())
    assert [p.name for p in params] == ["self", "message", "error_code"]
    assert params[2].default is None
    lib = list(inspect.signature(ChronyLibraryError.__init__).parameters)
    assert lib == ["self", "message"]


@pytest.mark.parametrize(
    "cls", [ChronyError, ChronyConnectionError, ChronyPermissionError, ChronyDataError]
)
def test_str_with_and_without_code(cls: type[ChronyError]) -> None:
    err = cls("chronyd is not running", -1)
    assert err.message == "chronyd is not running"
    assert err.error_code == -1
    assert str(err) == "chronyd is not running (error code: -1)"
    plain = cls("something")
    assert plain.error_code is None
    assert str(plain) == "something"
    keyword = cls("m", error_code=-4)
    assert str(keyword) == "m (error code: -4)"


def test_library_error_code_is_always_none() -> None:
    err = ChronyLibraryError("libchrony is missing")
    assert err.error_code is None
    assert err.message == "libchrony is missing"
    assert str(err) == "libchrony is missing"
    assert isinstance(err, ChronyError)
    with pytest.raises(TypeError):
        ChronyLibraryError("x", -1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "err",
    [
        ChronyError("base", -1),
        ChronyError("base"),
        ChronyConnectionError("refused", -1),
        ChronyConnectionError("timeout", -6),
        ChronyPermissionError("denied", -3),
        ChronyDataError("bad", -5),
        ChronyLibraryError("missing"),
    ],
)
def test_exceptions_pickle(err: ChronyError) -> None:
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert clone.message == err.message
    assert clone.error_code == err.error_code
    assert str(clone) == str(err)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-1, ChronyConnectionError),
        (-2, ChronyConnectionError),
        (-3, ChronyPermissionError),
        (-4, ChronyDataError),
        (-5, ChronyDataError),
        (-6, ChronyConnectionError),
    ],
)
def test_error_code_table(code: int, cls: type[ChronyError]) -> None:
    # The native module raises through this function with chrony-core's (message, code).
    from pychrony._errors import _from_native

    err = _from_native("what happened; what to do", code)
    assert type(err) is cls
    assert err.error_code == code
    assert str(err) == f"what happened; what to do (error code: {code})"


# --- ChronyConnection -----------------------------------------------------------------------------


def test_chrony_connection_signature() -> None:
    sig = inspect.signature(ChronyConnection)
    params = list(sig.parameters.values())
    assert [p.name for p in params] == ["address", "timeout"]
    assert params[0].default is None
    assert params[1].kind is inspect.Parameter.KEYWORD_ONLY
    assert params[1].default == 3.0
    for name in ["get_tracking", "close", "__enter__", "__exit__"]:
        assert callable(getattr(ChronyConnection, name))
    for name in ["address", "transport", "timeout", "closed"]:
        assert isinstance(getattr(ChronyConnection, name), property)


def test_chrony_connection_before_open() -> None:
    conn = ChronyConnection("/nonexistent/chronyd.sock", timeout=0.5)
    assert conn.closed
    assert conn.address == "/nonexistent/chronyd.sock"
    assert conn.transport is None
    assert conn.timeout == 0.5
    conn.close()
    conn.close()


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), 1e300])
def test_chrony_connection_rejects_bad_timeout(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        ChronyConnection(timeout=bad)


def test_chrony_connection_rejects_bad_address_type() -> None:
    with pytest.raises(TypeError):
        ChronyConnection(42)  # type: ignore[arg-type]

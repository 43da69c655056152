"""The records get_tracking() and get_sources() return are built without __init__ (pychrony._build;
the native module builds TrackingStatus): they must be the very objects __init__ makes from the
same values (equal, same repr, hash and __dict__, frozen, pickled and replaced alike), read from
the fixture's real chronyd."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from conftest import Daemon
from pychrony import ChronyConnection, Source, TrackingStatus, get_sources, get_tracking
from pychrony._build import builder, field_names, member_of
from pychrony._native_loader import native
from pychrony._reports import SourceState


def rebuilt(record: Any) -> Any:
    """The same record made by the class's __init__, from the values read back."""
    values = [getattr(record, f.name) for f in dataclasses.fields(record)]
    return type(record)(*values)


def assert_same_as_init(record: Any) -> None:
    twin = rebuilt(record)
    assert type(record) is type(twin)
    assert record == twin and not record != twin
    assert repr(record) == repr(twin)
    assert hash(record) == hash(twin)
    assert list(vars(record).items()) == list(vars(twin).items())
    assert dataclasses.asdict(record) == dataclasses.asdict(twin)
    assert pickle.loads(pickle.dumps(record)) == twin
    first = dataclasses.fields(record)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, first, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.not_a_field = 1
    assert dataclasses.replace(record) == twin


def test_tracking_records_are_those_init_makes(sources: Daemon) -> None:
    assert_same_as_init(get_tracking(sources.socket))
    with ChronyConnection(sources.socket) as conn:
        status = conn.get_tracking()
    assert type(status) is TrackingStatus
    assert_same_as_init(status)


def test_source_records_are_those_init_makes(sources: Daemon) -> None:
    with ChronyConnection(sources.socket) as conn:
        records = conn.get_sources()
    records += get_sources(sources.socket)
    assert len(records) == 2 * len(sources.source_addresses())
    for record in records:
        assert type(record) is Source and type(record.state) is SourceState
        assert_same_as_init(record)


def test_a_wrong_number_of_values_is_an_error_not_a_record_missing_a_field() -> None:
    build = builder(TrackingStatus)
    fields = len(dataclasses.fields(TrackingStatus))
    with pytest.raises(ValueError, match=f"TrackingStatus has {fields} fields, got 14 values"):
        build((0,) * 14)
    with pytest.raises(ValueError, match="got 16 values"):
        build((0,) * 16)


def test_the_native_module_refuses_field_names_of_another_length(sources: Daemon) -> None:
    names = field_names(TrackingStatus)
    message = "TrackingStatus has 14 fields and the report 15 values"
    with pytest.raises(ValueError, match=message):
        native().get_tracking(sources.socket, 3.0, TrackingStatus, names[:-1])
    conn = native().Connection(sources.socket, 3.0)
    try:
        with pytest.raises(ValueError, match=message):
            conn.tracking(TrackingStatus, names[:-1])
        assert conn.tracking(TrackingStatus, names).stratum == 2
    finally:
        conn.close()


def test_classes_whose_init_does_more_are_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class Derived:
        x: int
        y: int = dataclasses.field(init=False, default=0)

    for cls in (Checked, Derived):
        with pytest.raises(TypeError, match="does more than store the fields"):
            builder(cls)
        with pytest.raises(TypeError, match="does more than store the fields"):
            field_names(cls)
    with pytest.raises(TypeError, match="has no field nope"):
        builder(TrackingStatus, nope=int)


def test_member_of_finds_members_and_keeps_unknown_values() -> None:
    state = member_of(SourceState)
    assert state(0) is SourceState.SELECTED
    assert state(9) is SourceState(9)
    assert state(9).name == "UNKNOWN_9"
    with pytest.raises(ValueError):
        state(-1)

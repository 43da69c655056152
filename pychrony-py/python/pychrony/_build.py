"""Builds the frozen dataclasses from the native module's tuples, without their ``__init__``.

A frozen dataclass's ``__init__`` stores each field with ``object.__setattr__`` (its own
``__setattr__`` refuses), a call per field: for the 15 fields of ``TrackingStatus`` that was
most of what a reused ``get_tracking()`` cost in Python. Filling a new instance's ``__dict__``
with the fields, in their order, gives the very object ``__init__`` would (equal, the same
``repr``, still immutable, pickled the same), because these classes' ``__init__`` does nothing
else: :func:`builder` refuses a class for which that is not so.
"""

from __future__ import annotations

import dataclasses

# typing takes milliseconds to import and only type checkers need it here (mypy reads this
# name as True).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import enum
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar

    _T = TypeVar("_T")
    _E = TypeVar("_E", bound=enum.IntEnum)


def field_names(cls: type) -> tuple[str, ...]:
    """The names of ``cls``'s fields, in order, once it is checked that its ``__init__`` only
    stores them (what building it without ``__init__`` needs; the native module builds
    ``TrackingStatus`` with these names)."""
    fields = dataclasses.fields(cls)
    plain = (
        all(f.init for f in fields)
        and not hasattr(cls, "__post_init__")
        and "__slots__" not in vars(cls)
    )
    if not plain:
        raise TypeError(f"{cls.__name__}: its __init__ does more than store the fields")
    return tuple(f.name for f in fields)


def builder(cls: type[_T], **convert: Callable[[Any], Any]) -> Callable[[Sequence[Any]], _T]:
    """A function making a ``cls`` from a sequence of all its fields' values, in field order
    (a sequence of another length is a ``ValueError``, never an instance missing a field);
    ``convert`` maps a field's name to a function turning its native value into the field's
    (e.g. a wire value into an enum member)."""
    names = field_names(cls)
    unknown = set(convert) - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    count, conversions, new = len(names), tuple(convert.items()), object.__new__

    def build(values: Sequence[Any]) -> _T:
        # A length check, not zip(strict=True): that costs a quarter of the whole build.
        if len(values) != count:
            raise ValueError(f"{cls.__name__} has {count} fields, got {len(values)} values")
        obj = new(cls)
        state = obj.__dict__
        # Checked above; any keyword (even strict=False) makes the zip() call 20% of the build.
        state.update(zip(names, values))  # noqa: B905
        for name, to_field in conversions:
            state[name] = to_field(state[name])
        return obj

    return build


def member_of(cls: type[_E]) -> Callable[[int], _E]:
    """``cls(value)`` for an IntEnum, with its members looked up in a dict first (an Enum call
    costs several times more); other values still go through ``cls(value)`` (``_missing_``)."""
    members: dict[int, _E] = {int(m): m for m in cls}

    def member(value: int) -> _E:
        found = members.get(value)
        return cls(value) if found is None else found

    return member

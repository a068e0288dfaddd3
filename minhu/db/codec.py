"""Domain dataclasses to JSON documents and back, driven by their type hints.

Used for the nested parts of a work order (extensions, contacts, replies, ...). Instants are
stored as ISO-8601 strings in UTC and read back timezone-aware in the deployment's timezone.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """Plain JSON data for a dataclass, enum, instant, date or container of those."""
    if value is None or (isinstance(value, bool | int | float | str) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime refused")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, typing.Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any, tz: tzinfo) -> T:
    """Rebuild a dataclass of type ``cls`` from :func:`to_json` output."""
    return typing.cast(T, _decode(cls, data, tz))


def _decode(hint: Any, data: Any, tz: tzinfo) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(args[0], data, tz)
    if origin in (tuple, list, frozenset, set):
        (item, *_rest) = typing.get_args(hint) or (Any,)
        items = [_decode(item, v, tz) for v in data]
        return origin(items) if origin is not tuple else tuple(items)
    if (origin is not None and origin in (dict, typing.Mapping)) or hint is typing.Mapping:
        return dict(data)
    if hint is Any:
        return data
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(data)
        if hint is datetime:
            return datetime.fromisoformat(data).astimezone(tz)
        if hint is date:
            return date.fromisoformat(data)
        if hint is Decimal:
            return Decimal(data)
        if dataclasses.is_dataclass(hint):
            hints = _hints(hint)
            kwargs = {
                f.name: _decode(hints[f.name], data[f.name], tz)
                for f in dataclasses.fields(hint)
                if f.name in data
            }
            return hint(**kwargs)
        if hint in (str, int, bool, float):
            return hint(data)
    raise TypeError(f"cannot decode {hint!r}")

"""Model instances built from values that already have their fields' types, skipping pydantic's
validation pass: for the hot loops (parsers at 100k iptables rules or 200k journal lines, the trace
engine's steps).

The caller guarantees every value is of its field's type and every field is present (defaults
included). Records built this way may share values with each other: treat them as read-only.
Measured (bench/run.py, CPython 3.11): `model_construct` ~8 us, `fast_record` ~0.9 us per instance.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# BaseModel keeps its instance state in four slots. Their descriptors' `__set__` is about twice as
# fast as `object.__setattr__`, which looks the descriptor up on every call.
_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
_new = object.__new__

_FIELDS_SET: dict[type[BaseModel], set[str]] = {}
_KEY_SHARING: dict[type[BaseModel], dict[str, Any]] = {}


def fields_set(cls: type[BaseModel]) -> set[str]:
    """The one fields-set object every unchecked instance of `cls` shares (all fields count as set;
    pydantic only ever adds names to it, and they are all present already)."""
    got = _FIELDS_SET.get(cls)
    if got is None:
        got = _FIELDS_SET[cls] = set(cls.model_fields)
    return got


def fast_record(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of `cls` whose `__dict__` is `values` (which must hold every field, already typed)."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, _FIELDS_SET.get(cls) or fields_set(cls))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def key_sharing_dict(cls: type[BaseModel]) -> dict[str, Any]:
    """A dict holding every field name of `cls` (values None) whose copies share one key table.

    CPython (3.11+) keeps an instance dict of a plain class "split": the keys live once in the class,
    each dict holds only its values; `copy()` keeps that. For a model with many fields this halves the
    dict (measured: 15 keys 656 -> 296 bytes; 11 keys 464 -> 296); below ~8 fields it costs more. Set
    the values by assigning existing keys (any order); adding or deleting a key merely un-shares it.
    """
    proto = _KEY_SHARING.get(cls)
    if proto is None:
        holder = type(f"_{cls.__name__}Values", (), {})()
        for name in cls.model_fields:
            setattr(holder, name, None)
        proto = _KEY_SHARING[cls] = holder.__dict__
    return proto


def slim_record(cls: type[M], values: dict[str, Any]) -> M:
    """`fast_record` with the values copied into a key-sharing dict (see `key_sharing_dict`), for
    models with many fields built by the hundred thousand (rules, journal events)."""
    d = key_sharing_dict(cls).copy()
    d.update(values)
    return fast_record(cls, d)


_SHAREABLE = (str, int, IPv4Address, IPv6Address, IPv4Network, IPv6Network)


def compact(record: M, shared: dict[Any, Any]) -> M:
    """`record` (already validated) with every immutable scalar value (strings, numbers, addresses)
    replaced by the equal object already in `shared` (ten thousand routes through one gateway hold one
    address), and, for models of more than 10 fields, its values re-housed in a key-sharing dict
    (smaller than a plain dict only from 11 keys on: see `key_sharing_dict`). Returns `record`."""
    old = record.__dict__
    values = key_sharing_dict(type(record)).copy() if len(old) > 10 else old
    for name, value in old.items():
        if type(value) in _SHAREABLE:
            value = shared.setdefault(value, value)
        values[name] = value
    if values is not old:
        _set_dict(record, values)
    return record

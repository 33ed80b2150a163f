"""The engine's storage and alarm adapters: thin programs over the storage operations.

They mirror the upstream Durable Object adapters, including one detail that costs a read on every
delete: the adapter's `delete` first `get`s the key to report whether it existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.ops import (
    Delete,
    DeleteAlarm,
    DeleteAll,
    Get,
    GetMany,
    List,
    Program,
    Put,
    PutMany,
    SetAlarm,
)


def get(key: str) -> Program[Any]:
    return (yield Get(key))


def get_many(keys: tuple[str, ...]) -> Program[dict[str, Any]]:
    return (yield GetMany(keys))


def put(key: str, value: Any) -> Program[None]:
    yield Put(key, value)


def put_batch(entries: Mapping[str, Any]) -> Program[None]:
    yield PutMany(dict(entries))


def delete(key: str) -> Program[bool]:
    """Delete a key, answering whether it existed (a `get`, then the `delete`)."""
    existed = (yield Get(key)) is not None
    yield Delete(key)
    return existed


def delete_all() -> Program[None]:
    yield DeleteAll()


def list_prefix(prefix: str) -> Program[dict[str, Any]]:
    return (yield List(prefix))


def set_alarm(at_ms: float) -> Program[None]:
    yield SetAlarm(at_ms)


def delete_alarm() -> Program[None]:
    yield DeleteAlarm()

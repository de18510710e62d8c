"""Compare-and-set on one key of a JetStream KV bucket: the one retry loop for state that
several replicas change at once (the job view, the renderer's scene ledger)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

T = TypeVar("T")


async def compare_and_set(
    kv: KeyValue,
    key: str,
    change: Callable[[T | None], T | None],
    *,
    decode: Callable[[bytes], T],
    encode: Callable[[T], bytes],
) -> T | None:
    """Store `change(current)`, reading again and retrying whenever another writer won.

    `current` is None when the key is missing (or empty); `change` returns None to write
    nothing. Returns what the key holds afterwards: the written value, or the unchanged one.
    """
    while True:
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            current, revision = None, None
        else:
            current = decode(entry.value) if entry.value else None
            revision = entry.revision
        updated = change(current)
        if updated is None:
            return current
        try:
            if revision is None:
                await kv.create(key, encode(updated))
            else:
                await kv.update(key, encode(updated), last=revision)
        except KeyWrongLastSequenceError:
            continue
        return updated

"""Which scenes of a job are settled — rendered, or abandoned — decided with compare-and-set.

Several renderer replicas finish scenes of one job concurrently; exactly the update that
settles the last scene sees `settled=True` first, and a redelivered event sees it again, so
combining happens once (and a repeat is harmless: its output is de-duplicated). A scene is
abandoned only under PARTIAL_ASSEMBLY, when its last possible attempt failed.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue


class SceneLedger(msgspec.Struct):
    scene_count: int
    rendered: list[int] = []
    abandoned: list[int] = []

    @property
    def complete(self) -> bool:
        """Every scene rendered."""
        return len(set(self.rendered)) >= self.scene_count

    @property
    def settled(self) -> bool:
        """Every scene rendered or abandoned: nothing more will happen before combining."""
        return len(set(self.rendered) | set(self.abandoned)) >= self.scene_count


def failure_is_final(
    *, attempt: int, repairable: bool, model: str, scene_model: str, max_fix_attempts: int,
    scene_fallback: str,
) -> bool:
    """Whether no further attempt at a scene will follow this failed one.

    Mirrors the coder's rules: it repairs up to MAX_FIX_ATTEMPTS times, then (with
    SCENE_FALLBACK=builtin and a non-built-in model) tries the built-in model's version once.
    """
    if not repairable:
        return True
    if attempt <= max_fix_attempts:
        return False
    return model == "builtin" or scene_model == "builtin" or scene_fallback != "builtin"


async def record_rendered(
    kv: KeyValue, job_id: str, *, scene: int, scene_count: int
) -> SceneLedger:
    """Mark `scene` rendered; the ledger after the change."""
    return await _record(kv, job_id, scene_count, lambda ledger: ledger.rendered, scene)


async def record_abandoned(
    kv: KeyValue, job_id: str, *, scene: int, scene_count: int
) -> SceneLedger:
    """Mark `scene` failed for good (it will be left out); the ledger after the change."""
    return await _record(kv, job_id, scene_count, lambda ledger: ledger.abandoned, scene)


async def is_rendered(kv: KeyValue, job_id: str, scene: int) -> bool:
    try:
        entry = await kv.get(job_id)
    except KeyNotFoundError:
        return False
    return scene in msgspec.json.decode(entry.value or b"{}", type=SceneLedger).rendered


async def _record(
    kv: KeyValue,
    job_id: str,
    scene_count: int,
    members: Callable[[SceneLedger], list[int]],
    scene: int,
) -> SceneLedger:
    while True:
        try:
            entry = await kv.get(job_id)
            ledger = msgspec.json.decode(entry.value or b"{}", type=SceneLedger)
            revision: int | None = entry.revision
        except KeyNotFoundError:
            ledger, revision = SceneLedger(scene_count=scene_count), None
        if scene in members(ledger):
            return ledger
        members(ledger).append(scene)
        members(ledger).sort()
        data = msgspec.json.encode(ledger)
        try:
            if revision is None:
                await kv.create(job_id, data)
            else:
                await kv.update(job_id, data, last=revision)
        except KeyWrongLastSequenceError:
            continue
        return ledger

"""Which scenes of a job are rendered, decided with compare-and-set.

Several renderer replicas finish scenes of one job concurrently; exactly the update that
completes the set sees `complete=True` first, and a redelivered event sees it again, so
combining happens once (and a repeat is harmless: its output is de-duplicated).
"""

from __future__ import annotations

import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue


class SceneLedger(msgspec.Struct):
    scene_count: int
    rendered: list[int] = []

    @property
    def complete(self) -> bool:
        return len(set(self.rendered)) >= self.scene_count


async def record_rendered(kv: KeyValue, job_id: str, *, scene: int, scene_count: int) -> bool:
    """Mark `scene` rendered; True when every scene of the job now is."""
    while True:
        try:
            entry = await kv.get(job_id)
            ledger = msgspec.json.decode(entry.value or b"{}", type=SceneLedger)
            revision: int | None = entry.revision
        except KeyNotFoundError:
            ledger, revision = SceneLedger(scene_count=scene_count), None
        if scene in ledger.rendered:
            return ledger.complete
        ledger.rendered = sorted({*ledger.rendered, scene})
        data = msgspec.json.encode(ledger)
        try:
            if revision is None:
                await kv.create(job_id, data)
            else:
                await kv.update(job_id, data, last=revision)
        except KeyWrongLastSequenceError:
            continue
        return ledger.complete


async def is_rendered(kv: KeyValue, job_id: str, scene: int) -> bool:
    try:
        entry = await kv.get(job_id)
    except KeyNotFoundError:
        return False
    return scene in msgspec.json.decode(entry.value or b"{}", type=SceneLedger).rendered

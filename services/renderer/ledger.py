"""Which scenes of a job are settled — rendered, or abandoned — decided with compare-and-set.

Several renderer replicas finish scenes of one job concurrently; exactly the update that
settles the last scene sees `settled=True` first, and a redelivered event sees it again, so
combining happens once (and a repeat is harmless: its output is de-duplicated). A scene is
abandoned when a `scene.abandoned` event says so (the coder gave up on it, or a
client's own scene failed), which happens only under PARTIAL_ASSEMBLY.

The ledger remembers which attempt rendered each scene: a later attempt (a replay) renders
again and changes the ledger's `revision`, which makes the combined video a new output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import msgspec
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from shared.kvstate import compare_and_set


class SceneLedger(msgspec.Struct):
    scene_count: int
    rendered: dict[int, int] = {}  # scene → the attempt that rendered it
    abandoned: list[int] = []

    @property
    def complete(self) -> bool:
        """Every scene rendered."""
        return len(self.rendered) >= self.scene_count

    @property
    def settled(self) -> bool:
        """Every scene rendered or abandoned: nothing more will happen before combining."""
        return len(set(self.rendered) | set(self.abandoned)) >= self.scene_count

    @property
    def scenes(self) -> list[int]:
        """The rendered scenes, in order."""
        return sorted(self.rendered)

    @property
    def revision(self) -> str:
        """Names this set of clips: it changes when any scene is rendered again."""
        settled = sorted(self.rendered.items()), sorted(self.abandoned)
        return hashlib.sha256(msgspec.json.encode(settled)).hexdigest()[:12]


_DECODER = msgspec.json.Decoder(SceneLedger)


def ledger_key(job_id: str, revision: int) -> str:
    """A revision of a job settles its own scenes: every scene is rendered again (changed
    ones for real, the others from the render cache) before it is combined."""
    return job_id if revision <= 1 else f"{job_id}.r{revision}"


async def record_rendered(
    kv: KeyValue, job_id: str, *, scene: int, scene_count: int, attempt: int
) -> SceneLedger:
    """Mark `scene` rendered by `attempt` (an older attempt changes nothing); the ledger."""

    def change(ledger: SceneLedger) -> bool:
        if ledger.rendered.get(scene, 0) >= attempt:
            return False
        ledger.rendered[scene] = attempt
        return True

    return await _record(kv, job_id, scene_count, change)


async def record_abandoned(
    kv: KeyValue, job_id: str, *, scene: int, scene_count: int
) -> SceneLedger:
    """Mark `scene` failed for good (it will be left out); the ledger after the change."""

    def change(ledger: SceneLedger) -> bool:
        if scene in ledger.abandoned:
            return False
        ledger.abandoned = sorted([*ledger.abandoned, scene])
        return True

    return await _record(kv, job_id, scene_count, change)


async def is_rendered(kv: KeyValue, job_id: str, scene: int, *, attempt: int) -> bool:
    """Whether this attempt at the scene, or a later one, is rendered already."""
    try:
        entry = await kv.get(job_id)
    except KeyNotFoundError:
        return False
    ledger = msgspec.json.decode(entry.value or b"{}", type=SceneLedger)
    return ledger.rendered.get(scene, 0) >= attempt


async def _record(
    kv: KeyValue, job_id: str, scene_count: int, change: Callable[[SceneLedger], bool]
) -> SceneLedger:
    def changed(current: SceneLedger | None) -> SceneLedger | None:
        ledger = current or SceneLedger(scene_count=scene_count)
        return ledger if change(ledger) else None

    stored = await compare_and_set(
        kv, job_id, changed, decode=_DECODER.decode, encode=msgspec.json.encode
    )
    return stored or SceneLedger(scene_count=scene_count)

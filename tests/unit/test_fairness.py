"""Fair render slots: the per-user cap holds and waiting users take turns round-robin."""

from __future__ import annotations

import asyncio

import pytest

from services.renderer.fairness import FairSlots


async def _hold(slots: FairSlots, user: str, order: list[str], release: asyncio.Event) -> None:
    async with slots.slot(user):
        order.append(user)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_user_never_holds_more_than_the_cap() -> None:
    slots = FairSlots(2, per_user=1)
    order: list[str] = []
    release = asyncio.Event()
    tasks = [asyncio.create_task(_hold(slots, "alice", order, release)) for _ in range(4)]
    await _settle()
    assert order == ["alice"] and slots.running == 1 and slots.waiting == 3
    bob = asyncio.create_task(_hold(slots, "bob", order, release))
    await _settle()
    assert order == ["alice", "bob"]  # the free slot goes to bob at once
    release.set()
    await asyncio.gather(*tasks, bob)
    assert order == ["alice", "bob", "alice", "alice", "alice"]
    assert slots.running == slots.waiting == 0


async def test_waiting_users_take_turns() -> None:
    slots = FairSlots(1, per_user=1)
    order: list[str] = []
    gates = {name: asyncio.Event() for name in "abc"}
    first = asyncio.create_task(_hold(slots, "a", order, gates["a"]))
    await _settle()
    queued = [
        asyncio.create_task(_hold(slots, user, order, gates[user]))
        for user in ("a", "a", "b", "b", "c")
    ]
    await _settle()
    for gate in gates.values():
        gate.set()
    await asyncio.gather(first, *queued)
    # The longest-unserved user goes next, so "a" waits for "b" and "c".
    assert order == ["a", "b", "c", "a", "b", "a"]


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    slots = FairSlots(1, per_user=1)
    order: list[str] = []
    release = asyncio.Event()
    running = asyncio.create_task(_hold(slots, "a", order, release))
    await _settle()
    waiter = asyncio.create_task(_hold(slots, "b", order, release))
    await _settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.waiting == 0
    release.set()
    await running
    assert order == ["a"] and slots.running == 0


async def test_a_failing_render_frees_its_slot() -> None:
    slots = FairSlots(1, per_user=1)
    with pytest.raises(RuntimeError):
        async with slots.slot("a"):
            raise RuntimeError("render crashed")
    async with slots.slot("a"):
        assert slots.running_for("a") == 1


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        FairSlots(0, per_user=1)

"""Fair render slots: a per-user cap on running renders, round-robin across waiting users.

Without it a replica renders scene events in stream order, so one user's backlog of long
renders holds every slot and another user's short render waits behind all of it. A replica
therefore takes a few more scene events than it has slots (``RENDER_LOOKAHEAD``) and each
of them waits here for a slot: a user never runs more than ``MAX_RENDERS_PER_USER`` at
once, and when a slot frees, the user who waited longest since their last turn goes next.

A waiting event keeps its message alive with the runtime's in-progress acks (its handler is
running while it waits). A nak with a delay would not do: JetStream counts every redelivery
against ``MAX_DELIVER``, so a render that merely waited its turn could fail its job without
ever having run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, deque
from collections.abc import AsyncIterator


class FairSlots:
    """``slots`` renders at once, at most ``per_user`` of them for any one user."""

    def __init__(self, slots: int, per_user: int) -> None:
        if slots < 1 or per_user < 1:
            raise ValueError("slots and per_user must be at least 1")
        self.slots = slots
        self.per_user = per_user
        self._running: Counter[str] = Counter()
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}  # in order of arrival
        # When each present user was last given a slot: the longest-unserved goes next.
        self._turns = itertools.count()
        self._last_turn: dict[str, int] = {}

    @property
    def running(self) -> int:
        return sum(self._running.values())

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    def running_for(self, user: str) -> int:
        return self._running[user]

    @contextlib.asynccontextmanager
    async def slot(self, user: str) -> AsyncIterator[None]:
        """Hold one of the slots for ``user`` while the block runs (wait for its turn)."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(user, deque()).append(turn)
        self._dispatch()
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._release(user)  # granted just as the waiter was cancelled
            else:
                self._forget(user, turn)
            raise
        try:
            yield
        finally:
            self._release(user)

    def _dispatch(self) -> None:
        while self.running < self.slots:
            ready = [u for u in self._waiting if self._running[u] < self.per_user]
            if not ready:
                return
            user = min(ready, key=lambda u: self._last_turn.get(u, -1))
            queue = self._waiting[user]
            turn = queue.popleft()
            if not queue:
                del self._waiting[user]
            self._running[user] += 1
            self._last_turn[user] = next(self._turns)
            turn.set_result(None)

    def _release(self, user: str) -> None:
        self._running[user] -= 1
        if self._running[user] <= 0:
            del self._running[user]
            if user not in self._waiting:
                self._last_turn.pop(user, None)  # gone: nothing to be fair about
        self._dispatch()

    def _forget(self, user: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(user)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(turn)
        if not queue:
            del self._waiting[user]
            if not self._running[user]:
                self._last_turn.pop(user, None)

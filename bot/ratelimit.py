"""A per-user sliding-window limit on prompts, so one user cannot flood the generation worker."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Checks between two sweeps of idle users, so memory follows the active users, not all users ever seen.
SWEEP_EVERY = 1000


@dataclass(frozen=True)
class RateDecision:
    """Whether a prompt may go ahead; when it may not, how long until it may and whether to tell the user."""

    allowed: bool
    retry_after_s: float = 0.0
    notify: bool = False


class UserRateLimiter:
    """Allow at most `limit` prompts per user in any `window_s` seconds; `limit` 0 allows all.

    Only the first rejected prompt of a burst is marked `notify`: answering every message of a
    flood would itself flood the chat and Telegram's own limits. The later ones are counted.
    """

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.rejected = 0
        self._clock = clock
        self._events: dict[int, deque[float]] = {}
        self._notified_until: dict[int, float] = {}
        self._checks = 0

    def check(self, user_id: int) -> RateDecision:
        """Record a prompt of `user_id` when it is allowed, and return the decision."""
        if self.limit == 0:
            return RateDecision(allowed=True)

        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self.forget_idle()

        now = self._clock()
        events = self._events.setdefault(user_id, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()

        if len(events) < self.limit:
            events.append(now)
            self._notified_until.pop(user_id, None)
            return RateDecision(allowed=True)

        self.rejected += 1
        retry_after = events[0] + self.window_s - now
        notify = self._notified_until.get(user_id, -math.inf) <= now
        if notify:
            self._notified_until[user_id] = now + retry_after
        return RateDecision(allowed=False, retry_after_s=retry_after, notify=notify)

    def forget_idle(self) -> None:
        """Drop users with no prompt inside the window, so memory stays bounded by active users."""
        now = self._clock()
        idle = [uid for uid, events in self._events.items() if not events or events[-1] <= now - self.window_s]
        for uid in idle:
            del self._events[uid]
            self._notified_until.pop(uid, None)

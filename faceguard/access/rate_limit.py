"""Rate limiting at the door: a face track refused again and again is paused instead of judged again.

Someone probing the door — holding up one photo after another, or a recognised face failing the
liveness check — is refused once per face. The kiosk counts these denials per followed face track (the
caller's ``key``, kept while the same box stays in view even when the face in it changes); rules of
``RateLimiter.record``:

1. A denial is any outcome in ``DENIALS``: everything but GRANTED, LOW_QUALITY (a face too poor to
   judge is no attempt) and RATE_LIMITED itself.
2. After ``max_denials`` denials of one key within ``window`` seconds, the key is paused for ``pause``
   seconds and its denials are forgotten: when the pause ends it is judged afresh.
3. A key paused again within ``window`` seconds of its last pause's end is paused twice as long as
   last time, at most ``max_pause``.
4. Denials recorded while a key is paused do not count. Keys idle for longer than ``window`` (no
   denial, no pause running or recently ended) are dropped, so memory stays bounded.

Defaults: 3 denials in 60 s, then 30 s (doubling up to 5 min). A genuine person refused three times in a
minute — not enrolled, expired, or failing the liveness check — is better served by an administrator than
by a fourth try, and a pause of 30 s costs them little; one prober gets about three guesses a minute at
most instead of one every second. Times are monotonic seconds, given by the caller (no clock is read).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from faceguard.access.policy import Outcome

#: The outcomes that count as a refused attempt.
DENIALS = frozenset(Outcome) - {Outcome.GRANTED, Outcome.LOW_QUALITY, Outcome.RATE_LIMITED}
MAX_DENIALS = 3
WINDOW = 60.0
PAUSE = 30.0
MAX_PAUSE = 300.0


@dataclass(frozen=True)
class RateLimitConfig:
    """``max_denials`` denials within ``window`` seconds pause a key for ``pause`` seconds (doubled on
    a repeat, up to ``max_pause``)."""

    max_denials: int = MAX_DENIALS
    window: float = WINDOW
    pause: float = PAUSE
    max_pause: float = MAX_PAUSE

    def __post_init__(self) -> None:
        if self.max_denials < 1:
            raise ValueError(f"max_denials must be at least 1, got {self.max_denials}.")
        for name in ("window", "pause"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {getattr(self, name)}.")
        if not self.max_pause >= self.pause:
            raise ValueError(f"max_pause must be at least pause ({self.pause} s), got {self.max_pause}.")


@dataclass
class _Key:
    denials: deque[float] = field(default_factory=deque)
    paused_until: float = -math.inf
    last_pause: float = 0.0  # the length of the last pause, in seconds


class RateLimiter:
    """Counts denials per key and pauses a key refused too often (see the module docstring)."""

    def __init__(self, config: RateLimitConfig = RateLimitConfig()) -> None:
        self.config = config
        self._keys: dict[int, _Key] = {}

    def record(self, key: int, outcome: Outcome, now: float) -> float | None:
        """Count ``outcome`` for ``key`` at ``now``; returns the pause's length in seconds when this
        denial starts one, else None."""
        self._forget(now)
        if outcome not in DENIALS or self.seconds_left(key, now) is not None:
            return None
        state = self._keys.setdefault(key, _Key())
        state.denials.append(now)
        while now - state.denials[0] > self.config.window:
            state.denials.popleft()
        if len(state.denials) < self.config.max_denials:
            return None
        repeat = now - state.paused_until <= self.config.window
        pause = min(2 * state.last_pause, self.config.max_pause) if repeat else self.config.pause
        state.denials.clear()
        state.paused_until, state.last_pause = now + pause, pause
        return pause

    def seconds_left(self, key: int, now: float) -> float | None:
        """Seconds until ``key``'s pause ends, None when it is not paused."""
        state = self._keys.get(key)
        return state.paused_until - now if state is not None and state.paused_until > now else None

    @property
    def keys(self) -> frozenset[int]:
        """The keys held in memory."""
        return frozenset(self._keys)

    def _forget(self, now: float) -> None:
        window = self.config.window
        for key in [
            key
            for key, state in self._keys.items()
            if now - state.paused_until > window and all(now - denied > window for denied in state.denials)
        ]:
            del self._keys[key]

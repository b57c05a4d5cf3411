"""The door's rate limit: a face box refused max_denials times within window seconds is paused."""

from __future__ import annotations

import pytest

from faceguard.access.policy import Outcome
from faceguard.access.rate_limit import DENIALS, RateLimitConfig, RateLimiter

T0 = 1000.0  # monotonic seconds of the first denial


def deny(limiter: RateLimiter, key: int, times: list[float], outcome: Outcome = Outcome.UNKNOWN) -> list:
    return [limiter.record(key, outcome, T0 + t) for t in times]


def test_the_defaults_are_three_denials_in_a_minute_then_thirty_seconds():
    limiter = RateLimiter()
    assert deny(limiter, 1, [0, 20, 40]) == [None, None, 30.0]
    assert limiter.seconds_left(1, T0 + 40) == 30.0
    assert limiter.seconds_left(1, T0 + 69.5) == 0.5
    assert limiter.seconds_left(1, T0 + 70) is None


def test_denials_older_than_the_window_do_not_count():
    limiter = RateLimiter(RateLimitConfig(max_denials=3, window=60.0))
    assert deny(limiter, 1, [0, 30, 61, 95]) == [None, None, None, None]  # never three within 60 s
    assert deny(limiter, 1, [100]) == [30.0]  # 61, 95 and 100


def test_only_refusals_count():
    """Granted faces, faces too poor to judge and the alert itself are no refused attempts."""
    assert {
        Outcome.UNKNOWN,
        Outcome.INACTIVE,
        Outcome.EXPIRED,
        Outcome.AMBIGUOUS,
        Outcome.MISMATCH,
        Outcome.NOT_LIVE,
        Outcome.NOT_ALLOWED,
    } == DENIALS
    limiter = RateLimiter()
    for outcome in (Outcome.GRANTED, Outcome.LOW_QUALITY, Outcome.RATE_LIMITED):
        assert deny(limiter, 1, [0, 1, 2, 3], outcome) == [None] * 4
    assert limiter.keys == frozenset()
    mixed = [Outcome.NOT_LIVE, Outcome.UNKNOWN, Outcome.AMBIGUOUS]
    assert [limiter.record(2, outcome, T0 + t) for t, outcome in enumerate(mixed)] == [None, None, 30.0]


def test_keys_are_counted_apart():
    limiter = RateLimiter()
    assert deny(limiter, 1, [0, 1]) + deny(limiter, 2, [2, 3]) == [None] * 4
    assert deny(limiter, 1, [4]) == [30.0]
    assert limiter.seconds_left(2, T0 + 4) is None


def test_denials_during_a_pause_do_not_count_and_the_key_is_judged_afresh_after_it():
    limiter = RateLimiter(RateLimitConfig(pause=10.0))
    assert deny(limiter, 1, [0, 1, 2]) == [None, None, 10.0]
    assert deny(limiter, 1, [3, 4, 5, 11.9]) == [None] * 4  # paused until 12
    assert deny(limiter, 1, [12, 13]) == [None, None]  # the three before the pause are forgotten
    assert deny(limiter, 1, [14]) == [20.0]


def test_a_repeated_pause_doubles_up_to_max_pause_and_is_forgotten_after_a_quiet_window():
    limiter = RateLimiter(RateLimitConfig(max_denials=1, window=60.0, pause=30.0, max_pause=100.0))
    ends, pauses, now = [], [], 0.0
    for _ in range(4):
        [pause] = deny(limiter, 1, [now])
        pauses.append(pause)
        now += pause + 5.0  # back 5 s after each pause ends
        ends.append(now)
    assert pauses == [30.0, 60.0, 100.0, 100.0]
    last_end = ends[-1] - 5.0
    assert deny(limiter, 1, [last_end + 60.0]) == [100.0]  # 60 s after the last pause: still a repeat
    quiet = last_end + 60.0 + 100.0 + 60.1  # more than a window after that pause ended
    assert deny(limiter, 1, [quiet]) == [30.0]


def test_idle_keys_are_forgotten():
    limiter = RateLimiter(RateLimitConfig(window=60.0, pause=30.0))
    deny(limiter, 1, [0])
    deny(limiter, 2, [0, 1, 2])  # paused until 32
    deny(limiter, 3, [61])
    assert limiter.keys == {2, 3}  # 1's only denial is more than 60 s old
    deny(limiter, 3, [92.5])
    assert limiter.keys == {3}  # 2's pause ended more than 60 s ago


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"max_denials": 0}, "max_denials must be at least 1, got 0."),
        ({"window": 0.0}, "window must be a positive number of seconds, got 0.0."),
        ({"pause": -1.0}, "pause must be a positive number of seconds, got -1.0."),
        ({"pause": 30.0, "max_pause": 10.0}, "max_pause must be at least pause (30.0 s), got 10.0."),
    ],
)
def test_a_wrong_config_is_refused(config, message):
    with pytest.raises(ValueError) as error:
        RateLimitConfig(**config)
    assert str(error.value) == message

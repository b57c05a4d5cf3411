"""The door kiosk's access policy: k-of-n voting per track, one event per appearance, cooldown."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from faceguard.access.policy import (
    AccessPolicy,
    Decision,
    Observation,
    Outcome,
    PersonStatus,
    PolicyConfig,
    verify_claim,
)
from faceguard.core.clock import day_start
from faceguard.matching.gallery import Match

M0 = 1000.0  # monotonic seconds of the first observation
W0 = datetime(2026, 6, 1, 12, tzinfo=UTC)  # its wall time
THRESHOLD = 0.6
ADA = PersonStatus(1, "Ada Lovelace", active=True, valid_from=None, valid_until=None)
BOB = PersonStatus(2, "Bob Babbage", active=True, valid_from=None, valid_until=None)


def midnight(year: int, month: int, day: int) -> datetime:
    """The start of that day in local time, as validity dates are entered."""
    return day_start(date(year, month, day))


def observed(t: float, track: int, match: Match | None) -> Observation:
    """An observation at monotonic ``t``, its wall time as far from W0 as ``t`` is from M0."""
    return Observation(t, W0 + timedelta(seconds=t - M0), track, match)


def seen(person_id: int, distance: float = 0.3, runner_up: float = 0.9) -> Match:
    return Match(person_id, person_id, distance, runner_up, THRESHOLD)


def unknown(distance: float = 0.8) -> Match:
    return Match(None, 1, distance, math.inf, THRESHOLD)


def make_policy(*people: PersonStatus, **config: float) -> AccessPolicy:
    statuses = {person.person_id: person for person in people or (ADA, BOB)}
    return AccessPolicy(statuses.get, PolicyConfig(**config))


def feed(
    policy: AccessPolicy,
    matches: list[Match | None],
    track: int = 1,
    start: float = M0,
    step: float = 0.1,
    wall: datetime | None = None,
) -> list[Decision | None]:
    """One observation per match on ``track``, ``step`` seconds apart from monotonic ``start`` and from
    ``wall`` time (by default the wall time that goes with ``start``); the result of each."""
    wall = W0 + timedelta(seconds=start - M0) if wall is None else wall
    return [
        policy.observe(Observation(start + i * step, wall + timedelta(seconds=i * step), track, match))
        for i, match in enumerate(matches)
    ]


def decisions(results: list[Decision | None]) -> list[Decision]:
    return [result for result in results if result is not None]


# Rule 1-2: k-of-n voting


def test_k_minus_one_votes_wait_and_the_kth_grants():
    results = feed(make_policy(), [seen(1, 0.30), seen(1, 0.40), seen(1, 0.20)])
    assert results[:2] == [None, None]
    granted = results[2]
    assert granted.outcome is Outcome.GRANTED and granted.granted and granted.decision == "granted"
    assert granted.person == ADA and granted.track_id == 1 and granted.time == W0 + timedelta(seconds=0.2)
    assert granted.distance == pytest.approx(0.30) and granted.threshold == THRESHOLD
    assert granted.message == "Access granted: Ada Lovelace."


def test_votes_outside_the_window_do_not_count():
    policy = make_policy(window=2.0)
    assert feed(policy, [seen(1), seen(1)], start=M0) == [None, None]
    # 2.5 s later (the track is still alive): the first two votes are too old
    assert feed(policy, [seen(1), seen(1)], start=M0 + 2.5) == [None, None]
    assert policy.observe(observed(M0 + 2.7, 1, seen(1))).outcome is Outcome.GRANTED


@pytest.mark.parametrize("n, granted", [(5, False), (7, True)])
def test_votes_older_than_the_last_n_do_not_count(n, granted):
    # Ada's first two votes are frames 1-2; the third is frame 7: within n=7 frames, not within n=5
    results = feed(make_policy(k=3, n=n), [seen(1), seen(1), unknown(), None, unknown(), None, seen(1)])
    assert results[:-1] == [None] * 6
    assert (results[-1] is not None and results[-1].outcome is Outcome.GRANTED) == granted


def test_a_competing_identity_in_the_window_blocks_the_grant():
    policy = make_policy()
    results = feed(policy, [seen(1), seen(2), seen(1)])
    assert results[:2] == [None, None]
    assert results[2].outcome is Outcome.AMBIGUOUS and results[2].person is None
    assert results[2].decision == "denied"
    # Ada keeps voting; only once Bob's vote leaves the last n=5 frames can she win
    later = feed(policy, [seen(1)] * 4, start=M0 + 0.3)  # frames 4-7; Bob (frame 2) leaves at frame 7
    assert later[:3] == [None, None, None]
    assert later[3].outcome is Outcome.GRANTED


@pytest.mark.parametrize(
    "runner_up, threshold, expected",
    [
        (0.42, 0.6, Outcome.AMBIGUOUS),  # runner-up close (less than 5 % of 0.6) and within the threshold
        (0.42, 0.41, Outcome.GRANTED),  # runner-up close but beyond the threshold
        (0.50, 0.6, Outcome.GRANTED),  # runner-up within the threshold but clearly farther
        (0.85, 1.4, Outcome.GRANTED),  # a wider distance scale: 0.45 apart is clear
        (0.46, 1.4, Outcome.AMBIGUOUS),  # ... and 0.06 apart is not (less than 5 % of 1.4)
    ],
)
def test_margin_rule(runner_up, threshold, expected):
    match = Match(1, 1, 0.40, runner_up, threshold)
    results = feed(make_policy(ambiguity_margin=0.05), [match] * 3)
    assert results[2].outcome is expected


def test_unknown_is_decided_once_per_track_and_again_for_a_new_track():
    policy = make_policy()
    first = decisions(feed(policy, [unknown(0.7)] * 30, track=1))
    assert [(d.outcome, d.person, d.decision) for d in first] == [(Outcome.UNKNOWN, None, "unknown")]
    assert first[0].message == "Unknown face." and first[0].distance == pytest.approx(0.7)
    second = decisions(feed(policy, [unknown()] * 30, track=2, start=M0 + 3.1))
    assert [d.outcome for d in second] == [Outcome.UNKNOWN]


def test_unknown_against_an_empty_gallery_has_no_distance():
    empty = Match(None, None, math.inf, math.inf, THRESHOLD)
    assert feed(make_policy(), [empty] * 3)[2].distance is None


def test_low_quality():
    results = feed(make_policy(), [None, None, None, None])
    assert results[:2] == [None, None] and results[3] is None
    decision = results[2]
    assert decision.outcome is Outcome.LOW_QUALITY and decision.decision == "rejected-quality"
    assert decision.person is None and decision.distance is None and decision.threshold is None


def test_a_track_can_decide_unknown_then_granted_but_never_repeats():
    frames = [unknown()] * 3 + [seen(1)] * 5 + [unknown()] * 5
    outcomes = [d.outcome for d in decisions(feed(make_policy(), frames))]
    assert outcomes == [Outcome.UNKNOWN, Outcome.GRANTED]


def test_after_a_person_decision_the_track_logs_no_unknown_or_low_quality():
    frames = [seen(1)] * 3 + [None] * 5 + [unknown()] * 5
    outcomes = [d.outcome for d in decisions(feed(make_policy(), frames))]
    assert outcomes == [Outcome.GRANTED]


# Rule 5: cooldown


def test_one_person_for_60_seconds_is_granted_once_then_again_after_the_cooldown():
    policy = make_policy(cooldown=10.0)
    frames = [observed(M0 + i / 10, 1 if i < 50 else 2, seen(1)) for i in range(600)]  # new track at 5 s
    granted = [d for d in map(policy.observe, frames) if d is not None]
    assert [(d.outcome, d.track_id) for d in granted] == [(Outcome.GRANTED, 1)]
    again = decisions(feed(policy, [seen(1)] * 3, track=3, start=M0 + 61))
    assert [(d.outcome, d.track_id) for d in again] == [(Outcome.GRANTED, 3)]


def test_a_new_track_is_granted_when_the_cooldown_has_passed():
    policy = make_policy(cooldown=10.0)
    assert feed(policy, [seen(1)] * 3, track=1)[2].granted
    assert feed(policy, [seen(1)] * 3, track=2, start=M0 + 5)[2] is None
    assert feed(policy, [seen(1)] * 3, track=3, start=M0 + 10.3)[2].granted


def test_cooldown_for_one_person_does_not_block_another():
    policy = make_policy()
    assert feed(policy, [seen(1)] * 3, track=1)[2].person == ADA
    bob = feed(policy, [seen(2)] * 3, track=2, start=M0 + 1)[2]
    assert bob.granted and bob.person == BOB


def test_cooldown_covers_every_outcome_about_the_person():
    inactive = PersonStatus(1, "Ada Lovelace", active=False, valid_from=None, valid_until=None)
    statuses = {1: ADA}
    policy = AccessPolicy(statuses.get)
    assert feed(policy, [seen(1)] * 3, track=1)[2].granted
    statuses[1] = inactive  # deactivated right after
    assert decisions(feed(policy, [seen(1)] * 3, track=2, start=M0 + 1)) == []


# Rule 3: status check


def test_inactive():
    inactive = PersonStatus(1, "Ada Lovelace", active=False, valid_from=None, valid_until=None)
    decision = feed(make_policy(inactive), [seen(1)] * 3)[2]
    assert decision.outcome is Outcome.INACTIVE and decision.decision == "denied" and not decision.granted
    assert decision.person == inactive and decision.message == "Ada Lovelace is deactivated."


@pytest.mark.parametrize(
    "now, outcome, message",
    [
        (midnight(2026, 1, 31), Outcome.EXPIRED, "Ada Lovelace is not valid until 2026-02-01."),
        (midnight(2026, 2, 1), Outcome.GRANTED, "Access granted: Ada Lovelace."),
        (midnight(2026, 6, 1), Outcome.GRANTED, "Access granted: Ada Lovelace."),
        (midnight(2026, 12, 1), Outcome.GRANTED, "Access granted: Ada Lovelace."),
        (midnight(2026, 12, 2), Outcome.EXPIRED, "Ada Lovelace was valid until 2026-12-01."),
    ],
)
def test_validity_period_is_checked_at_the_observation_wall_time(now, outcome, message):
    limited = PersonStatus(1, "Ada Lovelace", True, midnight(2026, 2, 1).timestamp(), midnight(2026, 12, 1).timestamp())
    decision = feed(make_policy(limited), [seen(1)] * 3, wall=now - timedelta(seconds=0.2))[2]
    assert (decision.outcome, decision.message, decision.person, decision.time) == (outcome, message, limited, now)


def test_a_step_of_the_wall_clock_changes_no_vote_and_no_cooldown():
    """The window and the cooldown run on monotonic time: the wall clock set a day forward between
    two frames drops no vote, and set forward or back later neither ends nor prolongs the cooldown.
    Decisions are dated by the wall clock."""
    policy = make_policy(window=2.0, cooldown=10.0)
    assert feed(policy, [seen(1)] * 2) == [None, None]
    tomorrow = W0 + timedelta(days=1)
    [granted] = feed(policy, [seen(1)], start=M0 + 0.2, wall=tomorrow)
    assert granted.granted and granted.time == tomorrow
    assert decisions(feed(policy, [seen(1)] * 3, track=2, start=M0 + 5, wall=W0 + timedelta(days=30))) == []
    [again] = decisions(feed(policy, [seen(1)] * 3, track=3, start=M0 + 10.3, wall=W0 - timedelta(hours=1)))
    assert again.granted and again.time == W0 - timedelta(hours=1) + timedelta(seconds=0.2)


def test_a_person_deleted_meanwhile_is_unknown():
    decision = feed(make_policy(BOB), [seen(1)] * 3)[2]
    assert decision.outcome is Outcome.UNKNOWN and decision.person is None
    assert decision.message == "Unknown face."


# Rule 6: forgetting tracks, bounded memory


def test_a_silent_track_is_forgotten_after_the_timeout():
    policy = make_policy(window=10.0, track_timeout=3.0)
    feed(policy, [seen(1)] * 2)
    assert policy.observe(observed(M0 + 3.5, 1, seen(1))) is None  # earlier votes forgotten
    assert feed(policy, [unknown()] * 3, track=2, start=M0 + 4)[2].outcome is Outcome.UNKNOWN
    # the same track id after a long silence is a new appearance: it may decide unknown again
    assert feed(policy, [unknown()] * 3, track=2, start=M0 + 7.5)[2].outcome is Outcome.UNKNOWN


def test_end_track_forgets_at_once():
    policy = make_policy()
    assert feed(policy, [unknown()] * 3)[2].outcome is Outcome.UNKNOWN
    policy.end_track(1)
    policy.end_track(99)  # unknown ids are ignored
    assert policy.active_tracks == frozenset()
    assert feed(policy, [unknown()] * 3, start=M0 + 0.5)[2].outcome is Outcome.UNKNOWN


def test_memory_stays_bounded_over_a_long_run():
    people = [PersonStatus(i, f"Person {i}", True, None, None) for i in range(1000)]
    policy = make_policy(*people, track_timeout=3.0, cooldown=10.0)
    for i in range(5000):  # a new face every second, each seen for three frames
        feed(policy, [seen(i % 1000)] * 3, track=i, start=M0 + i)
    assert policy.active_tracks <= {4996, 4997, 4998, 4999}
    assert len(policy._cooldown_until) <= 11  # white-box: finished cooldowns are dropped


# Configuration, 1:1 verification, log mapping


@pytest.mark.parametrize(
    "config, error",
    [
        ({"k": 0}, "k must be between 1 and n"),
        ({"k": 6, "n": 5}, "k must be between 1 and n"),
        ({"window": 0.0}, "window must be a positive"),
        ({"cooldown": -1.0}, "cooldown must be a positive"),
        ({"track_timeout": math.nan}, "track_timeout must be a positive"),
        ({"ambiguity_margin": -0.01}, "ambiguity_margin must not be negative"),
    ],
)
def test_policy_config_rejects_invalid_values(config, error):
    with pytest.raises(ValueError, match=error):
        PolicyConfig(**config)


@pytest.mark.parametrize(
    "person, same, distance, outcome, message",
    [
        (ADA, False, 0.61, Outcome.MISMATCH, "The face does not match Ada Lovelace."),
        (ADA, False, math.nan, Outcome.MISMATCH, "The face does not match Ada Lovelace."),
        (
            PersonStatus(1, "Ada Lovelace", False, None, None),
            True,
            0.3,
            Outcome.INACTIVE,
            "Ada Lovelace is deactivated.",
        ),
        (
            PersonStatus(1, "Ada Lovelace", True, None, W0.timestamp() - 1),
            True,
            0.3,
            Outcome.EXPIRED,
            "Ada Lovelace was valid until 2026-06-01.",
        ),
        (ADA, True, 0.6, Outcome.GRANTED, "Access granted: Ada Lovelace."),
    ],
)
def test_verify_claim(person, same, distance, outcome, message):
    decision = verify_claim(person, same, distance, THRESHOLD, W0)
    assert (decision.outcome, decision.message, decision.person) == (outcome, message, person)
    assert decision.track_id is None and decision.threshold == THRESHOLD and decision.time == W0


@pytest.mark.parametrize(
    "outcome, column",
    [
        (Outcome.GRANTED, "granted"),
        (Outcome.UNKNOWN, "unknown"),
        (Outcome.LOW_QUALITY, "rejected-quality"),
        (Outcome.INACTIVE, "denied"),
        (Outcome.EXPIRED, "denied"),
        (Outcome.AMBIGUOUS, "denied"),
        (Outcome.MISMATCH, "denied"),
    ],
)
def test_outcome_decision_column(outcome, column):
    assert outcome.decision == column


def test_reconfigure_applies_new_rules_to_running_tracks():
    """A stricter k set while a face is being voted on applies from the next frame."""
    people = {1: PersonStatus(1, "Ada", True, None, None)}
    policy = AccessPolicy(people.get, PolicyConfig(k=3, n=5))
    for i in range(2):
        assert policy.observe(observed(float(i) / 10, 7, Match(1, 1, 0.3, math.inf, 0.6))) is None
    policy.reconfigure(PolicyConfig(k=5, n=5))
    assert policy.config.k == 5
    assert policy.observe(observed(0.2, 7, Match(1, 1, 0.3, math.inf, 0.6))) is None  # 3 votes no longer settle it
    assert policy.observe(observed(0.3, 7, Match(1, 1, 0.3, math.inf, 0.6))) is None
    decision = policy.observe(observed(0.4, 7, Match(1, 1, 0.3, math.inf, 0.6)))
    assert decision is not None and decision.granted


def test_settled_says_when_an_appearance_is_decided_about_a_person():
    """settled(): False while voting, after an unknown event, and for unseen tracks; True after a
    person's event, and also when the cooldown withheld it."""
    people = {1: PersonStatus(1, "Ada", True, None, None)}
    policy = AccessPolicy(people.get, PolicyConfig(k=2, n=3, cooldown=60))
    ada, stranger = Match(1, 1, 0.3, math.inf, 0.6), Match(None, 1, 0.9, math.inf, 0.6)
    assert not policy.settled(1)
    policy.observe(observed(0.0, 1, ada))
    assert not policy.settled(1)
    assert policy.observe(observed(0.1, 1, ada)).granted and policy.settled(1)
    policy.observe(observed(0.0, 2, stranger))
    assert policy.observe(observed(0.1, 2, stranger)).outcome is Outcome.UNKNOWN and not policy.settled(2)
    policy.observe(observed(0.2, 3, ada))
    assert policy.observe(observed(0.3, 3, ada)) is None  # withheld: Ada is in her cooldown
    assert policy.settled(3)

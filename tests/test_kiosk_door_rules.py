"""The door rules as a running kiosk follows them (``LiveDoorRules``) and as the policy applies them
(``judge``, ``verify_claim``, ``AccessPolicy``), on real SQLite files and a manual clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from faceguard.access.door_rules import DoorVerdict
from faceguard.access.policy import (
    AccessPolicy,
    Observation,
    Outcome,
    PersonStatus,
    PolicyConfig,
    door_check,
    verify_claim,
)
from faceguard.app.kiosk.door_access import LOOK, REREAD, LiveDoorRules
from faceguard.matching.gallery import Match
from tests.clock_helpers import ManualClock

ZONE = "Europe/Paris"
DOOR = "Front door"
#: Monday 2026-06-01 11:00 and 21:00 in Paris.
MONDAY_11H = datetime(2026, 6, 1, 9, tzinfo=UTC)
MONDAY_21H = datetime(2026, 6, 1, 19, tzinfo=UTC)
ADA = PersonStatus(1, "Ada Lovelace", True, None, None, "Staff")


def test_the_rules_are_read_again_soon_after_an_admin_change_and_not_between(store):
    store.set_setting("kiosk.time_zone", ZONE)
    clock = ManualClock()
    live = LiveDoorRules(store, clock)
    assert live.check(ADA, DOOR, MONDAY_21H).allowed  # no group yet: everyone, at any hour
    store.add_access_group("Staff", doors={DOOR: "mon-fri 07:00-19:00"})
    clock.advance(LOOK / 2)
    live.refresh()
    assert live.check(ADA, DOOR, MONDAY_21H).allowed  # not looked again yet
    clock.advance(LOOK / 2)
    live.refresh()
    verdict = live.check(ADA, DOOR, MONDAY_21H)
    assert not verdict.allowed and "Outside the 'Staff' schedule" in verdict.reason
    assert live.check(ADA, DOOR, MONDAY_11H).allowed


def test_rows_written_without_an_admin_record_are_read_within_reread(store):
    """A site server's copy adds rows but no admin record: the kiosk still reads them every REREAD s."""
    store.set_setting("kiosk.time_zone", ZONE)
    clock = ManualClock()
    live = LiveDoorRules(store, clock)
    with store.db.conn:
        store.db.execute("INSERT INTO access_groups (id, name, observe_holidays) VALUES (7, 'Staff', 1)")
        store.db.execute("INSERT INTO group_doors VALUES (7, ?, 'never')", [DOOR])
    clock.advance(REREAD - LOOK)
    live.refresh()
    assert live.check(ADA, DOOR, MONDAY_11H).allowed
    clock.advance(LOOK)
    live.refresh()
    assert not live.check(ADA, DOOR, MONDAY_11H).allowed


def test_rules_that_cannot_be_read_refuse_everyone_with_the_reason_until_corrected(store):
    store.set_setting("kiosk.time_zone", "Mars/Olympus")
    clock = ManualClock()
    live = LiveDoorRules(store, clock)
    verdict = live.check(ADA, DOOR, MONDAY_11H)
    assert not verdict.allowed
    assert verdict.reason.startswith("The door rules cannot be applied: The door rules in ")
    assert "Unknown time zone 'Mars/Olympus'" in verdict.reason
    store.set_setting("kiosk.time_zone", ZONE)
    clock.advance(LOOK)
    live.refresh()
    assert live.check(ADA, DOOR, MONDAY_11H).allowed


def test_judge_and_verify_claim_apply_the_door_rules_after_the_persons_standing(store):
    store.add_access_group("Staff", doors={DOOR: "mon-fri 07:00-19:00"})
    store.add_holiday("Founders' Day", date(2026, 6, 1), hours="09:00-10:00")
    check = door_check(store.door_rules(ZONE), DOOR)
    refused = verify_claim(ADA, True, 0.3, 0.5, MONDAY_11H, check)
    assert refused.outcome is Outcome.NOT_ALLOWED and refused.decision == "denied"
    assert refused.message == (
        "Ada Lovelace: Door 'Front door' opens only 09:00–10:00 on holiday 'Founders' Day' (2026-06-01); now Mon 11:00."
    )
    at_nine = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)
    assert verify_claim(ADA, True, 0.3, 0.5, at_nine, check).outcome is Outcome.GRANTED
    assert verify_claim(ADA, False, 0.7, 0.5, at_nine, check).outcome is Outcome.MISMATCH
    inactive = PersonStatus(1, "Ada Lovelace", False, None, None, "Staff")
    assert verify_claim(inactive, True, 0.3, 0.5, MONDAY_11H, check).outcome is Outcome.INACTIVE
    nobody = PersonStatus(2, "Bob", True, None, None, None)
    assert verify_claim(nobody, True, 0.3, 0.5, at_nine, check).message == "Bob: No access group."
    assert verify_claim(nobody, True, 0.3, 0.5, at_nine).outcome is Outcome.GRANTED  # no door: no rules


def test_the_policy_asks_the_door_check_at_the_observations_wall_time():
    asked = []

    def check(person, at):
        asked.append((person.person_id, at))
        return DoorVerdict(False, "Door 'Lab' has no access group.")

    policy = AccessPolicy(lambda _id: ADA, PolicyConfig(k=1, n=1), check)
    decision = policy.observe(Observation(1.0, MONDAY_11H, 1, Match(1, 1, 0.2, 0.9, 0.5)))
    assert decision.outcome is Outcome.NOT_ALLOWED
    assert decision.message == "Ada Lovelace: Door 'Lab' has no access group."
    assert asked == [(1, MONDAY_11H)]

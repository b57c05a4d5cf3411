"""The admin's writes on the site server: enroll, update and erase, as the SQLite store makes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from faceguard.core.errors import ConflictError, InvalidInputError, NotFoundError
from faceguard.site.columns import PEOPLE_COLUMNS
from tests.site.conftest import event
from tests.store_helpers import new_template


def test_enroll_update_and_list(site):
    person_id = site.enroll("Ada Lovelace", new_template(), badge=" 17 ", group="staff", consent_at=None)
    (row,) = site.people()
    assert set(row) == {*PEOPLE_COLUMNS, "templates"}
    assert (row["id"], row["name"], row["badge"], row["group_name"], row["active"]) == (
        person_id,
        "Ada Lovelace",
        "17",
        "staff",
        1,
    )
    assert re.fullmatch(r"P-[0-9a-f]{16}", row["pseudonym"])
    assert row["templates"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row["created"])

    updated = site.update_person(person_id, name="Ada King", active=False, valid_until=datetime(2027, 1, 1, tzinfo=UTC))
    assert (updated["name"], updated["active"], updated["badge"]) == ("Ada King", 0, "17")
    assert updated["valid_until"] == "2027-01-01T00:00:00.000+00:00"
    assert site.former_name_rows([person_id]) == [{"person_id": person_id, "name": "Ada Lovelace"}]
    site.update_person(person_id, name="Ada Lovelace")  # a name taken back leaves the list
    assert site.former_name_rows(None) == [{"person_id": person_id, "name": "Ada King"}]


def test_the_store_rules_hold(site):
    ada = site.enroll("Ada", new_template(), badge="17")
    grace = site.enroll("Grace", new_template())
    with pytest.raises(ConflictError, match="Badge 17 already belongs to Ada"):
        site.update_person(grace, badge="17")
    with pytest.raises(ConflictError, match="Badge 17 already belongs to Ada"):
        site.enroll("Alan", new_template(), badge="17")
    with pytest.raises(InvalidInputError, match="name cannot be empty"):
        site.update_person(ada, name="  ")
    with pytest.raises(InvalidInputError, match="valid_until is before valid_from"):
        site.update_person(
            ada, valid_from=datetime(2026, 2, 1, tzinfo=UTC), valid_until=datetime(2026, 1, 1, tzinfo=UTC)
        )
    with pytest.raises(NotFoundError):
        site.update_person(99, name="Nobody")
    with pytest.raises(ValueError, match="Unknown person fields: shoe_size"):
        site.enroll("Alan", new_template(), shoe_size=43)
    assert [row["name"] for row in site.people()] == ["Ada", "Grace"]


def test_erasure_leaves_the_events_only_the_pseudonym(site, door):
    ada = site.enroll("Ada Byron", new_template())
    site.update_person(ada, name="Ada Lovelace")
    pseudonym = site.people()[0]["pseudonym"]
    grace = site.enroll("Grace", new_template())
    door.deliver_events(
        [
            event("Front door", 1, person_id=ada, subject=pseudonym, message="Access granted: Ada Byron."),
            event("Front door", 2, person_id=ada, subject=pseudonym, message="Access granted: Ada Lovelace.",
                  door_action="unlocked 4 s for Ada Lovelace", snapshot=b"sealed elsewhere" * 3),
            event("Front door", 3, person_id=grace, message="Access granted: Grace (not Ada Lovelace)."),
        ]
    )  # fmt: skip

    site.remove_person(ada)

    assert [row["name"] for row in site.people()] == ["Grace"]
    for table in ("templates", "former_names"):
        assert site.conn.execute(f"SELECT count(*) AS n FROM {table} WHERE person_id = %s", [ada]).fetchone()["n"] == 0
    assert site.conn.execute("SELECT count(*) AS n FROM template_thumbnails").fetchone()["n"] == 1
    events = {row["kiosk_event_id"]: row for row in site.events()}
    assert events[1]["message"] == f"Access granted: {pseudonym}."
    assert events[2]["message"] == f"Access granted: {pseudonym}."
    assert events[2]["door_action"] == f"unlocked 4 s for {pseudonym}"
    assert not events[2]["has_snapshot"]
    assert events[1]["person_id"] is None and events[1]["subject"] == pseudonym
    assert events[3]["message"] == "Access granted: Grace (not Ada Lovelace)."  # another person's event
    assert events[3]["person_id"] == grace
    with pytest.raises(NotFoundError):
        site.remove_person(ada)

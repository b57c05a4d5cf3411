"""What a kiosk reads: the change log and its notifications, and rows that copy into its SQLite replica
one to one, sealed face data included."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import numpy as np

from faceguard.store import keys
from faceguard.store.repository import Store
from faceguard.store.sealing import Sealer, template_row, thumbnail_row
from tests.store_helpers import new_template


def sqlite_row(store: Store, sql: str, *params: object) -> dict[str, object]:
    cursor = store.db.execute(sql, list(params))
    return dict(zip([column[0] for column in cursor.description], cursor.fetchone()))


def test_the_change_log_names_who_changed(site, door):
    assert door.last_change() == 0
    assert door.changes_after(0) == (0, frozenset())
    ada = site.enroll("Ada", new_template())
    grace = site.enroll("Grace", new_template())
    seq, changed = door.changes_after(0)
    assert changed == {ada, grace} and seq == door.last_change()
    assert door.changes_after(seq) == (seq, frozenset())

    site.update_person(ada, active=False)
    seq2, changed = door.changes_after(seq)
    assert changed == {ada} and seq2 > seq
    site.conn.execute("UPDATE people SET group_name = 'night' WHERE id = %s", [ada])  # as SQLite m013
    seq3, changed = door.changes_after(seq2)
    assert changed == {ada}
    site.conn.execute("UPDATE people SET notes = 'quiet' WHERE id = %s", [ada])  # every field: s008
    seq4, changed = door.changes_after(seq3)
    assert changed == {ada} and seq4 > seq3
    site.remove_person(grace)
    assert door.changes_after(seq4)[1] == {grace}


def test_a_listener_hears_an_enrollment_at_once(site, door):
    door.listen()
    assert door.wait_for_change(0.05) is False
    started = time.monotonic()
    person_id = site.enroll("Ada", new_template())
    assert door.wait_for_change(1.0) is True
    assert time.monotonic() - started < 1.0
    assert door.changes_after(0)[1] == {person_id}
    assert door.wait_for_change(0.05) is False  # the burst was taken as one


def test_rows_are_what_the_sqlite_store_holds(site, door, store):
    template = new_template(np.random.default_rng(7))
    details = {
        "badge": "17",
        "group": "staff",
        "notes": "night shift",
        "valid_from": datetime(2026, 1, 1, 8, tzinfo=UTC),
    }
    site_id = site.enroll("Ada", template, **details)
    local_id = store.enroll("Ada", template, **details).id
    (site_person,) = door.people_rows([site_id])
    local_person = sqlite_row(store, "SELECT * FROM people WHERE id = ?", local_id)
    differ = {"id", "pseudonym", "created", "updated"}
    assert {k: v for k, v in site_person.items() if k not in differ} == {
        k: v for k, v in local_person.items() if k not in differ
    }

    (site_template,) = door.template_rows([site_id])
    local_template = sqlite_row(
        store,
        "SELECT t.*, th.jpeg, th.landmarks FROM templates t JOIN template_thumbnails th ON th.template_id = t.id"
        " WHERE t.person_id = ?",
        local_id,
    )
    assert list(local_template) == list(site_template)
    sealer = Sealer(keys.current_key())

    def opened(row):
        return (
            sealer.open(row["encoding"], template_row(row["id"], row["person_id"])),
            sealer.open(row["jpeg"], thumbnail_row(row["id"])),
        )

    assert opened(site_template) == opened(local_template)
    assert np.array_equal(np.frombuffer(opened(site_template)[0], "<f4"), template.encoding.astype("<f4"))
    for column in ("model_id", "quality", "source", "landmarks"):
        assert site_template[column] == local_template[column]
    assert json.loads(site_template["quality"]) == template.quality


def test_rows_copied_into_a_replica_open_there(site, door, tmp_path):
    template = new_template(np.random.default_rng(3))
    ada = site.enroll("Ada Byron", template, badge="17")
    site.update_person(ada, name="Ada Lovelace")
    site.conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s)", ["model", '"sface"'])

    with Store.open(tmp_path / "replica.db") as replica:
        people, templates = door.people_rows(None), door.template_rows(None)
        for table, rows in [
            ("people", people),
            ("templates", [{k: v for k, v in row.items() if k not in ("jpeg", "landmarks")} for row in templates]),
            ("template_thumbnails", [{"template_id": r["id"], "jpeg": r["jpeg"], "landmarks": r["landmarks"]}
                                     for r in templates]),
            ("former_names", door.former_name_rows(None)),
            ("settings", [{"key": k, "value": v} for k, v in door.settings().items()]),
        ]:  # fmt: skip
            for row in rows:
                columns = ", ".join(f'"{column}"' for column in row)
                marks = ", ".join("?" * len(row))
                replica.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
        replica.db.conn.commit()

        person = replica.person(ada)
        assert (person.name, person.badge, person.templates) == ("Ada Lovelace", "17", 1)
        assert person.pseudonym == people[0]["pseudonym"]
        (copied,) = replica.templates(ada)
        assert np.array_equal(copied.encoding, template.encoding)
        assert replica.thumbnail(copied.id).jpeg == template.thumbnail.jpeg
        assert replica.former_names(ada) == ["Ada Byron"]
        assert replica.get_setting("model") == "sface"

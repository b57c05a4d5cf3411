"""Several programs on one database file: a writer killed mid-enrollment, a writer and a reader
hammering the file, and a kiosk seeing another program's changes at its next refresh."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.vision.thumbnail import decode_thumbnail
from tests.store_helpers import DIM, MODEL, start_worker

#: The hammering writer's changes: enough for several WAL checkpoints (about one per 150 changes) under
#: the reader's feet, and each kind of change 150 times.
HAMMER_STEPS = 600


@pytest.mark.parametrize(("kill_after", "delay"), [(30, 0.0), (40, 0.0005), (50, 0.0013), (60, 0.0025), (70, 0.004)])
def test_killing_a_writer_mid_enrollment_leaves_a_sound_file_with_every_confirmed_person(tmp_path, kill_after, delay):
    path = tmp_path / "faceguard.db"
    Store.open(path).close()
    worker = start_worker("enroll-forever", str(path), str(kill_after))
    people: set[int] = set()
    templates: dict[int, int] = {}  # confirmed second template -> person
    try:
        while len(people) < kill_after:
            line = worker.stdout.readline()
            assert line, worker.stderr.read()
            kind, *ids = line.split()
            if kind == "P":
                people.add(int(ids[0]))
            else:
                templates[int(ids[1])] = int(ids[0])
        time.sleep(delay)  # land somewhere else in the enroll / add_template cycle each run
        assert worker.poll() is None  # still enrolling when killed
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=10)
        # read through worker.stdout itself: lines readline() already pulled into its buffer are
        # there, and communicate() would read the pipe underneath and miss them
        rest = worker.stdout.read()
        worker.stdout.close()
        worker.stderr.close()
        worker.stdin.close()
    assert worker.returncode == -signal.SIGKILL
    for line in rest.splitlines():  # printed (so committed) before the kill, not read yet
        kind, *ids = line.split()
        if kind == "P":
            people.add(int(ids[0]))
        else:
            templates[int(ids[1])] = int(ids[0])

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        raw.close()
    with Store.open(path) as store:
        assert store.check() == []
        stored = {p.id: p for p in store.people()}
        assert people <= set(stored), f"confirmed but lost: {sorted(people - set(stored))}"
        assert len(stored) - len(people) <= 1  # at most one committed just before the kill, unprinted
        for template_id, person_id in templates.items():
            assert store.thumbnail(template_id).jpeg[:2] == b"\xff\xd8"
            assert template_id in [t.id for t in store.templates(person_id)]
        for person in stored.values():
            assert person.templates >= 1, f"{person.name} was stored without a template"
            for template in store.templates(person.id):
                assert decode_thumbnail(store.thumbnail(template.id)).shape == (24, 24, 3)
        assert (
            store.db.execute(
                "SELECT count(*) FROM templates t LEFT JOIN people p ON p.id = t.person_id WHERE p.id IS NULL"
            ).fetchone()[0]
            == 0
        )
        assert (
            store.db.execute(
                "SELECT count(*) FROM template_thumbnails h LEFT JOIN templates t ON t.id = h.template_id"
                " WHERE t.id IS NULL"
            ).fetchone()[0]
            == 0
        )
        ids, encodings = store.load_encodings(MODEL)
        assert encodings.shape == (store.counts()["templates"], DIM) and set(ids.tolist()) == set(stored)
        live = LiveGallery.load(store, MODEL, DIM)
        assert len(live) == store.counts()["templates"]
        # and the file takes new writes after the crash
        store.set_setting("recovered", True)
        assert store.get_setting("recovered") is True


@pytest.mark.slow
def test_a_writer_and_a_reader_hammering_one_file_lose_nothing_and_never_see_locked(tmp_path):
    path = tmp_path / "faceguard.db"
    Store.open(path).close()
    done_flag = tmp_path / "writer.done"
    reader = start_worker("hammer-reader", str(path), str(done_flag))
    writer = None
    try:
        assert json.loads(reader.stdout.readline()) == {"ready": True}, reader.stderr.read()
        writer = start_worker("hammer-writer", str(path), str(HAMMER_STEPS))  # the reader is reading all along
        written, writer_err = writer.communicate()
        assert writer.returncode == 0, writer_err
        done_flag.touch()
        read, reader_err = reader.communicate()
        assert reader.returncode == 0, reader_err
    finally:
        for worker in (reader, writer):
            if worker is not None:
                worker.kill()
                worker.wait()
    written, read = json.loads(written.splitlines()[-1]), json.loads(read.splitlines()[-1])

    assert written["errors"] == [] and written["error_count"] == 0
    assert read["errors"] == [] and read["error_count"] == 0
    each_kind = HAMMER_STEPS // 4  # the writer takes turns: enroll, add a template, log an event, deactivate
    assert (written["enrolled"], written["added_templates"], written["events"]) == (each_kind,) * 3, written
    # the reader read while the file changed, not only before and after: it saw many states of the gallery
    assert read["gallery_sizes_seen"] >= 10, read
    with Store.open(path) as store:
        assert store.check() == []
        counts = store.counts()
        assert counts == {
            "people": written["enrolled"],
            "templates": written["enrolled"] + written["added_templates"],
            "access_events": written["events"],
        }
        assert store.db.execute("SELECT count(*) FROM event_snapshots").fetchone()[0] == written["snapshots"]
        inactive = sorted(p.id for p in store.people() if not p.active)
        assert inactive == written["deactivated"]
        # the reader's gallery, kept current by refresh() alone, ended up exactly right
        assert read["gallery_rows"] == counts["templates"]
        assert read["gallery_people"] == counts["people"]
        assert read["inactive"] == written["deactivated"]


def test_a_kiosk_sees_another_programs_changes_at_its_next_refresh(tmp_path):
    """Each change is in the kiosk's gallery at the first refresh after the other program committed it
    (the kiosk refreshes every half second, so a change reaches the door within a second)."""
    path = tmp_path / "faceguard.db"
    store = Store.open(path)
    live = LiveGallery.load(store, MODEL, DIM)
    admin = start_worker("serve", str(path))
    try:
        assert json.loads(admin.stdout.readline()) == {"ready": True}, admin.stderr.read()

        def send(command: str) -> int:
            """Run ``command`` in the other program; returns once it has committed."""
            admin.stdin.write(command + "\n")
            admin.stdin.flush()
            return json.loads(admin.stdout.readline())["id"]

        person_id = send("enroll Ada")
        assert live.refresh() == {person_id}
        assert live.status_of(person_id).name == "Ada" and len(live) == 1

        send(f"add-template {person_id}")
        assert live.refresh() == {person_id} and len(live) == 2

        send(f"deactivate {person_id}")
        assert live.refresh() == {person_id} and not live.status_of(person_id).active

        send(f"rename {person_id} Ada_King")
        assert live.refresh() == {person_id} and live.status_of(person_id).name == "Ada_King"

        other = send("enroll Bob")
        send(f"remove {person_id}")
        assert live.refresh() == {other, person_id} and live.status_of(person_id) is None
        assert live.gallery.identities == {other} and len(live) == 1

        assert live.refresh() == frozenset()  # nothing changed since
        admin.stdin.write("quit\n")
        admin.stdin.flush()
        assert admin.wait(timeout=10) == 0
    finally:
        admin.kill()
        admin.wait()
        store.close()

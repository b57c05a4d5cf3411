"""The database commands of ``faceguard`` end to end: real photos, a real SQLite file, the real engine."""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest
from PIL import Image

import faceguard.cli.common
from faceguard.app.enrollment import prepare_template
from faceguard.app.settings import PREFIX, load_settings
from faceguard.app.site_threshold import SiteThreshold
from faceguard.cli import main
from faceguard.cli.common import parse_until, parse_when
from faceguard.cli.people import NO_NAME
from faceguard.core.types import Thumbnail
from faceguard.store.event_export import EVENT_COLUMNS
from faceguard.store.migrations import SCHEMA
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate

from .conftest import DATA


@pytest.fixture(autouse=True)
def db(tmp_path, monkeypatch, pipeline):
    """Every command uses a fresh database file (via $FACEGUARD_DB) and the session's engine."""
    path = tmp_path / "faceguard.db"
    monkeypatch.setenv("FACEGUARD_DB", str(path))
    monkeypatch.setattr(faceguard.cli.common, "load_pipeline", lambda args: pipeline)
    return path


@pytest.fixture
def obama(capsys):
    assert main(["enroll", "Barack Obama", str(DATA / "obama.jpg"), "--badge", "44", "--group", "staff"]) == 0
    capsys.readouterr()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def people(db) -> list:
    with Store.open(db) as store:
        return store.people()


def synthetic_template() -> NewTemplate:
    encoding = np.random.default_rng(0).normal(size=128).astype(np.float32)
    return NewTemplate("test@1", encoding, Thumbnail(b"\xff\xd8", np.zeros((5, 2))), {}, "test")


# --- enroll, identify, verify ----------------------------------------------------------------------


def test_enroll_prints_the_person_and_the_quality_figures(db, capsys):
    code, out, _ = run(capsys, "enroll", "Barack Obama", str(DATA / "obama.jpg"), "--badge", "44")
    assert code == 0
    assert out.startswith("Enrolled Barack Obama (#1, badge 44) from obama.jpg. Quality: face ")
    assert "sharpness" in out and len(out.splitlines()) == 1
    (person,) = people(db)
    assert person.name == "Barack Obama" and person.badge == "44" and person.templates == 1


def test_enroll_with_consent_records_when_and_without_it_says_it_was_not_recorded(db, capsys):
    before = datetime.now().astimezone() - timedelta(milliseconds=1)  # stored times keep milliseconds
    code, _, err = run(capsys, "enroll", "Barack Obama", str(DATA / "obama.jpg"), "--badge", "44", "--consent")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "enroll", "Joe Biden", str(DATA / "biden.jpg"), "--badge", "46")
    assert code == 0 and err.startswith("Consent not recorded: pass --consent once")
    obama, biden = people(db)
    assert before <= obama.consent_at <= datetime.now().astimezone() and obama.consent_method == "cli"
    assert (biden.consent_at, biden.consent_method) == (None, None)
    _, out, _ = run(capsys, "people", "show", "44")
    assert f"consent      {obama.consent_at.astimezone().replace(tzinfo=None):%Y-%m-%d %H:%M} (cli)" in out
    assert "consent      not recorded" in run(capsys, "people", "show", "46")[1]


def test_identify_recognises_the_enrolled_person_and_not_a_stranger(db, obama, pipeline, capsys):
    code, out, _ = run(capsys, "identify", str(DATA / "obama2.jpg"))
    same = re.fullmatch(r"obama2\.jpg  #1 Barack Obama  distance (\d\.\d{3})  granted\n", out)
    assert code == 0 and same
    code, out, _ = run(capsys, "identify", str(DATA / "biden.jpg"))
    stranger = re.fullmatch(r"biden\.jpg  unknown  distance (\d\.\d{3}) \(nearest: #1 Barack Obama\)\n", out)
    assert code == 1 and stranger
    with Store.open(db) as store:
        assert store.counts()["access_events"] == 0  # an admin query, not a door event
        # 1:N: the threshold is the one derived from the site target for the one person enrolled
        threshold = SiteThreshold.for_model(pipeline.spec, load_settings(store).max_fpir).for_gallery(1)
    assert float(same[1]) <= threshold < float(stranger[1])


def two_faces(tmp_path, photo):
    from .test_pipeline import side_by_side

    path = tmp_path / "group.png"
    Image.fromarray(side_by_side(photo("obama3.jpg"), photo("biden.jpg"))).save(path)
    return path


def test_identify_reports_every_face_and_photos_without_faces(obama, tmp_path, photo, capsys):
    code, out, _ = run(capsys, "identify", str(two_faces(tmp_path, photo)), str(DATA / "coffee.jpg"))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert sorted(line.split("  ")[1] for line in lines[:2]) == ["#1 Barack Obama", "unknown"]
    assert lines[0].startswith("group.png face ") and lines[2] == "coffee.jpg  no face found"


def test_verify_grants_the_badge_holder_and_refuses_someone_else(obama, capsys):
    code, out, _ = run(capsys, "verify", "--badge", "44", str(DATA / "obama3.jpg"))
    assert code == 0 and out.startswith("Access granted: Barack Obama.  distance 0.")
    code, out, _ = run(capsys, "verify", "--badge", "44", str(DATA / "biden.jpg"))
    assert code == 1 and out.startswith("The face does not match Barack Obama.")


def test_verify_at_a_door_logs_each_decision_with_a_snapshot(db, obama, pipeline, capsys):
    assert run(capsys, "verify", "--badge", "44", str(DATA / "obama3.jpg"), "--door", "front")[0] == 0
    assert run(capsys, "verify", "--badge", "44", str(DATA / "biden.jpg"), "--door", "front")[0] == 1
    run(capsys, "verify", "--badge", "44", str(DATA / "obama2.jpg"))  # no --door: an admin's check, not logged
    with Store.open(db) as store:
        denied, granted = store.events()
        snapshot = store.event_snapshot(granted.id)
    assert (granted.decision, granted.reason, granted.person_name, granted.door) == (
        "granted",
        "granted",
        "Barack Obama",
        "front",
    )
    assert (denied.decision, denied.reason, denied.door) == ("denied", "mismatch", "front")
    assert granted.threshold == denied.threshold == pipeline.threshold  # 1:1 (a badge): the model's own threshold
    assert granted.model_id == denied.model_id == pipeline.spec.id
    assert granted.distance <= granted.threshold < denied.distance
    assert granted.latency_ms > 0 and snapshot[:2] == b"\xff\xd8"


def test_verify_at_a_door_applies_its_access_groups(db, obama, capsys):
    """Obama is in 'staff', which may use the front door at any time but not the back door: at the back
    door he is refused (exit 1) with the rules' reason, logged as denied / not_allowed."""
    with Store.open(db) as store:
        store.add_access_group("staff", doors={"front": "24/7"})
        store.add_access_group("cleaners", doors={"back": "24/7"})
    code, out, _ = run(capsys, "verify", "--badge", "44", str(DATA / "obama3.jpg"), "--door", "back")
    assert code == 1 and out.startswith("Barack Obama: Group 'staff' may not use door 'back'.  distance 0.")
    assert run(capsys, "verify", "--badge", "44", str(DATA / "obama3.jpg"), "--door", "front")[0] == 0
    assert run(capsys, "verify", "--badge", "44", str(DATA / "obama3.jpg"))[0] == 0  # no door, no rules
    with Store.open(db) as store:
        granted, refused = store.events()
    assert (refused.decision, refused.reason, refused.door) == ("denied", "not_allowed", "back")
    assert refused.message == "Barack Obama: Group 'staff' may not use door 'back'."
    assert (granted.decision, granted.door) == ("granted", "front")


def test_verify_needs_an_existing_badge_not_a_name_or_id(obama, capsys):
    for badge in ("45", "Barack Obama", "#1"):
        code, _, err = run(capsys, "verify", "--badge", badge, str(DATA / "obama3.jpg"))
        assert code == 6 and err == f"error: Nobody enrolled has the badge {badge}. See: faceguard people list\n"


def test_verify_of_a_person_without_photos_of_this_model_says_to_re_enroll(db, pipeline, capsys):
    with Store.open(db) as store:
        store.enroll("Ada Lovelace", synthetic_template(), badge="7")  # a template of another model
    code, _, err = run(capsys, "verify", "--badge", "7", str(DATA / "obama.jpg"))
    assert code == 1 and f"no photo enrolled for the model {pipeline.spec.id}" in err and "add-photo '#1'" in err


def test_a_taken_badge_is_refused_and_its_holder_kept(db, obama, capsys):
    code, _, err = run(capsys, "enroll", "Joe Biden", str(DATA / "biden.jpg"), "--badge", "44")
    assert code == 7 and err == "error: Badge 44 already belongs to Barack Obama.\n"
    (person,) = people(db)
    assert (person.name, person.badge, person.templates) == ("Barack Obama", "44", 1)
    code, _, err = run(capsys, "enroll", "Joe Biden", str(DATA / "biden.jpg"), "--badge", "46")
    assert code == 0 and run(capsys, "people", "edit", "46", "--badge", "44")[0] == 7
    assert {p.badge for p in people(db)} == {"44", "46"}


@pytest.mark.parametrize(
    "argv",
    [
        ["people", "show", "nobody"],
        ["people", "deactivate", "99"],
        ["people", "remove", "#9", "--yes"],
        ["events", "--person", "nobody"],
        ["people", "add-photo", "Joe", str(DATA / "biden.jpg")],
    ],
)
def test_an_unknown_person_exits_6(obama, capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 6 and err.startswith("error: No") and "enrolled" in err


def test_a_photo_without_a_face_exits_5_and_enrolls_nobody(db, obama, capsys):
    code, _, err = run(capsys, "enroll", "Coffee", str(DATA / "coffee.jpg"))
    assert code == 5 and err.startswith("error: No face was found in the photo.")
    code, _, err = run(capsys, "verify", "--badge", "44", str(DATA / "cat.jpg"))
    assert code == 5 and "No face" in err
    assert [p.name for p in people(db)] == ["Barack Obama"]


def test_a_photo_with_two_faces_exits_5(db, tmp_path, photo, capsys):
    code, _, err = run(capsys, "enroll", "Two", str(two_faces(tmp_path, photo)))
    assert code == 5 and err == "error: 2 faces were found in the photo; it must show exactly one person.\n"
    assert not people(db)


def test_an_unreadable_photo_exits_4(db, obama, tmp_path, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    code, _, err = run(capsys, "enroll", "Broken", str(tmp_path / "broken.jpg"))
    assert code == 4 and err == "error: 'broken.jpg' is not an image file (or is in a format FaceGuard cannot read).\n"
    code, _, err = run(capsys, "people", "add-photo", "44", str(tmp_path / "missing.jpg"))
    assert code == 4 and err == "error: 'missing.jpg' does not exist.\n"
    assert [p.templates for p in people(db)] == [1]


# --- people -----------------------------------------------------------------------------------------


def test_deactivated_and_expired_people_are_recognised_but_not_granted(obama, pipeline, capsys):
    assert run(capsys, "people", "deactivate", "44")[1] == "Deactivated Barack Obama (#1, badge 44).\n"
    code, out, _ = run(capsys, "identify", str(DATA / "obama2.jpg"))
    assert code == 0 and out.rstrip().endswith("inactive")
    assert run(capsys, "verify", "--badge", "44", str(DATA / "obama2.jpg"))[:2] == (
        1,
        f"Barack Obama is deactivated.  distance {out.split()[5]} (threshold {pipeline.threshold:.3f})\n",
    )
    assert run(capsys, "people", "activate", "barack obama")[0] == 0
    assert run(capsys, "people", "edit", "#1", "--valid-until", "2020-01-01")[0] == 0
    assert run(capsys, "identify", str(DATA / "obama2.jpg"))[1].rstrip().endswith("expired")
    assert run(capsys, "people", "edit", "#1", "--valid-until", "2099-01-01")[0] == 0
    assert run(capsys, "identify", str(DATA / "obama2.jpg"))[1].rstrip().endswith("granted")


def test_people_list_show_and_edit(db, obama, pipeline, capsys):
    assert run(capsys, "people", "add-photo", "44", str(DATA / "obama3.jpg"))[1].startswith(
        "Added obama3.jpg to Barack Obama (#1, badge 44) as template 2. Quality: face "
    )
    code, out, _ = run(
        capsys,
        "people",
        "edit",
        "44",
        "--name",
        "B. Obama",
        "--group",
        "board",
        "--valid-until",
        "2030-06-30",
        "--notes",
        "president",
    )
    assert code == 0 and out == "Updated B. Obama (#1, badge 44).\n"
    code, out, _ = run(capsys, "people", "list")
    assert code == 0 and out.splitlines()[1].split() == [
        "1",
        "B.",
        "Obama",
        "44",
        "board",
        "yes",
        "2030-06-30",
        "23:59",
        "2",
    ]
    _, out, _ = run(capsys, "people", "list", "--csv", "--search", "boa")
    assert list(csv.reader(io.StringIO(out))) == [
        ["id", "name", "badge", "group", "active", "valid until", "photos"],
        ["1", "B. Obama", "44", "board", "yes", "2030-06-30 23:59", "2"],
    ]
    assert run(capsys, "people", "list", "--csv", "--search", "nobody")[1].count("\n") == 1
    _, out, _ = run(capsys, "people", "show", "44")
    assert "notes        president" in out and "valid until  2030-06-30 23:59" in out and "photos (2):" in out
    assert "photo:obama.jpg" in out and "photo:obama3.jpg" in out and out.count(f"  {pipeline.spec.id}  ") == 2


def test_people_edit_refuses_nothing_to_change_and_impossible_dates(db, obama, capsys):
    code, _, err = run(capsys, "people", "edit", "44")
    assert code == 2 and "Nothing to change" in err
    code, _, err = run(capsys, "people", "edit", "44", "--valid-from", "2030-01-02", "--valid-until", "2030-01-01")
    assert code == 2 and err == "error: valid_until is before valid_from.\n"
    assert people(db)[0].valid_from is None


def test_remove_with_yes_erases_the_person_and_keeps_their_events_pseudonymous(db, obama, capsys):
    with Store.open(db) as store:
        pseudonym = store.person(1).pseudonym
        store.log_event("granted", "granted", person_id=1, door="front", snapshot=b"\xff\xd8")
    code, out, _ = run(capsys, "people", "remove", "44", "--yes")
    assert code == 0 and out == (
        f"Erased Barack Obama (#1, badge 44) and their 1 photos; the access log keeps them as {pseudonym}.\n"
    )
    assert people(db) == [] and run(capsys, "people", "show", "44")[0] == 6
    _, out, _ = run(capsys, "events", "--csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["subject"], row["person_id"], row["name"], row["door"]) == (pseudonym, "", "", "front")
    with Store.open(db) as store:
        assert store.counts() == {"people": 0, "templates": 0, "access_events": 1}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_remove_asks_on_a_terminal_and_refuses_to_guess_without_one(db, obama, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _, err = run(capsys, "people", "remove", "44")
    assert code == 2 and "pass --yes" in err and len(people(db)) == 1
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, _ = run(capsys, "people", "remove", "44")
    assert code == 1 and out == "Erase Barack Obama (#1, badge 44) and their 1 photos? [y/N] Nothing was erased.\n"
    assert len(people(db)) == 1
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert run(capsys, "people", "remove", "44")[0] == 0 and people(db) == []


@pytest.fixture
def import_folder(tmp_path):
    folder = tmp_path / "staff"
    (folder / "Barack_Obama").mkdir(parents=True)
    for name in ("obama.jpg", "obama3.jpg", "coffee.jpg"):
        shutil.copy(DATA / name, folder / "Barack_Obama" / name)
    shutil.copy(DATA / "biden.jpg", folder / "Joe_Biden.jpg")
    shutil.copy(DATA / "collins.png", folder / "Eileen_Collins.PNG")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    (folder / "README.txt").write_text("not a photo")
    return folder


def test_people_import_enrolls_files_and_folders_and_reports_bad_photos(db, import_folder, capsys):
    code, out, err = run(capsys, "people", "import", str(import_folder))
    assert code == 0 and out == "Imported 3 people (4 photos); 2 photos skipped.\n"
    assert "skipped Barack_Obama/coffee.jpg: No face was found in the photo." in err
    assert "skipped broken.jpg: 'broken.jpg' is not an image file" in err
    assert "ignored README.txt: not a photo (.bmp, .jpeg, .jpg, .png, .webp)" in err
    assert {p.name: p.templates for p in people(db)} == {"Barack Obama": 2, "Eileen Collins": 1, "Joe Biden": 1}
    assert run(capsys, "identify", str(DATA / "obama2.jpg"))[1].split()[1:4] == ["#1", "Barack", "Obama"]
    assert "Consent not recorded" in err and {p.consent_at for p in people(db)} == {None}


def test_people_import_of_odd_names_reports_them_and_imports_everyone_else(db, tmp_path, capsys):
    """Found by fuzzing: a name of only _ stopped the import half-way, a name that is not UTF-8 (made on
    another system) crashed it, and a hidden folder was enrolled as a person called .thumbnails."""
    folder = tmp_path / "odd"
    (folder / ".thumbnails").mkdir(parents=True)
    shutil.copy(DATA / "obama.jpg", folder / ".thumbnails" / "Barack_Obama.jpg")
    shutil.copy(DATA / "obama.jpg", folder / "_.jpg")
    shutil.copy(DATA / "biden.jpg", folder / os.fsdecode(b"Jos\xe9_Biden.jpg"))
    (folder / "Empty").mkdir()
    code, out, err = run(capsys, "people", "import", str(folder))
    assert code == 0 and out == "Imported 1 people (1 photos); 1 photos skipped.\n"
    assert f"skipped _.jpg: {NO_NAME}" in err and "ignored Empty: an empty folder" in err
    (person,) = people(db)
    with Store.open(db) as store:
        assert person.name == "Jos\ufffd Biden" and store.templates(person.id)[0].source == "photo:Jos\ufffd_Biden.jpg"


def test_people_import_with_consent_records_it_for_everyone_imported(db, import_folder, capsys):
    code, out, err = run(capsys, "people", "import", str(import_folder), "--consent")
    assert code == 0 and out.startswith("Imported 3 people") and "Consent not recorded" not in err
    assert {p.consent_method for p in people(db)} == {"import"} and all(p.consent_at for p in people(db))


def test_people_import_of_nothing_usable_exits_with_the_first_error(db, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    shutil.copy(DATA / "cat.jpg", folder / "a_cat.jpg")
    (folder / "b_empty.jpg").write_bytes(b"")
    code, out, err = run(capsys, "people", "import", str(folder))
    assert (
        code == 5
        and out == "Imported 0 people (0 photos); 2 photos skipped.\n"
        and "'b_empty.jpg' is empty (0 bytes)." in err
    )
    (folder / "a_cat.jpg").unlink()
    assert run(capsys, "people", "import", str(folder))[0] == 4
    (folder / "b_empty.jpg").unlink()
    code, _, err = run(capsys, "people", "import", str(folder))
    assert code == 1 and err.startswith("error: No photos (") and people(db) == []


def test_an_interrupted_import_leaves_whole_people_only(db, import_folder, capsys, monkeypatch):
    insert_template = Store._insert_template
    inserted = []

    def interrupted_at_the_second_photo(self, person_id, template):
        if inserted:
            raise KeyboardInterrupt
        inserted.append(person_id)
        return insert_template(self, person_id, template)

    monkeypatch.setattr(Store, "_insert_template", interrupted_at_the_second_photo)
    assert main(["people", "import", str(import_folder)]) == 130
    assert inserted and people(db) == []  # Barack Obama's first photo was written, then rolled back with him


# --- photos below the recommended quality ----------------------------------------------------------

HINT = (
    "This is below the recommended quality; --accept-low-quality enrolls it anyway (recognition may be less reliable)."
)


@pytest.fixture
def blurred(tmp_path, photo, pipeline):
    """obama.jpg out of focus (a real photo, lossless): usable, below the recommended sharpness.
    Returns its path and the warning the engine gives for it. Sigma 5 on its ~270 px face gives a
    sharpness of ~6.4 on the canonical chip: between the usable 4 and the recommended 10 (quality.py)."""
    path = tmp_path / "blurred.png"
    Image.fromarray(cv2.GaussianBlur(photo("obama.jpg"), (0, 0), 5.0)).save(path)
    warning = pipeline.enroll(np.asarray(Image.open(path)), accept_low_quality=True)[0].accepted_below
    assert warning is not None and "blurred" in warning
    return path, warning


def test_enroll_refuses_a_low_quality_photo_with_the_hint_and_accepts_it_with_the_flag(db, blurred, capsys):
    path, warning = blurred
    code, out, err = run(capsys, "enroll", "Barack Obama", str(path), "--badge", "44")
    assert (code, out, err) == (5, "", f"error: {warning} {HINT}\n") and not people(db)

    code, out, err = run(capsys, "enroll", "Barack Obama", str(path), "--badge", "44", "--accept-low-quality")
    assert code == 0 and out.startswith("Enrolled Barack Obama (#1, badge 44) from blurred.png. Quality: face ")
    assert err.startswith(
        f"warning: blurred.png is below the recommended quality (recorded with the photo): {warning}\n"
    )
    with Store.open(db) as store:
        assert store.templates(1)[0].accepted_below == warning
    _, out, _ = run(capsys, "people", "show", "44")
    assert out.endswith(f"\ntemplate 1 was enrolled below the recommended quality: {warning}\n")


def test_add_photo_refuses_a_low_quality_photo_unless_accepted(db, obama, blurred, capsys):
    path, warning = blurred
    code, _, err = run(capsys, "people", "add-photo", "44", str(path))
    assert code == 5 and err == f"error: {warning} {HINT}\n" and people(db)[0].templates == 1
    code, out, err = run(capsys, "people", "add-photo", "44", str(path), "--accept-low-quality")
    assert code == 0 and out.startswith("Added blurred.png to Barack Obama (#1, badge 44) as template 2.")
    assert "below the recommended quality" in err
    _, out, _ = run(capsys, "people", "show", "44")
    assert f"template 2 was enrolled below the recommended quality: {warning}" in out
    assert "template 1 was" not in out  # the first photo met the recommended quality


def test_import_skips_low_quality_photos_with_the_hint_unless_accepted(db, import_folder, blurred, capsys):
    path, warning = blurred
    shutil.copy(path, import_folder / "Barack_Obama" / "blurred.png")
    code, out, err = run(capsys, "people", "import", str(import_folder))
    assert code == 0 and out == "Imported 3 people (4 photos); 3 photos skipped.\n"
    assert f"skipped Barack_Obama/blurred.png: {warning} {HINT}" in err

    db.unlink()
    code, out, err = run(capsys, "people", "import", str(import_folder), "--accept-low-quality")
    assert code == 0 and out == "Imported 3 people (5 photos, 1 below the recommended quality); 2 photos skipped.\n"
    assert f"accepted Barack_Obama/blurred.png below the recommended quality: {warning}" in err
    with Store.open(db) as store:
        obama = store.find_person("Barack Obama")
        assert [t.accepted_below for t in store.templates(obama.id)] == [warning, None, None]  # blurred, obama, obama3


def test_the_flag_never_enrolls_a_photo_without_exactly_one_face_or_an_unreadable_one(db, tmp_path, photo, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    for path, expected in [
        (DATA / "coffee.jpg", (5, "error: No face was found in the photo.")),
        (two_faces(tmp_path, photo), (5, "error: 2 faces were found in the photo")),
        (tmp_path / "broken.jpg", (4, "error: 'broken.jpg' is not an image file")),
    ]:
        code, _, err = run(capsys, "enroll", "Somebody", str(path), "--accept-low-quality")
        assert (code, err[: len(expected[1])]) == expected and "--accept-low-quality" not in err
    assert not people(db)


# --- events -----------------------------------------------------------------------------------------


@pytest.fixture
def log(db):
    """Three events: Ada granted 2 h ago, an unknown face 30 h ago, Ada denied 3 days ago."""
    now = datetime.now().astimezone()
    with Store.open(db) as store:
        ada = store.enroll("Ada Lovelace", synthetic_template(), badge="1")
        store.log_event(
            "denied",
            "expired",
            time=now - timedelta(days=3),
            person_id=ada.id,
            distance=0.41,
            threshold=0.6,
            model_id="test@1",
            message="Ada Lovelace was valid until 2026-01-01.",
        )
        store.log_event(
            "unknown", "unknown", time=now - timedelta(hours=30), door="back", distance=0.8, latency_ms=12.5
        )
        store.log_event(
            "granted",
            "granted",
            time=now - timedelta(hours=2),
            person_id=ada.id,
            door="front",
            distance=0.35,
            message="Access granted: Ada Lovelace.",
        )
    return now


def events_csv(capsys, *argv: str) -> list[dict[str, str]]:
    code, out, _ = run(capsys, "events", "--csv", *argv)
    assert code == 0
    return list(csv.DictReader(io.StringIO(out)))


def test_events_csv_has_the_documented_columns_oldest_first(log, capsys):
    _, out, _ = run(capsys, "events", "--csv")
    assert (
        next(csv.reader(io.StringIO(out)))
        == list(EVENT_COLUMNS)
        == [
            "time",
            "door",
            "decision",
            "reason",
            "person_id",
            "name",
            "subject",
            "distance",
            "threshold",
            "model_id",
            "latency_ms",
            "liveness",
            "liveness_passed",
            "live_score",
            "liveness_motion",
            "door_action",
            "message",
        ]
    )
    rows = events_csv(capsys)
    assert [row["reason"] for row in rows] == ["expired", "unknown", "granted"]
    assert [datetime.fromisoformat(row["time"]) for row in rows] == sorted(
        datetime.fromisoformat(row["time"]) for row in rows
    )
    assert rows[0]["name"] == "Ada Lovelace" and rows[0]["person_id"] == "1" and rows[0]["subject"].startswith("P-")
    assert (rows[0]["distance"], rows[0]["threshold"], rows[0]["model_id"]) == ("0.41", "0.6", "test@1")
    assert (rows[1]["name"], rows[1]["door"], rows[1]["latency_ms"]) == ("", "back", "12.5")


def test_events_filters(log, capsys):
    assert [row["reason"] for row in events_csv(capsys, "--decision", "granted")] == ["granted"]
    assert [row["reason"] for row in events_csv(capsys, "--person", "1")] == ["expired", "granted"]
    assert [row["reason"] for row in events_csv(capsys, "--since", "1d")] == ["granted"]
    assert [row["reason"] for row in events_csv(capsys, "--since", "36h", "--until", "1h")] == ["unknown", "granted"]
    since = (log - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert [row["reason"] for row in events_csv(capsys, "--since", since)] == ["unknown", "granted"]
    assert [row["reason"] for row in events_csv(capsys, "--limit", "2")] == ["unknown", "granted"]  # the newest 2
    assert events_csv(capsys, "--person", "#1", "--decision", "unknown") == []
    assert [row["reason"] for row in events_csv(capsys, "--door", "front")] == ["granted"]
    assert [row["reason"] for row in events_csv(capsys, "--door", "back", "--since", "2d")] == ["unknown"]
    assert events_csv(capsys, "--door", "Front") == []  # names are exact
    code, out, _ = run(capsys, "events", "--door", "back")
    assert code == 0 and len(out.splitlines()) == 2 and "back" in out.splitlines()[1]


def test_events_table_is_newest_first_and_csv_can_go_to_a_file(log, tmp_path, capsys):
    code, out, _ = run(capsys, "events")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["time", "door", "decision", "reason", "person", "distance", "message"]
    assert ["front" in lines[1], "back" in lines[2], "expired" in lines[3], len(lines)] == [True, True, True, 4]
    assert lines[1].split()[2:9] == ["front", "granted", "granted", "#1", "Ada", "Lovelace", "0.350"]
    assert lines[1].endswith("  Access granted: Ada Lovelace.")
    code, out, _ = run(capsys, "events", "--csv", str(tmp_path / "log.csv"), "--decision", "denied")
    assert code == 0 and out == f"Wrote 1 events to {tmp_path / 'log.csv'}.\n"
    assert [row["reason"] for row in csv.DictReader(io.StringIO((tmp_path / "log.csv").read_text()))] == ["expired"]


# --- db ---------------------------------------------------------------------------------------------


def test_db_backup_writes_a_copy_with_the_same_counts(db, log, tmp_path, capsys):
    code, out, _ = run(capsys, "db", "backup", str(tmp_path / "copy.db"))
    assert code == 0 and out == f"{tmp_path / 'copy.db'}\n"
    (tmp_path / "backups").mkdir()
    code, out, _ = run(capsys, "db", "backup", str(tmp_path / "backups"))
    (written,) = (tmp_path / "backups").iterdir()
    assert code == 0 and out == f"{written}\n" and written.name.startswith("faceguard-")
    with Store.open(db) as original, Store.open(tmp_path / "copy.db") as copy, Store.open(written) as folder_copy:
        assert (
            copy.counts()
            == folder_copy.counts()
            == original.counts()
            == {"people": 1, "templates": 1, "access_events": 3}
        )


def info_fields(capsys) -> dict[str, str]:
    code, out, _ = run(capsys, "db", "info")
    assert code == 0
    return {label: value.strip() for label, value in (line.split("  ", 1) for line in out.splitlines())}


def test_db_check_and_info_on_a_sound_file(db, log, capsys):
    assert run(capsys, "db", "check") == (0, "ok: 1 people, 1 photos, 3 access events\n", "")
    fields = info_fields(capsys)
    assert fields["path"] == str(db.resolve()) and fields["schema"] == f"{len(SCHEMA)}/{len(SCHEMA)}"
    assert (fields["people"], fields["photos"], fields["access events"]) == ("1", "1", "3")
    assert fields["size"].endswith("KiB")


def test_db_info_counts_people_per_model_and_says_how_to_re_encode_those_the_kiosk_model_lacks(
    db, obama, pipeline, photo, capsys
):
    """The kiosk runs the engine's model; Obama was enrolled from a photo with it, Biden with a model
    the kiosk no longer uses."""
    name, model_id = pipeline.spec.name, pipeline.spec.id
    with Store.open(db) as store:
        store.set_setting(PREFIX + "model", name)
        template = prepare_template(pipeline, photo("biden.jpg"), "photo:biden.jpg")[0]
        store.enroll("Joe Biden", replace(template, model_id="retired@1"))
    fields = info_fields(capsys)
    assert (fields[f"model {model_id}"], fields["model retired@1"]) == ("1 person with templates",) * 2
    assert fields["kiosk model"] == (
        f"{model_id}: 1 person has no template of it yet, so the kiosk cannot recognise them"
    )
    assert fields["to fix"].startswith(f"faceguard people reencode --model {name}  ")
    assert run(capsys, "people", "reencode", "--model", name, "--threads", "1")[0] == 0
    fields = info_fields(capsys)
    assert fields[f"model {model_id}"] == "2 people with templates" and "to fix" not in fields
    assert fields["kiosk model"] == f"{model_id}: everyone with a face template has one of it"
    with Store.open(db) as store:
        store.set_setting(PREFIX + "model", "ghost")
    assert info_fields(capsys)["kiosk model"].startswith("Unknown model 'ghost'. Known models: ")


def test_db_check_lists_problems_and_exits_8(db, log, capsys):
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM template_thumbnails")
    code, out, err = run(capsys, "db", "check")
    assert code == 8 and out == "1 templates have no face thumbnail (they cannot be re-encoded)\n"
    assert err == f"error: {db} has 1 problem(s); restore a backup or repair it.\n"


@pytest.mark.parametrize(
    "argv",
    [["people", "list"], ["db", "check"], ["db", "info"], ["events"], ["enroll", "Ada", str(DATA / "obama.jpg")]],
)
def test_a_file_that_is_not_a_database_exits_8_and_stays_untouched(tmp_path, capsys, argv):
    notes = tmp_path / "notes.txt"
    content = b"These are my notes, not a database.\n" * 200
    notes.write_bytes(content)
    code, _, err = run(capsys, *argv, "--db", str(notes))
    assert code == 8 and "is not a FaceGuard database" in err
    assert notes.read_bytes() == content and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_db_option_overrides_the_environment_and_a_missing_file_is_not_created(db, tmp_path, capsys):
    other = tmp_path / "other.db"
    code, _, err = run(capsys, "people", "list", "--db", str(other))
    assert code == 8 and err.startswith(f"error: There is no FaceGuard database at {other}.") and not other.exists()
    assert run(capsys, "enroll", "Barack Obama", str(DATA / "obama.jpg"), "--db", str(other))[0] == 0
    assert other.exists() and not db.exists()


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "exit codes:" in out
    for code in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "130"):
        assert f"\n  {code} " in out


def test_database_commands_do_not_load_the_engine(db, obama):
    script = (
        "import sys; from faceguard.cli import main; "
        f"code = main(['people', 'list', '--db', {str(db)!r}]) + main(['db', 'check', '--db', {str(db)!r}]) "
        f"+ main(['db', 'info', '--db', {str(db)!r}]); "
        "sys.exit(code or 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=DATA.parent.parent
    )
    assert result.returncode == 0, result.stderr
    assert "Barack Obama" in result.stdout


# --- WHEN -------------------------------------------------------------------------------------------


def test_when_reads_dates_and_times_as_local_time():
    assert parse_when("2026-11-25") == datetime(2026, 11, 25).astimezone()
    assert parse_until("2026-11-25") == datetime(2026, 11, 25, 23, 59, 59, 999999).astimezone()
    assert parse_when("2026-11-25T08:00") == parse_until("2026-11-25T08:00") == datetime(2026, 11, 25, 8).astimezone()
    assert parse_when(" 2026-11-25 08:30:15 ") == datetime(2026, 11, 25, 8, 30, 15).astimezone()
    assert parse_when("2026-11-25T08:00+02:00").utcoffset() == timedelta(hours=2)
    assert parse_when("2026-11-25").tzinfo is not None


@pytest.fixture
def new_york_time(monkeypatch):
    monkeypatch.setenv("TZ", "EST+5")  # POSIX rule: needs no time-zone database
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_when_follows_the_local_time_zone(new_york_time):
    assert parse_when("2026-11-25T08:00").utcoffset() == timedelta(hours=-5)
    assert parse_until("2026-11-25").isoformat() == "2026-11-25T23:59:59.999999-05:00"


@pytest.mark.parametrize(
    ("span", "ago"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("7D", timedelta(days=7)),
        ("0m", timedelta(0)),
    ],
)
def test_when_reads_spans_as_that_long_ago(span, ago):
    expected = datetime.now().astimezone() - ago
    assert abs(parse_when(span) - expected) < timedelta(seconds=5)


@pytest.mark.parametrize("text", ["yesterday", "7x", "-7d", "7 d", "1.5h", "", "2026-13-01", "2026-11-25T25:00"])
def test_when_refuses_anything_else_with_a_clear_message(text, capsys):
    with pytest.raises(argparse.ArgumentTypeError, match="is not a date, time or span; use e.g. 2026-11-25"):
        parse_when(text)
    with pytest.raises(SystemExit) as exit_:
        main(["events", "--since", text])
    assert exit_.value.code == 2 and "argument --since: " in capsys.readouterr().err


def test_bad_validity_dates_are_usage_errors_and_enroll_nobody(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["enroll", "Barack Obama", str(DATA / "obama.jpg"), "--valid-until", "next year"])
    assert exit_.value.code == 2 and "argument --valid-until: 'next year' is not a date" in capsys.readouterr().err
    assert not db.exists()
    code, _, _ = run(capsys, "enroll", "Barack Obama", str(DATA / "obama.jpg"), "--valid-until", "2030-12-31")
    assert code == 0 and people(db)[0].valid_until == datetime(2030, 12, 31, 23, 59, 59, 999000).astimezone()

"""The admin password end to end: argon2id hashes in a real database file, wrong passwords slowed down
(on a clock the test steps instead of sleeping) and logged in the chain, and the real ``faceguard``
command refusing every change without it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pytest
from argon2 import PasswordHasher

import faceguard.app.admin_password
from faceguard.app.admin_password import AdminPassword, Verdict, check_new_password, delay_after
from faceguard.cli import admin_gate, build_parser, main
from faceguard.cli.common import database_options
from faceguard.core.errors import AdminPasswordError
from faceguard.store import admin_password as stored
from faceguard.store.repository import Store
from tests.clock_helpers import ManualClock
from tests.conftest import ADMIN_PASSWORD, DATA
from tests.store_helpers import NOBODY, REPO, new_template

WRONG = "not the password"
NEW = "a new admin passphrase"
#: The commands known to change people, settings or the log.
CHANGERS = {
    "enroll",
    "people add-photo",
    "people edit",
    "people activate",
    "people deactivate",
    "people remove",
    "people import",
    "people reencode",
}


@pytest.fixture
def db(tmp_path, monkeypatch):
    """Ada enrolled (badge 1) in a database whose admin password is ADMIN_PASSWORD; the CLI's waits
    are recorded (``pauses``) and step its clock instead of sleeping."""
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        store.enroll("Ada Lovelace", new_template(np.random.default_rng(0)), badge="1")
        AdminPassword(store).set(ADMIN_PASSWORD, ADMIN_PASSWORD)
    monkeypatch.setenv("FACEGUARD_DB", str(path))
    return path


class Pauses(list):
    """The seconds the command line waited, each stepping ``clock`` instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()

    def __call__(self, seconds: float) -> None:
        if seconds > 0:
            self.append(seconds)
            self.clock.advance(seconds)


@pytest.fixture
def pauses(monkeypatch):
    waited = Pauses()
    monkeypatch.setattr(admin_gate, "CLOCK", waited.clock)
    monkeypatch.setattr(admin_gate, "pause", waited)
    return waited


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def admin_events(path) -> list[tuple[str, dict]]:
    with Store.open(path) as store:
        rows = store.db.execute("SELECT action, details FROM admin_events ORDER BY id").fetchall()
    return [(action, json.loads(details)) for action, details in rows]


def ada(path):
    with Store.open(path) as store:
        return store.find_person("1")


# --- the rules ---------------------------------------------------------------------------------------


def test_each_wrong_password_in_a_row_doubles_the_wait_up_to_30_s():
    assert [delay_after(n) for n in range(9)] == [0, 1, 2, 4, 8, 16, 30, 30, 30]
    assert delay_after(10_000) == 30


@pytest.mark.parametrize(
    ("new", "repeat", "refusal"),
    [
        ("short", "short", "at least 8 characters"),
        (" " * 12, " " * 12, "at least 8 characters"),
        ("long enough", "long enuogh", "differ"),
    ],
)
def test_a_new_password_must_be_8_characters_and_typed_twice_alike(new, repeat, refusal):
    with pytest.raises(AdminPasswordError, match=refusal):
        check_new_password(new, repeat)
    check_new_password("four word pass phrase", "four word pass phrase")


def test_the_password_is_stored_as_an_argon2id_hash_with_the_library_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(faceguard.app.admin_password, "HASHER", PasswordHasher())  # the fixture's is cheaper
    with Store.open(tmp_path / "f.db") as store:
        password = AdminPassword(store)
        assert not password.is_set
        password.set(ADMIN_PASSWORD, ADMIN_PASSWORD)
        encoded = stored.password_hash(store)
        assert password.check(ADMIN_PASSWORD, "test") is Verdict.ACCEPTED
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert ADMIN_PASSWORD.encode() not in (tmp_path / "f.db").read_bytes()


# --- wrong passwords: slowed, counted across processes, logged ------------------------------------------


def test_wrong_passwords_are_refused_slowed_and_the_count_survives_a_restart(db):
    clock = ManualClock()
    with Store.open(db) as store:
        password = AdminPassword(store, clock)
        assert password.check(WRONG, "test") is Verdict.WRONG
        assert password.wait() == 1
        assert password.check(ADMIN_PASSWORD, "test") is Verdict.TOO_SOON  # not even checked before the wait
        clock.advance(0.5)
        assert password.wait() == 0.5
        clock.advance(0.5)
        waits = []
        for _ in range(6):
            assert password.check(WRONG, "test") is Verdict.WRONG
            waits.append(password.wait())
            clock.advance(waits[-1])
        assert waits == [2, 4, 8, 16, 30, 30]
        assert password.check(WRONG, "test") is Verdict.WRONG
    with Store.open(db) as store:  # a new process, a restarted window: the same wait
        again = AdminPassword(store, clock)
        assert again.failures() == 8 and again.wait() == 30
        assert again.check(ADMIN_PASSWORD, "test") is Verdict.TOO_SOON
        clock.advance(30)
        assert again.check(ADMIN_PASSWORD, "test") is Verdict.ACCEPTED
        assert again.failures() == 0 and again.wait() == 0


def test_a_wall_clock_set_back_does_not_lengthen_the_wait(db):
    clock = ManualClock()
    with Store.open(db) as store:
        password = AdminPassword(store, clock)
        password.check(WRONG, "test")
        clock.set_wall(clock.wall() - timedelta(days=1))
        assert password.wait() == 1


def test_wrong_passwords_are_logged_in_the_chain_without_what_was_typed(db, capsys):
    clock = ManualClock()
    with Store.open(db) as store:
        password = AdminPassword(store, clock)
        password.check(WRONG, "admin window")
        clock.advance(1)
        password.check(WRONG + "!", "kiosk")
    assert admin_events(db)[-2:] == [
        ("admin_login_failed", {"failures": 1, "where": "admin window"}),
        ("admin_login_failed", {"failures": 2, "where": "kiosk"}),
    ]
    wal = db.parent / f"{db.name}-wal"
    raw = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert WRONG.encode() not in raw
    assert run(capsys, "events", "verify")[0] == 0


def test_attempts_at_once_wait_for_each_other(db):
    """An attempt counts as failed from its start, so a second program trying meanwhile must wait."""
    clock = ManualClock()
    with Store.open(db) as first, Store.open(db) as second:
        assert stored.begin_attempt(first, clock.wall(), faceguard.app.admin_password.remaining) == 0
        assert AdminPassword(second, clock).check(ADMIN_PASSWORD, "test") is Verdict.TOO_SOON


def test_a_password_can_be_set_once_and_changed_only_after_the_current_one(db):
    with Store.open(db) as store:
        password = AdminPassword(store)
        with pytest.raises(AdminPasswordError, match="set or changed by another program"):
            password.set(NEW, NEW)
        with pytest.raises(AdminPasswordError, match="current admin password must be given"):
            password.change(NEW, NEW)
        assert password.check(ADMIN_PASSWORD, "test") is Verdict.ACCEPTED
        password.change(NEW, NEW)
        assert password.check(NEW, "test") is Verdict.ACCEPTED


# --- the command line ---------------------------------------------------------------------------------


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every leaf command of ``parser`` by its name ('people edit')."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(commands(sub, f"{prefix} {name}".strip()))
    return found or {prefix: parser}


def test_every_command_that_can_change_the_database_needs_the_admin_password():
    every = commands(build_parser())
    gated = {name for name, parser in every.items() if parser.get_default("needs_admin")}
    assert gated >= CHANGERS
    assert not gated & (admin_gate.READ_ONLY | admin_gate.OWN_CHECK)
    assert all("--password-file" in every[name].format_help() for name in gated)
    assert {name for name in gated if every[name].get_default("creates_db")} == {"enroll", "people import"}


def test_a_new_command_that_takes_the_database_is_gated_until_named_read_only():
    parser = argparse.ArgumentParser()
    subcommands = parser.add_subparsers(dest="command")
    wipe = subcommands.add_parser("wipe", parents=[database_options()])
    help_only = subcommands.add_parser("models")
    admin_gate.gate_commands(parser)
    assert wipe.get_default("needs_admin") and wipe.get_default("creates_db") is False
    assert not help_only.get_default("needs_admin")


GATED = [
    ("enroll", "Bob", str(DATA / "obama.jpg")),
    ("people", "add-photo", "1", str(DATA / "obama.jpg")),
    ("people", "edit", "1", "--name", "Ada King"),
    ("people", "deactivate", "1"),
    ("people", "remove", "1", "--yes"),
    ("people", "import", str(DATA)),
    ("people", "reencode"),
]


@pytest.mark.parametrize("argv", GATED, ids=lambda argv: " ".join(argv[:2]))
def test_changes_are_refused_without_the_password_and_nothing_changes(db, capsys, monkeypatch, argv):
    monkeypatch.delenv(admin_gate.PASSWORD_ENV)
    before = ada(db)
    code, out, err = run(capsys, *argv)
    assert code == 11 and out == ""
    assert "needs the admin password" in err and "--password-file" in err and "FACEGUARD_ADMIN_PASSWORD" in err
    assert ada(db) == before
    with Store.open(db) as store:
        assert store.counts()["people"] == 1


def test_a_wrong_password_from_a_script_is_refused_slowed_and_the_next_run_waits_longer(
    db, capsys, monkeypatch, pauses
):
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, WRONG)
    for expected_waits in ([1], [2], [4]):
        pauses.clear()
        code, _, err = run(capsys, "people", "edit", "1", "--name", "Ada King")
        assert code == 11 and "Wrong admin password." in err
        assert pauses == expected_waits
    assert ada(db).name == "Ada Lovelace"
    assert [details for action, details in admin_events(db) if action == "admin_login_failed"] == [
        {"failures": n, "where": "faceguard people edit"} for n in (1, 2, 3)
    ]
    with Store.open(db) as store:  # a run killed during its wait: the next one waits what is left
        stored.begin_attempt(store, pauses.clock.wall(), faceguard.app.admin_password.remaining)
    pauses.clear()
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, ADMIN_PASSWORD)
    code, out, _ = run(capsys, "people", "edit", "1", "--name", "Ada King")
    assert code == 0 and pauses == [8] and "Updated Ada King" in out


def test_the_password_file_gives_the_password_and_beats_the_environment(db, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, WRONG)
    secret = tmp_path / "admin-password"
    secret.write_text(f"{ADMIN_PASSWORD}\nignored second line\n", encoding="utf-8")
    code, out, _ = run(capsys, "people", "edit", "1", "--group", "staff", "--password-file", str(secret))
    assert code == 0 and "Updated" in out
    secret.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "people", "edit", "1", "--group", "night", "--password-file", str(secret))
    assert code == 11 and "holds no admin password on its first line" in err
    assert ada(db).group == "staff"


def test_typed_at_the_terminal_three_tries_each_slower(db, capsys, monkeypatch, pauses):
    monkeypatch.delenv(admin_gate.PASSWORD_ENV)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    typed = iter([WRONG, WRONG, ADMIN_PASSWORD])
    monkeypatch.setattr(admin_gate.getpass, "getpass", lambda prompt: next(typed))
    code, out, err = run(capsys, "people", "deactivate", "1")
    assert code == 0 and "Deactivated" in out and err.count("Wrong admin password.") == 2
    assert pauses == [1, 2]
    typed = iter([WRONG] * 3)
    code, _, err = run(capsys, "people", "activate", "1")
    assert code == 11 and "was not given correctly" in err and "3 wrong in a row" in err
    assert not ada(db).active


def test_the_first_password_given_to_a_new_database_becomes_its_password(tmp_path, capsys, monkeypatch, pauses):
    path = tmp_path / "new.db"
    monkeypatch.setenv("FACEGUARD_DB", str(path))
    code, _, err = run(capsys, "people", "import", str(tmp_path / "nothing here"))
    assert code == 1 and "is not a folder" in err  # the command's own error: the password was taken
    assert [action for action, _ in admin_events(path)] == ["admin_password_set"]
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, WRONG)
    assert run(capsys, "people", "import", str(tmp_path))[0] == 11


def test_admin_password_change_needs_the_current_one(db, capsys, monkeypatch, tmp_path, pauses):
    new_file = tmp_path / "new"
    new_file.write_text(NEW, encoding="utf-8")
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, WRONG)
    assert run(capsys, "admin-password", "change", "--new-password-file", str(new_file))[0] == 11
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, ADMIN_PASSWORD)
    code, out, _ = run(capsys, "admin-password", "change", "--new-password-file", str(new_file))
    assert code == 0 and "changed" in out
    assert run(capsys, "people", "deactivate", "1")[0] == 11  # the old one no longer works
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, NEW)
    assert run(capsys, "people", "deactivate", "1")[0] == 0
    actions = [action for action, _ in admin_events(db)]
    assert actions[-4:] == ["admin_login_failed", "admin_password_changed", "admin_login_failed", "person_deactivated"]


def test_admin_password_change_without_a_terminal_or_file_asks_for_the_new_one_by_name(db, capsys):
    code, _, err = run(capsys, "admin-password", "change")
    assert code == 11 and "--new-password-file" in err


def test_reset_by_the_files_owner_sets_a_new_password_and_is_logged(db, capsys, monkeypatch, tmp_path, pauses):
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, WRONG)
    for _ in range(3):
        run(capsys, "people", "deactivate", "1")
    new_file = tmp_path / "new"
    new_file.write_text(NEW, encoding="utf-8")
    code, out, _ = run(capsys, "admin-password", "reset", "--db", str(db), "--new-password-file", str(new_file))
    assert code == 0 and "reset" in out
    with Store.open(db) as store:
        assert AdminPassword(store).failures() == 0
    pauses.clear()
    monkeypatch.setenv(admin_gate.PASSWORD_ENV, NEW)
    assert run(capsys, "people", "deactivate", "1")[0] == 0 and pauses == []
    assert [action for action, _ in admin_events(db)][-2:] == ["admin_password_reset", "person_deactivated"]
    assert run(capsys, "events", "verify")[0] == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give the file away")
def test_reset_is_refused_to_anyone_but_the_files_owner(db, capsys, tmp_path):
    new_file = tmp_path / "new"
    new_file.write_text(NEW, encoding="utf-8")
    os.chown(db, NOBODY, -1)
    code, _, err = run(capsys, "admin-password", "reset", "--db", str(db), "--new-password-file", str(new_file))
    assert code == 11 and "owner" in err and "sudo -u" in err
    with Store.open(db) as store:
        assert AdminPassword(store).check(ADMIN_PASSWORD, "test") is Verdict.ACCEPTED


def test_the_installed_command_refuses_a_change_without_the_password(db):
    env = {key: value for key, value in os.environ.items() if key != admin_gate.PASSWORD_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "faceguard.cli", "people", "remove", "1", "--yes", "--db", str(db)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 11, result.stderr
    assert "needs the admin password" in result.stderr
    with Store.open(db) as store:
        assert store.counts()["people"] == 1

"""faceguard server init / migrate / status / add-door."""

from __future__ import annotations

import re

import psycopg

from faceguard.cli import build_parser, main
from faceguard.site.schema import SCHEMA
from tests.site.postgres import free_port


def test_init_status_migrate_and_add_door(site_db, capsys, monkeypatch):
    assert main(["server", "init", "--url", site_db.url]) == 0
    assert "is a FaceGuard site database" in capsys.readouterr().out
    assert main(["server", "init", "--url", site_db.url]) == 0  # idempotent

    monkeypatch.setenv("FACEGUARD_SERVER_URL", site_db.url)
    assert main(["server", "migrate"]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["server", "add-door", "Front door"]) == 0
    out = capsys.readouterr().out
    (url,) = re.findall(r"postgresql://\S+", out)
    assert url.startswith("postgresql://door_front_door:") and "shown only this once" in out
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT name FROM doors").fetchall() == [("Front door",)]

    assert main(["server", "status"]) == 0
    out, err = capsys.readouterr()
    assert re.search(rf"schema\s+{len(SCHEMA)}/{len(SCHEMA)}", out)
    assert re.search(r"doors\s+1", out) and re.search(r"TLS\s+no", out)
    assert site_db.server.password not in out + err

    assert main(["server", "add-door", "Front door"]) == 7
    assert "already has a door 'Front door'" in capsys.readouterr().err


def test_errors_name_the_server_but_not_the_password(postgres, capsys, monkeypatch):
    monkeypatch.delenv("FACEGUARD_SERVER_URL", raising=False)
    assert main(["server", "status"]) == 2
    assert "Give --url" in capsys.readouterr().err
    port = free_port()
    assert main(["server", "status", "--url", f"postgresql://site:hunter2@127.0.0.1:{port}/site"]) == 8
    err = capsys.readouterr().err
    assert f"site@127.0.0.1:{port}/site" in err and "hunter2" not in err


def test_the_admin_password_gate_leaves_the_server_commands_alone():
    parser = build_parser()
    for command in (["init"], ["migrate"], ["status"], ["add-door", "Front door"]):
        args = parser.parse_args(["server", *command, "--url", "postgresql://x@localhost/site"])
        assert not getattr(args, "needs_admin", False)
        assert not hasattr(args, "password_file")

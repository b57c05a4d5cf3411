"""``faceguard admin-password change`` and ``reset``: a new admin password, with the current one or,
for a locked-out site, as the operating-system user who owns the database file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from faceguard.app.admin_password import AdminPassword
from faceguard.cli import admin_gate
from faceguard.cli.admin_gate import (
    PASSWORD_ENV,
    PASSWORD_HELP,
    ask_new_password,
    check_password,
    command_name,
    read_password_file,
)
from faceguard.core.errors import AdminPasswordError
from faceguard.core.private_files import POSIX
from faceguard.store.repository import Store

NEW_PASSWORD_HELP = "a file whose first line is the new admin password, for scripts (default: asked twice)"
RESET_HELP = """\
For a site that lost its admin password: sets a new one without the current one. Only the
operating-system user who owns the database file, with write access to it, may do this (whoever has
the file can change anything in it anyway); the reset is recorded in the tamper-evident log."""


def add_admin_password_commands(commands: Any, database: argparse.ArgumentParser) -> None:
    admin_password = commands.add_parser(
        "admin-password", help="change the admin password, or reset a lost one"
    ).add_subparsers(dest="action", required=True)
    change = admin_password.add_parser(
        "change",
        parents=[database],
        help="set a new admin password (asks for the current one; sets the first one on a new database)",
        epilog=f"The current password: asked at the terminal, or from --password-file or ${PASSWORD_ENV}.",
    )
    change.add_argument("--password-file", type=Path, metavar="FILE", help=PASSWORD_HELP)
    change.add_argument("--new-password-file", type=Path, metavar="FILE", help=NEW_PASSWORD_HELP)
    change.set_defaults(run=run_change)
    reset = admin_password.add_parser(
        "reset",
        parents=[database],
        help="set a new admin password without the current one (the database file's owner only)",
        description=RESET_HELP,
    )
    reset.add_argument("--new-password-file", type=Path, metavar="FILE", help=NEW_PASSWORD_HELP)
    reset.set_defaults(run=run_reset)


def run_change(args: argparse.Namespace) -> int:
    with Store.open(args.db, create=False) as store:
        password = AdminPassword(store, admin_gate.CLOCK)
        if not password.is_set:
            password.set(*new_password(args))
            print(f"Admin password set for {args.db}.")
            return 0
        check_password(password, args, command_name(args))
        password.change(*new_password(args))
    print(f"Admin password of {args.db} changed.")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    check_owner(args.db)
    with Store.open(args.db, create=False) as store:
        AdminPassword(store).reset(*new_password(args))
    print(f"Admin password of {args.db} reset; the reset is recorded in its log (see: faceguard events verify).")
    return 0


def check_owner(path: Path) -> None:
    """Refuse unless this process may write ``path`` and (POSIX) runs as the user who owns it."""
    if not path.is_file():
        raise AdminPasswordError(f"{path} does not exist: name the database whose admin password to reset with --db.")
    if not os.access(path, os.W_OK):
        raise AdminPasswordError(f"Only a user who may write {path} can reset its admin password.")
    if POSIX and path.stat().st_uid != os.geteuid():
        try:
            owner = path.owner()
        except KeyError:  # a user id without a name on this computer
            owner = str(path.stat().st_uid)
        raise AdminPasswordError(
            f"Only {path}'s owner ({owner}) can reset its admin password: run it as that user, "
            f"e.g. sudo -u {owner} faceguard admin-password reset --db {path}"
        )


def new_password(args: argparse.Namespace) -> tuple[str, str]:
    """The new password from --new-password-file, else typed twice."""
    if args.new_password_file is None:
        return ask_new_password("--new-password-file FILE")
    given = read_password_file(args.new_password_file)
    return given, given

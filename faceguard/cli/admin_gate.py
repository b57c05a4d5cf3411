"""The admin password on the command line: one gate, in ``main``, before every command that can change
the database. Every command that takes --db is gated unless it is named read-only here, so a new
command is protected until someone decides it only reads.

The password is read from ``--password-file`` (its first line), else $FACEGUARD_ADMIN_PASSWORD, else
asked at the terminal (three tries); never from an option of its own, which would land in the shell
history. A database without one asks to set it (typed twice), or takes the one given as the first.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from faceguard.app.admin_password import AdminPassword, Verdict
from faceguard.core.clock import SYSTEM_CLOCK
from faceguard.core.errors import AdminPasswordError
from faceguard.store.repository import Store

PASSWORD_ENV = "FACEGUARD_ADMIN_PASSWORD"
PROMPT_TRIES = 3
#: The commands that only read the database (db backup copies it: whoever may run it can copy the file).
READ_ONLY = frozenset(
    {"kiosk", "people list", "people show", "identify", "verify", "events", "db backup", "db check", "db info"}
)
#: The commands that ask for the admin password themselves (the admin window's dialog, the current
#: password before a new one, the file owner's reset).
OWN_CHECK = frozenset({"admin", "admin-password change", "admin-password reset"})
#: Gated commands that may create the database, so the gate may too (others refuse a missing file).
CREATES_DB = frozenset({"enroll", "people import"})
#: The clock the waits are counted in (tests step their own).
CLOCK = SYSTEM_CLOCK
PASSWORD_HELP = (
    f"a file whose first line is the admin password, for scripts (or set ${PASSWORD_ENV}); "
    "without either it is asked at the terminal"
)
ADMIN_EPILOG = (
    f"This command needs the admin password (it changes the database or hands out what it holds): asked at "
    f"the terminal, or from --password-file or ${PASSWORD_ENV} in scripts. The first one given to a database "
    "without one becomes it."
)


def gate_commands(parser: argparse.ArgumentParser, name: str = "") -> None:
    """Mark every command under ``parser`` that takes --db and is neither READ_ONLY nor OWN_CHECK as
    needing the admin password (with a --password-file option and a line in its help)."""
    children = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    for subcommands in children:
        for child, subparser in subcommands.choices.items():
            gate_commands(subparser, f"{name} {child}".strip())
    takes_db = any("--db" in action.option_strings for action in parser._actions)
    if not children and takes_db and name not in READ_ONLY | OWN_CHECK:
        parser.add_argument("--password-file", type=Path, metavar="FILE", help=PASSWORD_HELP)
        parser.epilog = f"{parser.epilog}\n\n{ADMIN_EPILOG}" if parser.epilog else ADMIN_EPILOG
        parser.set_defaults(needs_admin=True, creates_db=name in CREATES_DB)


def require_admin(args: argparse.Namespace) -> None:
    """Let a marked command run only with the admin password of ``args.db`` (set it on first use)."""
    with Store.open(args.db, create=args.creates_db) as store:
        password = AdminPassword(store, CLOCK)
        if password.is_set:
            check_password(password, args, command_name(args))
            return
        new = supplied_password(args)
        if new is not None:  # a script's first password becomes the database's (as its --help says)
            password.set(new, new)
            return
        print(f"{args.db} has no admin password yet; choose one to protect it.", file=sys.stderr)
        password.set(*ask_new_password())
        print(f"Admin password set for {args.db}.", file=sys.stderr)


def check_password(password: AdminPassword, args: argparse.Namespace, where: str) -> None:
    """Accept the admin password given or typed, slowing down and logging each wrong one."""
    for attempt in attempts(args):
        if try_password(password, attempt, where):
            return
        print("Wrong admin password.", file=sys.stderr)
    raise AdminPasswordError(
        f"The admin password of {args.db} was not given correctly; {where} was not run "
        f"({password.failures()} wrong in a row; each makes the next attempt wait longer, up to 30 s)."
    )


def try_password(password: AdminPassword, text: str, where: str) -> bool:
    """Whether ``text`` is the password, after any wait earlier failures impose; a wrong one is
    answered only after the wait it now imposes, so a script retrying at once gets no faster."""
    while True:
        pause(password.wait())
        verdict = password.check(text, where)
        if verdict is not Verdict.TOO_SOON:
            break
    if verdict is Verdict.WRONG:
        pause(password.wait())
    return verdict is Verdict.ACCEPTED


def pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def attempts(args: argparse.Namespace) -> Iterator[str]:
    """The password supplied (one attempt), else up to three typed at the terminal."""
    given = supplied_password(args)
    if given is not None:
        yield given
        return
    if not sys.stdin.isatty():
        raise AdminPasswordError(
            f"This command needs the admin password of {args.db}: run it at a terminal, or give it with "
            f"--password-file FILE or ${PASSWORD_ENV}."
        )
    for _ in range(PROMPT_TRIES):
        yield getpass.getpass("Admin password: ")


def supplied_password(args: argparse.Namespace) -> str | None:
    """The first line of --password-file, else $FACEGUARD_ADMIN_PASSWORD, else None."""
    path: Path | None = getattr(args, "password_file", None)
    return (os.environ.get(PASSWORD_ENV) or None) if path is None else read_password_file(path)


def read_password_file(path: Path) -> str:
    """The first line of ``path`` (without its line break)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise AdminPasswordError(f"Cannot read the admin password from {path}: {reason}.") from None
    if not lines or not lines[0]:
        raise AdminPasswordError(f"{path} holds no admin password on its first line.")
    return lines[0]


def ask_new_password(option: str = "--password-file FILE or $" + PASSWORD_ENV) -> tuple[str, str]:
    """A new password typed twice at the terminal (without one: an error naming ``option``)."""
    if not sys.stdin.isatty():
        raise AdminPasswordError(f"Not asking for a new admin password without a terminal: give it with {option}.")
    return getpass.getpass("New admin password: "), getpass.getpass("The same again: ")


def command_name(args: argparse.Namespace) -> str:
    """The command as typed, e.g. 'faceguard people edit' (what a failed attempt is logged with)."""
    return " ".join(
        ["faceguard", args.command, *([args.action] if isinstance(getattr(args, "action", None), str) else [])]
    )

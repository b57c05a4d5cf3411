"""The ``faceguard`` command: enroll and manage people, identify and verify faces, read the access
log and look after the database; plus demo, compare, evaluate, bench and bench-liveness for the engine.

Commands that only read or edit the database (people list/edit/…, events, db …) never load the neural
networks, so they start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import faceguard
from faceguard.cli.access import add_access_commands
from faceguard.cli.admin_gate import gate_commands, require_admin
from faceguard.cli.admin_password import add_admin_password_commands
from faceguard.cli.common import database_options, engine_options
from faceguard.cli.database import add_db_commands
from faceguard.cli.gui import add_gui_commands
from faceguard.cli.liveness import add_liveness_commands
from faceguard.cli.models import add_engine_commands
from faceguard.cli.people import add_people_commands
from faceguard.cli.self_test import add_self_test_command
from faceguard.cli.server import add_server_commands
from faceguard.cli.training import add_training_commands
from faceguard.core.errors import FaceGuardError

EXIT_CODES = """\
exit codes:
  0    success (identify: a face was recognised; verify: access granted; compare: same person)
  1    identify: nobody recognised; verify: not granted; compare: different people;
       people remove: not confirmed; any other error
  2    bad command line, or a change the database refuses (an empty name, valid until before valid from)
  3    model weights are not installed
  4    a photo cannot be read (missing, empty, damaged, not an image)
  5    a photo is refused: no face, several faces, or below the recommended quality (too small,
       blurred, badly lit or turned away; --accept-low-quality enrolls those anyway)
  6    no such person (badge, #id or name)
  7    conflict: the badge belongs to someone else, or several people share the name
  8    database problem: not a FaceGuard database, locked, read-only, disk full, damaged, too new
  10   events verify: the log was tampered with (each edited, deleted, inserted or reordered
       record is listed)
  11   the admin password is missing or wrong (commands that change people, settings or the
       log need it: asked at the terminal, or --password-file FILE or $FACEGUARD_ADMIN_PASSWORD)
  130  interrupted (Ctrl-C)
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_admin", False):
            require_admin(args)
        return args.run(args) or 0
    except FaceGuardError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceguard", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"faceguard {faceguard.__version__}")
    engine, database = engine_options(), database_options()
    commands = parser.add_subparsers(dest="command", required=True)
    add_gui_commands(commands, database)
    add_people_commands(commands, engine, database)
    add_access_commands(commands, engine, database)
    add_db_commands(commands, database)
    add_admin_password_commands(commands, database)
    add_engine_commands(commands, engine)
    add_liveness_commands(commands)
    add_training_commands(commands)
    add_self_test_command(commands, engine)
    add_server_commands(commands)
    gate_commands(parser)
    return parser

"""``faceguard self-test``: load the models, enroll and identify the demo photos in a temporary
database, check it, and say whether this installation works (exit 0) or not (exit 1)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import faceguard
from faceguard.app.engine import shared_pipeline
from faceguard.app.self_test import Step, run_self_test, step_lines


def add_self_test_command(commands: Any, engine: argparse.ArgumentParser) -> None:
    self_test = commands.add_parser(
        "self-test",
        parents=[engine],
        help="check this installation: load the models, enroll and identify the demo photos in a temporary "
        "database (no network, nothing written outside a temporary folder); exit 0 when every step passes",
    )
    self_test.set_defaults(run=run_self_test_command)


def run_self_test_command(args: argparse.Namespace) -> int:
    print(f"FaceGuard {faceguard.__version__} self-test", flush=True)

    def show(step: Step) -> None:
        print("\n".join(step_lines(step)), flush=True)

    report = run_self_test(lambda: shared_pipeline(args.model, args.device, args.threads), progress=show)
    print("\n".join(report.header()))
    print(report.verdict())
    if not report.passed:
        print("error: the self-test failed; see the FAILED steps above.", file=sys.stderr)
    return 0 if report.passed else 1

"""Access commands: identify (1:K), verify (1:1 with a badge) and events (the access log)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from faceguard.access.policy import door_check, verify_claim
from faceguard.app.display import EVENT_TABLE_COLUMNS, event_cells
from faceguard.app.settings import load_settings, site_time_zone
from faceguard.app.site_threshold import SiteThreshold
from faceguard.cli import common
from faceguard.cli.common import (
    WHEN_HELP,
    describe,
    encode_single_face,
    open_store,
    parse_until,
    parse_when,
    print_table,
    threshold_of,
)
from faceguard.core.clock import SYSTEM_CLOCK
from faceguard.core.errors import FaceGuardError, InvalidInputError, TamperedLogError
from faceguard.matching.gallery import Match, verify
from faceguard.store.access_log import log_decision
from faceguard.store.chain_audit import open_for_audit, verify_chain
from faceguard.store.event_export import save_events_csv, write_events_csv
from faceguard.store.events import DECISIONS
from faceguard.store.live_gallery import LiveGallery
from faceguard.vision.image_io import read_image
from faceguard.vision.thumbnail import SNAPSHOT_SIZE, face_thumbnail

VERIFY_HELP = """\
events verify [--db PATH]: walk the hash chain of the access events and admin actions, reading the
file only (a copy an auditor was given works: it is neither upgraded nor written), and list each
record edited, deleted, inserted or reordered, and where. Exit 0 and 'OK: N events, chain intact'
when nothing was; exit 10 when something was; exit 8 for a file that is not a FaceGuard database or
predates the chain."""


def add_access_commands(commands: Any, engine: argparse.ArgumentParser, database: argparse.ArgumentParser) -> None:
    identify = commands.add_parser(
        "identify", parents=[engine, database], help="1:K: who is in these photos? (logs no access event)"
    )
    identify.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    identify.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="distance threshold (default: the kiosk's, derived from its target share of strangers "
        "let in and the number of people enrolled)",
    )
    identify.set_defaults(run=run_identify)

    verify = commands.add_parser(
        "verify",
        parents=[engine, database],
        help="1:1: is this photo the holder of the badge? (--door applies the door rules and logs the decision)",
    )
    verify.add_argument("--badge", required=True)
    verify.add_argument("photo", type=Path, metavar="PHOTO")
    verify.add_argument("--threshold", type=float, default=None, help="distance threshold (default: the model's)")
    verify.add_argument(
        "--door",
        help="decide as at this door, by its access groups, schedules and holidays, and log the decision in the "
        "access log (e.g. a badge reader that calls this command)",
    )
    verify.set_defaults(run=run_verify)

    events = commands.add_parser(
        "events",
        parents=[database],
        help="the access log, newest first; 'events verify' checks it was not tampered with",
        epilog=f"{WHEN_HELP}\n{VERIFY_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    events.add_argument("action", nargs="?", choices=["verify"], help="check the log's hash chain instead of listing")
    events.add_argument("--since", type=parse_when, metavar="WHEN")
    events.add_argument("--until", type=parse_until, metavar="WHEN", help="(a date alone: the end of that day)")
    events.add_argument("--person", metavar="REF", help="badge, #id or name")
    events.add_argument("--decision", choices=DECISIONS)
    events.add_argument("--door", metavar="NAME", help="the events of this door only (its exact name)")
    events.add_argument("--limit", type=int, metavar="N", help="at most the N newest events")
    events.add_argument(
        "--csv", nargs="?", const="-", metavar="FILE", help="write CSV, oldest first, to FILE (default: stdout)"
    )
    events.set_defaults(run=run_events)


def run_identify(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        pipeline = common.load_pipeline(args)
        settings = load_settings(store)
        live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    fixed = settings.threshold if args.threshold is None else args.threshold
    threshold = SiteThreshold.for_model(pipeline.spec, settings.max_fpir, fixed).for_gallery(live.people)
    recognised = False
    for photo in args.photos:
        matches = [match for _, match in pipeline.identify(read_image(photo), live.gallery, threshold)]
        if not matches:
            print(f"{photo.name}  no face found")
            continue
        for number, match in enumerate(matches, start=1):
            label = photo.name if len(matches) == 1 else f"{photo.name} face {number}"
            verdict, known = judge_match(live, match)
            recognised |= known
            print(f"{label}  {verdict}")
    return 0 if recognised else 1


def judge_match(live: LiveGallery, match: Match[int]) -> tuple[str, bool]:
    """One identify line for a match, and whether it is an enrolled person."""
    person = live.status_of(match.identity) if match.identity is not None else None
    if person is not None:
        decision = verify_claim(person, match.accepted, match.distance, match.threshold, SYSTEM_CLOCK.wall())
        return f"#{person.person_id} {person.name}  distance {match.distance:.3f}  {decision.outcome}", True
    nearest = live.status_of(match.nearest) if match.nearest is not None else None
    if nearest is None:
        return "unknown  (nobody is enrolled)", False
    return f"unknown  distance {match.distance:.3f} (nearest: #{nearest.person_id} {nearest.name})", False


def run_verify(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with open_store(args) as store:
        person = store.person_by_badge(args.badge)
        image = read_image(args.photo)
        pipeline = common.load_pipeline(args)
        _, templates = store.load_encodings(pipeline.spec.id, [person.id])
        if not len(templates):
            raise FaceGuardError(
                f"{describe(person)} has no photo enrolled for the model {pipeline.spec.id}; "
                f"re-enroll them: faceguard people add-photo '#{person.id}' PHOTO"
            )
        threshold = threshold_of(args, pipeline)
        face = encode_single_face(pipeline, image)
        same, distance = verify(face.encoding, templates, threshold)
        rules = door_check(store.door_rules(site_time_zone(store)), args.door) if args.door else None
        decision = verify_claim(person.status(), same, distance, threshold, SYSTEM_CLOCK.wall(), rules)
        if args.door:
            snapshot = face_thumbnail(image, face.face.landmarks, SNAPSHOT_SIZE).jpeg
            latency_ms = (time.perf_counter() - started) * 1000
            log_decision(
                store, decision, door=args.door, model_id=face.model_id, latency_ms=latency_ms, snapshot=snapshot
            )
    print(f"{decision.message}  distance {distance:.3f} (threshold {threshold:.3f})")
    return 0 if decision.granted else 1


def run_events(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return run_events_verify(args)
    with open_store(args) as store:
        person_id = store.find_person(args.person).id if args.person else None
        events = store.events(args.since, args.until, person_id, args.decision, args.limit, door=args.door)
    if args.csv is None:
        print_table(list(EVENT_TABLE_COLUMNS), [event_cells(event) for event in events])
        return 0
    if args.csv == "-":
        write_events_csv(reversed(events), sys.stdout)
    else:
        print(f"Wrote {save_events_csv(reversed(events), Path(args.csv))} events to {args.csv}.")
    return 0


def run_events_verify(args: argparse.Namespace) -> int:
    """``faceguard events verify``: the chain checked read-only; each finding on a line of its own."""
    filters = [
        f"--{name}" for name in ("since", "until", "person", "decision", "door", "limit", "csv") if getattr(args, name)
    ]
    if filters:
        raise InvalidInputError(f"events verify checks the whole log; it takes --db only, not {', '.join(filters)}.")
    with open_for_audit(args.db) as db:
        report = verify_chain(db, args.db)
    for finding in report.findings:
        print(finding.text)
    if not report.intact:
        raise TamperedLogError(
            f"{args.db}: the log was changed outside FaceGuard ({len(report.findings)} finding(s) above; "
            f"{report.entries} entries in its chain)."
        )
    print(
        f"OK: {report.entries} events, chain intact ({report.access_events} access decisions, "
        f"{report.admin_actions} admin actions)"
    )
    if report.purged_through:
        print(
            f"retention removed the entries up to chain position {report.purged_through}; "
            "the chain is checked from the hash it recorded for them"
        )
    print(f"head: {report.head}")
    return 0

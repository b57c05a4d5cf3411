"""Shared helpers for the store tests: realistic templates, and worker processes that use the store.

The workers run as ``python -m tests.store_helpers <command> ...`` from the repository root, so the
tests can kill them, race them against each other and drop their privileges like a real second
program on the machine would.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from faceguard.core.errors import StoreError
from faceguard.core.types import Thumbnail
from faceguard.store.repository import Store
from faceguard.store.sealing import SealedColumn
from faceguard.store.templates import NewTemplate

REPO = Path(__file__).resolve().parent.parent
MODEL = "test-model@1"
DIM = 128
NOBODY = 65534
#: Every table of the latest schema.
SCHEMA_TABLES = (
    "people",
    "templates",
    "template_thumbnails",
    "access_events",
    "event_snapshots",
    "settings",
    "changes",
    "admin_events",
    "log_chain",
    "face_data_key",
    "_sqlite_migrations",
)


def tiny_jpeg(rng: np.random.Generator, size: int = 24) -> bytes:
    """A real (decodable) JPEG of random pixels."""
    ok, encoded = cv2.imencode(".jpg", rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def unit_vector(rng: np.random.Generator, dim: int = DIM) -> np.ndarray:
    vector = rng.standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def new_template(
    rng: np.random.Generator | None = None,
    *,
    model_id: str = MODEL,
    dim: int = DIM,
    encoding: np.ndarray | None = None,
    source: str = "photo:test.jpg",
    thumbnail_size: int = 24,
) -> NewTemplate:
    """A template with a random unit encoding (unless given) and a real tiny JPEG thumbnail."""
    rng = rng if rng is not None else np.random.default_rng()
    landmarks = (rng.random((5, 2)) * thumbnail_size).astype(np.float32)
    return NewTemplate(
        model_id=model_id,
        encoding=unit_vector(rng, dim) if encoding is None else encoding,
        thumbnail=Thumbnail(tiny_jpeg(rng, thumbnail_size), landmarks),
        quality={"face_size": float(rng.integers(80, 300)), "sharpness": float(rng.random())},
        source=source,
    )


def write_sealed(store: Store, column: SealedColumn, key: int, plain: bytes) -> None:
    """Overwrite one sealed cell (``column`` of the row ``key``) with ``plain``, encrypted as FaceGuard
    writes it: a damaged photo or an encoding of another size that still decrypts."""
    (row,) = store.db.execute(f"SELECT {column.row} FROM {column.table} WHERE {column.key} = ?", [key]).fetchone()
    sealed = store.sealer().seal(plain, row)
    store.db.execute(f"UPDATE {column.table} SET {column.column} = ? WHERE {column.key} = ?", [sealed, key])


def start_worker(*args: str, **popen: object) -> subprocess.Popen:
    """Start ``python -m tests.store_helpers <args>`` with text pipes for stdin and stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store_helpers", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        **popen,
    )


def run_worker(*args: str, timeout: float = 60) -> dict:
    """Run a worker to completion and return the JSON object it printed last."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.store_helpers", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def error_report(error: BaseException) -> dict:
    return {"error": type(error).__name__, "store_error": isinstance(error, StoreError), "message": str(error)}


# --- workers ---------------------------------------------------------------------------------------


def _emit(value: object) -> None:
    print(json.dumps(value) if not isinstance(value, str) else value, flush=True)


def worker_open_at(paths_file: str, start: str, spacing: str) -> None:
    """Open each listed (new) file at start + i * spacing (wall clock), reporting the outcome per file."""
    from faceguard.store.migrations import schema_version

    paths = Path(paths_file).read_text().split("\n")
    for index, path in enumerate(paths):
        moment = float(start) + index * float(spacing)
        while time.time() < moment:
            pass
        try:
            with Store.open(path) as store:
                _emit({"path": path, "version": schema_version(store.db)})
        except Exception as error:  # noqa: BLE001 - reported to the test
            _emit({"path": path, **error_report(error)})


def worker_enroll_forever(path: str, seed: str) -> None:
    """Enroll people one after another (1 template, then a 2nd), printing each commit."""
    rng = np.random.default_rng(int(seed))
    store = Store.open(path)
    index = 0
    while True:
        person = store.enroll(f"Person {seed}-{index}", new_template(rng), badge=f"B{seed}-{index}")
        _emit(f"P {person.id}")
        template_id = store.add_template(person.id, new_template(rng))
        _emit(f"T {person.id} {template_id}")
        index += 1


def worker_hold_write_lock(path: str) -> None:
    """Hold a write transaction (a pending setting) until a line arrives on stdin, then commit it."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('held', '1')")
    _emit("locked")
    sys.stdin.readline()
    connection.execute("COMMIT")
    connection.close()
    _emit("released")


def worker_serve(path: str) -> None:
    """Apply one change per stdin command and reply (after the commit) with a JSON line."""
    rng = np.random.default_rng(7)
    with Store.open(path) as store:
        _emit({"ready": True})
        for line in sys.stdin:
            command, *args = line.split()
            if command == "enroll":
                _emit({"id": store.enroll(args[0], new_template(rng)).id})
            elif command == "add-template":
                _emit({"id": store.add_template(int(args[0]), new_template(rng))})
            elif command == "deactivate":
                _emit({"id": store.set_active(int(args[0]), False).id})
            elif command == "rename":
                _emit({"id": store.update_person(int(args[0]), name=args[1]).id})
            elif command == "remove":
                _emit({"id": store.remove_person(int(args[0])).id})
            elif command == "quit":
                return


def worker_hammer_writer(path: str, steps: str) -> None:
    """Enroll, add templates, log events and deactivate in turn, ``steps`` changes in all; report every
    commit counted."""
    rng = np.random.default_rng(11)
    picker = random.Random(11)
    store = Store.open(path)
    counts = {"enrolled": 0, "added_templates": 0, "events": 0, "snapshots": 0}
    deactivated: set[int] = set()
    people: list[int] = []
    errors: list[str] = []
    for step in range(1, int(steps) + 1):
        try:
            if step % 4 == 1 or not people:
                person = store.enroll(f"Hammer {step}", new_template(rng), group="load")
                people.append(person.id)
                counts["enrolled"] += 1
            elif step % 4 == 2:
                store.add_template(picker.choice(people), new_template(rng))
                counts["added_templates"] += 1
            elif step % 4 == 3:
                snapshot = tiny_jpeg(rng) if step % 3 == 0 else None
                store.log_event(
                    "granted",
                    "matched",
                    person_id=picker.choice(people),
                    distance=0.3,
                    threshold=0.6,
                    model_id=MODEL,
                    snapshot=snapshot,
                )
                counts["events"] += 1
                counts["snapshots"] += snapshot is not None
            else:
                victim = picker.choice(people)
                store.set_active(victim, False)
                deactivated.add(victim)
        except Exception as error:  # noqa: BLE001 - reported to the test
            errors.append(repr(error))
        time.sleep(0.002)
    store.close()
    _emit({**counts, "deactivated": sorted(deactivated), "errors": errors[:20], "error_count": len(errors)})


def worker_hammer_reader(path: str, done_flag: str) -> None:
    """Once ready, refresh a LiveGallery and read people, events and encodings in a loop until
    ``done_flag`` exists (the writer has finished), then refresh once more; report what happened."""
    from faceguard.store.live_gallery import LiveGallery

    errors: list[str] = []
    iterations = 0
    gallery_sizes: set[int] = set()  # the states of the file this reader saw
    store = Store.open(path)
    live = LiveGallery.load(store, MODEL, DIM)
    _emit({"ready": True})
    while not Path(done_flag).exists():
        try:
            live.refresh()
            gallery_sizes.add(len(live))
            store.people()
            store.events(limit=50)
            ids, encodings = store.load_encodings(MODEL)
            assert len(ids) == len(encodings)
            iterations += 1
        except Exception as error:  # noqa: BLE001 - reported to the test
            errors.append(repr(error))
    live.refresh()
    inactive = sorted(pid for pid in live.gallery.identities if not live.status_of(pid).active)
    store.close()
    _emit(
        {
            "iterations": iterations,
            "gallery_sizes_seen": len(gallery_sizes),
            "errors": errors[:20],
            "error_count": len(errors),
            "gallery_rows": len(live),
            "gallery_people": len(live.gallery.identities),
            "inactive": inactive,
        }
    )


def worker_door(path: str, door: str, count: str, start: str) -> None:
    """From ``start`` (wall clock), log ``count`` decisions at ``door`` as a kiosk would, one
    transaction each, a few milliseconds apart."""
    with Store.open(path) as store:
        while time.time() < float(start):
            time.sleep(0.001)
        for index in range(int(count)):
            store.log_event("unknown", "no-match", door=door, distance=0.9, message=f"{door} {index}")
            time.sleep(0.003)
    _emit({"door": door, "logged": int(count)})


def worker_as_nobody(action: str, path: str) -> None:
    """Drop root privileges (when running as root), then try ``action`` on ``path`` and report."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    report: dict = {"uid": os.geteuid()}
    try:
        if action == "create":
            Store.open(path).close()
            report["opened"] = True
        elif action == "read-then-write":
            with Store.open(path) as store:
                report["people"] = [person.name for person in store.people()]
                report["counts"] = store.counts()
                report["setting"] = store.get_setting("door")
                try:
                    store.add_person("Mallory")
                    report["write"] = "saved"
                except Exception as error:  # noqa: BLE001 - reported to the test
                    report["write"] = error_report(error)
                report["people_after"] = [person.name for person in store.people()]
    except Exception as error:  # noqa: BLE001 - reported to the test
        report.update(error_report(error))
    _emit(report)


WORKERS = {
    "open-at": worker_open_at,
    "enroll-forever": worker_enroll_forever,
    "hold-write-lock": worker_hold_write_lock,
    "serve": worker_serve,
    "hammer-writer": worker_hammer_writer,
    "hammer-reader": worker_hammer_reader,
    "door": worker_door,
    "as-nobody": worker_as_nobody,
}

if __name__ == "__main__":
    WORKERS[sys.argv[1]](*sys.argv[2:])

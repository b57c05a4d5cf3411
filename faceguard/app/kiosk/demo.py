"""The demo: a fresh database with two enrolled people and the bundled public-domain photos as camera.

Barack Obama is enrolled and active (his other photos are granted); Joe Biden is enrolled but
deactivated (denied, with the reason); astronaut Eileen Collins is not enrolled (unknown face).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from faceguard.access.liveness import LivenessMode
from faceguard.app.settings import KioskSettings, save_settings
from faceguard.core.paths import DEMO_PHOTOS, data_dir
from faceguard.core.private_files import private_folder
from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline

DEMO_PEOPLE: list[tuple[str, str, dict[str, Any]]] = [
    ("Barack Obama", "obama.jpg", {"badge": "DEMO-1", "group": "Staff"}),
    ("Joe Biden", "biden.jpg", {"badge": "DEMO-2", "group": "Visitors", "active": False}),
]


def demo_database() -> Path:
    return data_dir() / "demo" / "faceguard-demo.db"


def demo_settings(photos: Path = DEMO_PHOTOS) -> KioskSettings:
    """The photos as a slide show; a short cooldown so each photo is a fresh visit. Still photos cannot
    turn their heads, so the liveness check is off (``faceguard kiosk --demo --liveness active`` shows a
    photo attack refused)."""
    return KioskSettings(
        site_name="FaceGuard demo", door="Demo door", camera=str(photos), cooldown=2.0, liveness=LivenessMode.OFF
    )


def reset_demo_database(path: Path) -> None:
    """Delete an earlier demo database, so every demo starts from the same state."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    private_folder(path.parent)


def enroll_demo_people(store: Store, pipeline: FacePipeline, photos: Path = DEMO_PHOTOS) -> None:
    """Store the demo's settings (so ``faceguard admin`` on the demo database shows them) and enroll
    the demo people from one photo each; a database that already has people is left as it is."""
    from faceguard.app.enrollment import enroll_photo  # the engine: loaded by the caller's (inference) thread

    if store.people():
        return
    save_settings(store, demo_settings(photos))
    for name, photo, details in DEMO_PEOPLE:
        enroll_photo(store, pipeline, read_image(photos / photo), name, photo, **details)

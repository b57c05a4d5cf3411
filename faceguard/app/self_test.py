"""``faceguard self-test``: prove an installation works, end to end, on the bundled demo photos.

Loads the models, enrolls the demo people (Barack Obama active, Joe Biden deactivated) into a
temporary database the way the demo kiosk does, identifies the demo photos and lets the access
policy judge them (Obama's other photos must be granted to him; Biden, deactivated, and Eileen
Collins, a stranger, must not be granted), then checks the database. Writes nothing outside a
temporary folder (a read-only weights cache only costs a conversion) and needs no network.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from faceguard.access.policy import verify_claim
from faceguard.app.kiosk.demo import DEMO_PEOPLE, enroll_demo_people
from faceguard.app.settings import load_settings
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.clock import SYSTEM_CLOCK
from faceguard.core.errors import FaceGuardError
from faceguard.core.paths import DEMO_PHOTOS, RESOURCES
from faceguard.matching.calibration import CALIBRATION_DIR
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline

#: The demo photos identified after enrollment, and who each must be granted to (None: nobody).
PROBES: dict[str, str | None] = {
    "obama2.jpg": "Barack Obama",
    "obama3.jpg": "Barack Obama",
    "biden.jpg": None,  # enrolled, but deactivated: recognised and denied
    "collins.png": None,  # never enrolled: unknown
}


@dataclass(frozen=True)
class Step:
    """One checked step: its name, whether it passed, how long it took and what it found."""

    name: str
    ok: bool
    seconds: float
    details: tuple[str, ...]


@dataclass
class SelfTestReport:
    model: str = "?"
    device: str = "?"
    weights: str = "?"
    resources: str = str(RESOURCES)
    steps: list[Step] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def header(self) -> list[str]:
        fields = [
            ("model", self.model),
            ("device", self.device),
            ("weights", self.weights),
            ("resources", self.resources),
        ]
        return [f"  {label:<10} {value}" for label, value in fields]

    def verdict(self) -> str:
        ok = sum(step.ok for step in self.steps)
        word = "PASSED" if self.passed else "FAILED"
        return f"{word}: {ok} of {len(self.steps)} steps OK in {self.seconds:.1f} s"


def step_lines(step: Step) -> list[str]:
    """``OK      load models       2.3 s  first detail`` and the further details below it."""
    word = "OK" if step.ok else "FAILED"
    first, *more = step.details or ("",)
    return [f"{word:<7} {step.name:<15} {step.seconds:6.2f} s  {first}".rstrip(), *(f"{'':<34}{m}" for m in more)]


class _StepFailed(Exception):
    """A check inside a step did not hold; the message says which."""


def run_self_test(
    load: Callable[[], FacePipeline],
    photos: Path = DEMO_PHOTOS,
    progress: Callable[[Step], None] | None = None,
) -> SelfTestReport:
    """Run every step in order, each reported through ``progress`` as it ends; a step whose
    prerequisite failed is reported FAILED as skipped. ``load`` returns the engine to test."""
    from faceguard.vision import weights  # torch: only `self-test` itself loads it, not the CLI's other commands

    report = SelfTestReport(weights=weights.describe_source())

    def run(name: str, check: Callable[[], list[str]]) -> bool:
        started = time.perf_counter()
        try:
            details, ok = check(), True
        except (FaceGuardError, _StepFailed, OSError) as error:
            details, ok = str(error).splitlines() or [type(error).__name__], False
        except Exception as error:  # noqa: BLE001 - a self-test reports any failure instead of crashing
            details, ok = [f"{type(error).__name__}: {error}", *traceback.format_exc().splitlines()[-3:-1]], False
        step = Step(name, ok, time.perf_counter() - started, tuple(details))
        report.steps.append(step)
        if progress is not None:
            progress(step)
        return ok

    def skipped(name: str, because: str) -> None:
        run(name, lambda: _fail(f"skipped: {because}"))

    resources_ok = run("resources", lambda: check_resources(photos))
    loaded: list[FacePipeline] = []

    def load_models() -> list[str]:
        pipeline = load()
        loaded.append(pipeline)
        report.model, report.device = pipeline.spec.id, str(pipeline.detector.device)
        calibration = CALIBRATION_DIR / f"{pipeline.spec.id}.json"
        extra = [] if calibration.is_file() else [f"(no calibration file {calibration.name}: the model's threshold)"]
        return [f"{pipeline.spec.id} on {report.device}", *extra]

    if not run("load models", load_models):
        for name in ("enroll", "identify", "check database"):
            skipped(name, "the models did not load")
        return report
    pipeline = loaded[0]
    if not resources_ok:
        for name in ("enroll", "identify", "check database"):
            skipped(name, "the demo photos are missing")
        return report
    with (
        tempfile.TemporaryDirectory(prefix="faceguard-self-test-") as folder,
        Store.open(Path(folder) / "self-test.db", create=True) as store,
    ):
        if not run("enroll", lambda: enroll(store, pipeline, photos)):
            for name in ("identify", "check database"):
                skipped(name, "enrollment failed")
            return report
        run("identify", lambda: identify(store, pipeline, photos))
        run("check database", lambda: check_database(store))
    return report


def _fail(message: str) -> list[str]:
    raise _StepFailed(message)


def check_resources(photos: Path) -> list[str]:
    needed = [photos / name for name in dict.fromkeys([*(photo for _, photo, _ in DEMO_PEOPLE), *PROBES])]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise _StepFailed("missing: " + ", ".join(missing))
    calibrations = sorted(path.stem for path in CALIBRATION_DIR.glob("*.json"))
    return [f"{len(needed)} demo photos in {photos}", f"calibrations: {', '.join(calibrations) or 'none'}"]


def enroll(store: Store, pipeline: FacePipeline, photos: Path) -> list[str]:
    enroll_demo_people(store, pipeline, photos)
    people = store.people()
    if len(people) != len(DEMO_PEOPLE):
        raise _StepFailed(f"{len(people)} people enrolled instead of {len(DEMO_PEOPLE)}")
    photo_of = {name: photo for name, photo, _ in DEMO_PEOPLE}
    return [f"{p.name} from {photo_of.get(p.name)}{'' if p.active else ' (deactivated)'}" for p in people]


def identify(store: Store, pipeline: FacePipeline, photos: Path) -> list[str]:
    """Each probe photo's one face identified at the kiosk's threshold and judged by the access policy."""
    settings = load_settings(store)
    live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    threshold = SiteThreshold.for_model(pipeline.spec, settings.max_fpir, settings.threshold).for_gallery(live.people)
    lines, wrong = [], []
    for photo, expected in PROBES.items():
        found = pipeline.identify(read_image(photos / photo), live.gallery, threshold)
        if len(found) != 1:
            lines.append(f"{photo}: {len(found)} faces found instead of 1")
            wrong.append(photo)
            continue
        _, match = found[0]
        person = live.status_of(match.identity) if match.identity is not None else None
        if person is None:
            granted_to, verdict = None, f"nobody (nearest distance {match.distance:.3f}): UNKNOWN"
        else:
            decision = verify_claim(person, match.accepted, match.distance, match.threshold, SYSTEM_CLOCK.wall())
            granted_to = person.name if decision.granted else None
            reason = "" if decision.granted else f" ({decision.outcome})"
            verdict = f"{person.name} (distance {match.distance:.3f}): {decision.decision.upper()}{reason}"
        ok = granted_to == expected
        wanted = f"granted to {expected}" if expected else "not granted"
        lines.append(f"{photo}: {verdict} - {'as expected' if ok else 'expected ' + wanted}")
        if not ok:
            wrong.append(photo)
    lines.append(f"threshold {threshold:.3f}")
    if wrong:
        raise _StepFailed("\n".join(lines))
    return lines


def check_database(store: Store) -> list[str]:
    problems = store.check()
    if problems:
        raise _StepFailed("\n".join(problems))
    counts = store.counts()
    return [", ".join(f"{value} {name}" for name, value in counts.items()) or "sound"]

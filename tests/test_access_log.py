"""Policy decisions land in the access log with their reason, distance and the person's pseudonym."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from faceguard.access.policy import AccessPolicy, Observation, Outcome, verify_claim
from faceguard.core.types import Thumbnail
from faceguard.matching.gallery import Match
from faceguard.store.access_log import log_decision
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate

W0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


def template() -> NewTemplate:
    encoding = np.random.default_rng(0).normal(size=128).astype(np.float32)
    return NewTemplate("m@1", encoding / np.linalg.norm(encoding), Thumbnail(b"\xff\xd8", np.zeros((5, 2))), {}, "test")


def test_a_granted_decision_from_the_policy_is_logged_with_its_figures(tmp_path):
    with Store.open(tmp_path / "f.db") as store:
        ada = store.enroll("Ada Lovelace", template(), badge="1")
        live = LiveGallery.load(store, "m@1", 128)
        policy = AccessPolicy(live.status_of)
        frames = [
            Observation(
                50.0 + i * 0.1, W0 + timedelta(seconds=i * 0.1), 7, Match(ada.id, ada.id, 0.3 + i / 100, np.inf, 0.6)
            )
            for i in range(3)
        ]
        decision = [policy.observe(frame) for frame in frames][-1]
        event_id = log_decision(store, decision, door="front", model_id="m@1", latency_ms=180.0, snapshot=b"jpeg")
        (event,) = store.events()
        assert event.id == event_id and event.decision == "granted" and event.reason == "granted"
        assert event.person_name == "Ada Lovelace" and event.subject == ada.pseudonym and event.door == "front"
        assert event.distance == 0.31 and event.threshold == 0.6 and event.latency_ms == 180.0
        assert event.time == W0 + timedelta(seconds=0.2) and store.event_snapshot(event_id) == b"jpeg"


def test_a_decision_about_a_person_erased_meanwhile_is_logged_without_them(tmp_path):
    with Store.open(tmp_path / "f.db") as store:
        ada = store.enroll("Ada Lovelace", template())
        status = LiveGallery.load(store, "m@1", 128).status_of(ada.id)
        store.remove_person(ada.id)
        log_decision(store, verify_claim(status, False, 0.9, 0.6, W0), door=None, model_id="m@1")
        (event,) = store.events()
        assert event.reason == Outcome.MISMATCH and event.decision == "denied"
        assert event.person_id is None and event.subject is None

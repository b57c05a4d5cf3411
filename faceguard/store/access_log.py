"""Write the access policy's decisions to the access log."""

from __future__ import annotations

from faceguard.access.policy import Decision
from faceguard.store.events import LivenessRecord
from faceguard.store.repository import Store


def log_decision(
    store: Store,
    decision: Decision,
    *,
    door: str | None,
    model_id: str | None,
    latency_ms: float | None = None,
    snapshot: bytes | None = None,
    liveness: LivenessRecord | None = None,
    door_action: str | None = None,
) -> int:
    """Append ``decision`` (with an optional JPEG face snapshot, the liveness checks' outcome and what
    the door output did) to the access log; returns the event id."""
    return store.log_event(
        decision.decision,
        decision.outcome.value,
        time=decision.time,
        person_id=decision.person.person_id if decision.person is not None else None,
        message=decision.message,
        door=door,
        distance=decision.distance,
        threshold=decision.threshold,
        model_id=model_id,
        latency_ms=latency_ms,
        snapshot=snapshot,
        liveness=liveness,
        door_action=door_action,
    )

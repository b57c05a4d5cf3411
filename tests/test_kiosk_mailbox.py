"""LatestFrame: the one-slot mailbox between the camera thread and the inference thread."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np

from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.vision.camera import Frame

IMAGE = np.zeros((4, 4, 3), np.uint8)


def frame(index):
    return Frame(IMAGE, index, 1000.0 + index, datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=index))


def test_the_newest_frame_wins_and_every_overwritten_frame_is_counted():
    """put() replaces an untaken frame (dropped += 1 each time); take() returns the last one put."""
    box = LatestFrame()
    frames = [frame(i) for i in range(4)]
    for each in frames:
        box.put(each)
    assert box.take(timeout=1.0) is frames[-1]
    assert box.dropped == 3


def test_a_frame_is_taken_once_and_taking_it_leaves_the_slot_empty():
    """A taken frame is not returned again; a put into an empty slot drops nothing."""
    box = LatestFrame()
    first, second = frame(1), frame(2)
    box.put(first)
    assert box.take(timeout=1.0) is first
    assert box.take(timeout=0.01) is None
    box.put(second)
    assert box.take(timeout=1.0) is second
    assert box.dropped == 0


def test_take_times_out_with_none_when_nothing_arrives():
    """take(timeout) waits ``timeout`` seconds, then returns None (were it to wait on, the test's own
    timeout would end it: no upper bound here depends on the machine's speed)."""
    box = LatestFrame()
    start = time.monotonic()
    assert box.take(timeout=0.2) is None
    assert time.monotonic() - start >= 0.15


def test_a_waiting_take_wakes_up_as_soon_as_a_frame_is_put():
    """A consumer blocked in take() with an hour's timeout gets the frame put by another thread: only
    being woken by the put can return it before the hour is out."""
    box = LatestFrame()
    sent, got = frame(7), []
    consumer = threading.Thread(target=lambda: got.append(box.take(timeout=3600.0)), daemon=True)
    consumer.start()
    while not box._ready._waiters:  # white-box: wait until the consumer is blocked in take()
        time.sleep(0.001)
    box.put(sent)
    consumer.join(timeout=600.0)
    assert got == [sent]


def test_producer_and_consumer_threads_never_see_a_frame_twice_and_lose_none_uncounted():
    """Across threads every frame is either taken exactly once or counted in ``dropped``; the consumer
    sees frames in increasing order and always ends with the last frame produced."""
    box = LatestFrame()
    total = 3000
    taken: list[Frame] = []

    def consume():
        while True:
            got = box.take(timeout=5.0)
            if got is None:
                return  # the producer stopped without delivering the last frame: fails below
            taken.append(got)
            if got.index == total - 1:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(total):
        box.put(frame(i))
        if i % 100 == 0:
            time.sleep(0.001)  # let the consumer run now and then, so both paths are exercised
    consumer.join(timeout=30)
    assert not consumer.is_alive()
    indices = [f.index for f in taken]
    assert indices[-1] == total - 1
    assert all(a < b for a, b in pairwise(indices))  # no frame twice, never an older frame
    assert len({id(f) for f in taken}) == len(taken)
    assert len(taken) + box.dropped == total
    assert 0 < box.dropped < total - 1  # both the taken and the overwritten paths happened

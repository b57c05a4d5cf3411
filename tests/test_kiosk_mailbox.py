"""LatestFrame: the one-slot mailbox between the camera thread and the inference thread."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import numpy as np

from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.vision.camera import Frame

IMAGE = np.zeros((4, 4, 3), np.uint8)


def frame(index):
    return Frame(IMAGE, 1000.0 + index, index)


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
    """take(timeout) waits about ``timeout`` seconds, then returns None."""
    box = LatestFrame()
    start = time.monotonic()
    assert box.take(timeout=0.2) is None
    waited = time.monotonic() - start
    assert 0.15 <= waited < 2.0


def test_a_waiting_take_wakes_up_as_soon_as_a_frame_is_put():
    """A consumer blocked in take() gets the frame put by another thread without waiting the timeout out."""
    box = LatestFrame()
    sent = frame(7)
    putter = threading.Timer(0.1, box.put, args=(sent,))
    start = time.monotonic()
    putter.start()
    got = box.take(timeout=10.0)
    waited = time.monotonic() - start
    putter.join()
    assert got is sent
    assert waited < 5.0


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

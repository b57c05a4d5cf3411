"""IouTracker: a face keeps its track id while its box overlaps, greedily by highest IoU."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.app.kiosk.results import FaceState
from faceguard.app.kiosk.tracker import IouTracker, iou
from faceguard.core.types import Face


def box(x1, y1, x2, y2):
    return np.array([x1, y1, x2, y2], np.float32)


def face(x1, y1, x2, y2):
    return Face(box(x1, y1, x2, y2), np.zeros((5, 2), np.float32), 0.99)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),  # identical
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),  # disjoint
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),  # touching edges only
        ((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3),  # half of each overlaps: 50 / 150
        ((0, 0, 10, 10), (0, 0, 5, 10), 0.5),  # one inside the other, half its area
        ((0, 0, 10, 10), (6, 0, 16, 10), 0.25),  # 40 / 160
    ],
)
def test_iou_values(a, b, expected):
    """iou() of (x1, y1, x2, y2) boxes, symmetric, as a Python float."""
    assert iou(box(*a), box(*b)) == pytest.approx(expected)
    assert iou(box(*b), box(*a)) == pytest.approx(expected)
    assert type(iou(box(*a), box(*b))) is float


def test_new_faces_start_fresh_tracks_in_detection_order():
    """Unmatched detections get ids 1, 2, … with first_seen = last_seen = now and nothing decided."""
    tracker = IouTracker()
    a, b = face(0, 0, 100, 100), face(300, 0, 400, 100)
    tracks, ended = tracker.update([a, b], 5.0)
    assert [t.track_id for t in tracks] == [1, 2]
    assert [t.face for t in tracks] == [a, b]
    assert ended == []
    assert sorted(tracker.tracks) == [1, 2]
    for t in tracks:
        assert (t.first_seen, t.last_seen, t.encoded_at, t.decided, t.state, t.label) == (
            5.0,
            5.0,
            None,
            False,
            FaceState.PENDING,
            "",
        )


def test_a_box_moving_a_little_keeps_its_track():
    """A detection overlapping a track (IoU >= min_iou) continues it: same id and object, face and
    last_seen updated, first_seen kept."""
    tracker = IouTracker()
    [first], _ = tracker.update([face(100, 100, 200, 200)], 1.0)
    moved = face(110, 105, 210, 205)
    [again], ended = tracker.update([moved], 1.1)
    assert again is first
    assert (again.track_id, again.face, again.first_seen, again.last_seen) == (1, moved, 1.0, 1.1)
    assert ended == []


def test_an_overlap_of_a_third_continues_a_track_but_a_quarter_does_not():
    """The default min_iou 0.3 separates IoU 1/3 (same track) from IoU 1/4 (new track)."""
    tracker = IouTracker()
    tracker.update([face(0, 0, 10, 10)], 0.0)
    [same], _ = tracker.update([face(5, 0, 15, 10)], 0.1)  # IoU 1/3 with the track's box
    assert same.track_id == 1
    [other], _ = tracker.update([face(11, 0, 21, 10)], 0.2)  # IoU 0.25 with (5, 0, 15, 10)
    assert other.track_id == 2
    assert sorted(tracker.tracks) == [1, 2]  # the old track lives on until max_age


def test_a_far_box_is_a_new_track():
    """A detection that overlaps no track starts a new id; the old track is not returned as seen."""
    tracker = IouTracker()
    tracker.update([face(0, 0, 100, 100)], 0.0)
    tracks, ended = tracker.update([face(500, 500, 600, 600)], 0.1)
    assert [t.track_id for t in tracks] == [2]
    assert ended == []
    assert tracker.tracks[1].last_seen == 0.0


def test_two_faces_keep_their_ids_whatever_the_detection_order():
    """Tracks follow boxes, not list positions: detections listed in reverse order map back by overlap."""
    tracker = IouTracker()
    left, right = face(0, 0, 100, 100), face(300, 0, 400, 100)
    tracker.update([left, right], 0.0)
    tracks, _ = tracker.update([face(305, 2, 405, 102), face(4, 1, 104, 101)], 0.1)
    assert [t.track_id for t in tracks] == [2, 1]


def test_two_faces_that_swapped_places_swap_ids():
    """Two people who exchange places between frames are matched by position: the left box keeps
    the left track's id (the tracker sees boxes; telling people apart is the encoder's job)."""
    tracker = IouTracker()
    tracker.update([face(0, 0, 100, 100), face(300, 0, 400, 100)], 0.0)
    tracks, _ = tracker.update([face(300, 0, 400, 100), face(0, 0, 100, 100)], 0.1)
    assert [t.track_id for t in tracks] == [2, 1]


def test_matching_is_greedy_by_highest_overlap():
    """When two detections overlap one track, the higher IoU wins it and the other starts a track,
    whatever their order in the detection list."""
    for order in (0, 1):
        tracker = IouTracker()
        tracker.update([face(0, 0, 100, 100)], 0.0)
        close, loose = face(5, 0, 105, 100), face(40, 0, 140, 100)  # IoU 0.90 and 0.43
        detections = [close, loose] if order == 0 else [loose, close]
        tracks, _ = tracker.update(detections, 0.1)
        by_face = {id(t.face): t.track_id for t in tracks}
        assert by_face[id(close)] == 1
        assert by_face[id(loose)] == 2


def test_greedy_assignment_takes_the_best_pair_first_across_tracks():
    """Two tracks competing for one detection: the track with the higher IoU gets it; the other stays
    unseen (not in the returned tracks) but alive."""
    tracker = IouTracker()
    tracker.update([face(0, 0, 100, 100), face(60, 0, 160, 100)], 0.0)
    [seen], _ = tracker.update([face(50, 0, 150, 100)], 0.1)  # IoU 0.33 with track 1, 0.82 with track 2
    assert seen.track_id == 2
    assert tracker.tracks[1].last_seen == 0.0


def test_a_track_unseen_longer_than_max_age_ends_and_one_seen_within_it_survives():
    """Unseen for exactly max_age: alive; longer: ended (its id returned once and removed)."""
    tracker = IouTracker(max_age=0.7)
    a, b = face(0, 0, 100, 100), face(300, 0, 400, 100)
    tracker.update([a, b], 0.0)
    _, ended = tracker.update([a], 0.5)
    assert ended == []
    _, ended = tracker.update([a], 0.7)  # b unseen for exactly 0.7 s
    assert ended == []
    assert sorted(tracker.tracks) == [1, 2]
    _, ended = tracker.update([a], 0.75)
    assert ended == [2]
    assert sorted(tracker.tracks) == [1]
    _, ended = tracker.update([], 0.8)
    assert ended == []  # reported once


def test_frames_without_faces_end_tracks_and_a_returning_face_gets_a_new_id():
    """Empty frames age tracks too; a face back in the same place after max_age is a new track
    (ids are never reused)."""
    tracker = IouTracker(max_age=0.7)
    same = face(0, 0, 100, 100)
    tracker.update([same], 0.0)
    assert tracker.update([], 0.5) == ([], [])
    assert tracker.update([], 1.0) == ([], [1])
    assert tracker.tracks == {}
    [back], _ = tracker.update([same], 1.1)
    assert back.track_id == 2


def test_restart_gives_a_new_id_and_starts_the_appearance_afresh():
    """restart(): returns the old id, re-keys the same Track under a new id with first_seen = now and
    decided = False; the box keeps being followed under the new id."""
    tracker = IouTracker()
    [track], _ = tracker.update([face(0, 0, 100, 100)], 0.0)
    tracker.update([face(0, 0, 100, 100), face(300, 0, 400, 100)], 0.5)  # uses id 2
    track.decided = True
    old = tracker.restart(track, 1.0)
    assert old == 1
    assert track.track_id == 3
    assert (track.first_seen, track.decided, track.last_seen) == (1.0, False, 0.5)
    assert sorted(tracker.tracks) == [2, 3]
    assert tracker.tracks[3] is track
    [again, _], _ = tracker.update([face(2, 0, 102, 100), face(300, 0, 400, 100)], 1.1)
    assert again is track and again.track_id == 3


def test_a_track_older_than_max_age_is_not_continued_by_the_next_frame():
    """Frames pause for 1 s (> max_age 0.7): the face seen in the same place afterwards is a new track
    and the old one is reported ended, as if the empty frames had been processed."""
    tracker = IouTracker(max_age=0.7)
    same = face(0, 0, 100, 100)
    tracker.update([same], 0.0)
    [track], ended = tracker.update([same], 1.0)
    assert (track.track_id, ended) == (2, [1])

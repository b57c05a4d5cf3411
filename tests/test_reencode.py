"""Re-encoding the enrolled faces with another model, from the thumbnails in a real SQLite file."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.app.reencode import reencode
from faceguard.cli import main
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.sealing import THUMBNAILS
from faceguard.vision.align import align_face
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.thumbnail import decode_thumbnail
from tests.model_helpers import export_tiny
from tests.store_helpers import write_sealed


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_MODELS_DIR", str(folder))
        export_tiny(folder)
        yield folder


@pytest.fixture(scope="module")
def small(models_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_MODELS_DIR", str(models_dir))
        return FacePipeline.load(device="cpu", model="tiny")


@pytest.fixture
def enrolled(store, pipeline, photo):
    """Obama (two photos) and Biden (one), enrolled with the default (builtin) model."""
    obama = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    store.add_template(obama.id, prepare_template(pipeline, photo("obama3.jpg"), "photo:obama3.jpg")[0])
    biden = enroll_photo(store, pipeline, photo("biden.jpg"), "Joe Biden", "photo:biden.jpg")
    return obama, biden


def templates_of(store, person, model_id):
    return [t for t in store.templates(person.id) if t.model_id == model_id]


def test_every_face_gets_a_template_of_the_new_model_and_the_old_ones_stay(store, enrolled, small, pipeline):
    obama, biden = enrolled
    report = reencode(store, small)
    assert (report.people, report.reencoded, report.already_done, report.failed) == (2, 3, 0, [])
    assert "kept" in report.summary()
    for person, sources in ((obama, ["photo:obama.jpg", "photo:obama3.jpg"]), (biden, ["photo:biden.jpg"])):
        old, new = templates_of(store, person, pipeline.spec.id), templates_of(store, person, "tiny@1")
        assert [t.source for t in old] == [t.source for t in new] == sources
        for before, after in zip(old, new):
            thumbnail = store.thumbnail(before.id)
            assert store.thumbnail(after.id).jpeg == thumbnail.jpeg and after.quality == before.quality
            chip = align_face(decode_thumbnail(thumbnail), thumbnail.landmarks, np.asarray(small.spec.template), 112)
            np.testing.assert_allclose(after.encoding, small.encode(chip[None])[0], atol=1e-6)
    live = LiveGallery.load(store, small.spec.id, small.spec.dim)
    assert len(live) == 3 and len(LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)) == 3
    (match,) = live.identify(templates_of(store, biden, "tiny@1")[0].encoding[None], 0.01)
    assert match.identity == biden.id


def test_running_it_again_adds_nothing(store, enrolled, small, pipeline):
    reencode(store, small)
    count = store.counts()["templates"]
    again = reencode(store, small)
    assert (again.reencoded, again.already_done, again.failed) == (0, 3, [])
    back = reencode(store, pipeline)  # switching back to the default: its templates are all still there
    assert (back.reencoded, back.already_done) == (0, 3)
    assert store.counts()["templates"] == count == 6


def test_a_face_enrolled_later_is_the_only_one_encoded(store, enrolled, small, pipeline, photo):
    obama, _ = enrolled
    reencode(store, small)
    store.add_template(obama.id, prepare_template(pipeline, photo("obama2.jpg"), "photo:obama2.jpg")[0])
    report = reencode(store, small)
    assert (report.reencoded, report.already_done) == (1, 3)
    assert [t.source for t in templates_of(store, obama, "tiny@1")][-1] == "photo:obama2.jpg"


def test_a_corrupt_thumbnail_is_reported_and_the_rest_go_on(store, enrolled, small):
    obama, biden = enrolled
    broken = store.templates(obama.id)[0].id
    write_sealed(store, THUMBNAILS, broken, b"not a jpeg")
    report = reencode(store, small)
    assert report.reencoded == 2 and len(report.failed) == 1
    (failure,) = report.failed
    assert (failure.person_id, failure.template_id) == (obama.id, broken) and "not a readable image" in failure.reason
    assert [t.source for t in templates_of(store, obama, "tiny@1")] == ["photo:obama3.jpg"]
    assert len(templates_of(store, biden, "tiny@1")) == 1
    assert "1 failed" in report.summary()


def test_faces_enrolled_with_another_model_are_recognised_by_the_default_model_after_reencoding(
    store, small, pipeline, photo
):
    """The thumbnail path works for a real model: enrolled with the small one, re-encoded into the default
    builtin model, the person is recognised by that model's normal identify and a stranger is not."""
    person = enroll_photo(store, small, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    assert len(LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)) == 0
    assert reencode(store, pipeline).reencoded == 1
    live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    ((_, match),) = pipeline.identify(photo("obama2.jpg"), live.gallery)
    ((_, stranger),) = pipeline.identify(photo("biden.jpg"), live.gallery)
    assert match.identity == person.id and stranger.identity is None


def test_the_cli_reencodes_and_reports(store, enrolled, models_dir, monkeypatch, capsys):
    monkeypatch.setenv("FACEGUARD_MODELS_DIR", str(models_dir))
    args = ["people", "reencode", "--model", "tiny", "--device", "cpu", "--db", str(store.path)]
    assert main(args) == 0
    assert "2 people: 3 face templates re-encoded with tiny@1, 0 already done" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 face templates re-encoded with tiny@1, 3 already done" in capsys.readouterr().out
    assert main(["people", "show", "Joe Biden", "--db", str(store.path)]) == 0
    assert "tiny@1" in capsys.readouterr().out
    assert main(["people", "reencode", "--model", "nothing", "--db", str(store.path)]) == 2
    assert "Unknown model 'nothing'" in capsys.readouterr().err

"""One-shot enrollment from real photos into a real SQLite file, and identification through the store."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.enrollment import add_photo, enroll_photo
from faceguard.errors import FaceTooSmallError, MultipleFacesError, NoFaceError
from faceguard.matching import face_distance
from faceguard.store.live_gallery import LiveGallery
from faceguard.vision.align import align_face


def test_one_photo_enrolls_a_person_who_is_then_recognised_in_another_photo(store, pipeline, photo):
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg", badge="44")
    live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    (_, match), = pipeline.identify(photo("obama2.jpg"), live.gallery)
    (_, stranger), = pipeline.identify(photo("biden.jpg"), live.gallery)
    assert person.templates == 1 and match.identity == person.id
    assert stranger.identity is None and stranger.nearest == person.id


def test_the_stored_template_keeps_the_encoding_quality_and_source(store, pipeline, photo):
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    (template,) = store.templates(person.id)
    expected = pipeline.enroll(photo("obama.jpg"))[0].encoding
    assert template.model_id == pipeline.spec.id and template.source == "photo:obama.jpg"
    np.testing.assert_allclose(template.encoding, expected, atol=1e-6)
    assert template.quality["face_size"] > 80 and template.quality["sharpness"] > 40


def test_the_thumbnail_re_encodes_close_to_the_original_encoding(store, pipeline, photo):
    """A later model re-encodes from the thumbnail: aligning it by its stored landmarks must give
    nearly the chip of the original photo (JPEG and resampling cost ~0.05, the threshold is 0.6)."""
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    (template,) = store.templates(person.id)
    thumbnail = store.thumbnail(template.id)
    chip = align_face(thumbnail.decode(), thumbnail.landmarks, np.asarray(pipeline.spec.template), pipeline.spec.input_size)
    again = pipeline.encode(chip[None])[0]
    assert float(face_distance(again, template.encoding)[0, 0]) < 0.08


def test_more_photos_add_templates_to_the_same_person(store, pipeline, photo):
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    add_photo(store, pipeline, person, photo("obama3.jpg"), "photo:obama3.jpg")
    assert store.person(person.id).templates == 2
    assert [t.source for t in store.templates(person.id)] == ["photo:obama.jpg", "photo:obama3.jpg"]


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (lambda photo: photo("cat.jpg"), NoFaceError),
        (lambda photo: np.hstack([photo("obama.jpg"), photo("obama.jpg")]), MultipleFacesError),
        (lambda photo: photo("obama.jpg")[::6, ::6].copy(), FaceTooSmallError),
    ],
    ids=["no face", "two faces", "too small"],
)
def test_a_rejected_photo_stores_nothing(store, pipeline, photo, image, error):
    enroll_photo(store, pipeline, photo("biden.jpg"), "Joe Biden", "photo:biden.jpg")
    before = store.counts()
    with pytest.raises(error):
        enroll_photo(store, pipeline, image(photo), "Somebody", "photo:x.jpg")
    assert store.counts() == before and [p.name for p in store.people()] == ["Joe Biden"]

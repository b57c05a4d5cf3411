"""One-shot enrollment from real photos into a real SQLite file, and identification through the store;
photos below the recommended quality only when the admin accepts them, never unusable ones."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.core.errors import FaceTooSmallError, MultipleFacesError, NoFaceError, QualityError
from faceguard.matching.gallery import face_distance
from faceguard.store.live_gallery import LiveGallery
from faceguard.vision.align import align_face
from faceguard.vision.quality import assess_quality, check_quality, check_usable
from faceguard.vision.thumbnail import decode_thumbnail


def test_one_photo_enrolls_a_person_who_is_then_recognised_in_another_photo(store, pipeline, photo):
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg", badge="44")
    live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    ((_, match),) = pipeline.identify(photo("obama2.jpg"), live.gallery)
    ((_, stranger),) = pipeline.identify(photo("biden.jpg"), live.gallery)
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
    nearly the chip of the original photo. The bound is relative to the model's threshold: for
    dlib-resnet@1 it was 0.08 against 0.599 (JPEG and resampling cost it ~0.045, 0.075 of its threshold;
    SFace and so dlib-sface@1 lose ~0.11 of theirs, almost all of it in SFace's half)."""
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    (template,) = store.templates(person.id)
    thumbnail = store.thumbnail(template.id)
    chip = align_face(
        decode_thumbnail(thumbnail), thumbnail.landmarks, np.asarray(pipeline.spec.template), pipeline.spec.input_size
    )
    again = pipeline.encode(chip[None])[0]
    assert float(face_distance(again, template.encoding)[0, 0]) < 0.133 * pipeline.threshold


def test_more_photos_add_templates_to_the_same_person(store, pipeline, photo):
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    store.add_template(person.id, prepare_template(pipeline, photo("obama3.jpg"), "photo:obama3.jpg")[0])
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


def blurred(photo, sigma: float = 5.5) -> np.ndarray:
    """obama.jpg slightly out of focus: the face is usable but below the recommended sharpness."""
    return cv2.GaussianBlur(photo("obama.jpg"), (0, 0), sigma)


def test_a_photo_below_the_recommended_quality_is_refused_unless_accepted_then_recorded(store, pipeline, photo):
    with pytest.raises(QualityError) as refused:
        prepare_template(pipeline, blurred(photo), "photo:blurred.jpg")
    template, report = prepare_template(pipeline, blurred(photo), "photo:blurred.jpg", accept_low_quality=True)
    assert "blurred" in str(refused.value) and template.accepted_below == str(refused.value)
    assert template.quality == {**report.as_dict(), "accepted_below": str(refused.value)}
    person = store.enroll("Barack Obama", template)
    (stored,) = store.templates(person.id)
    assert stored.accepted_below == str(refused.value) and stored.quality["sharpness"] < 40
    live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    ((_, match),) = pipeline.identify(photo("obama2.jpg"), live.gallery)
    assert match.identity == person.id  # still recognised, if less reliably


def test_a_photo_of_the_recommended_quality_records_no_warning(pipeline, photo):
    template, _ = prepare_template(pipeline, photo("obama.jpg"), "photo:obama.jpg", accept_low_quality=True)
    assert template.accepted_below is None and "accepted_below" not in template.quality


@pytest.mark.parametrize(
    "image",
    [lambda photo: photo("cat.jpg"), lambda photo: np.hstack([photo("obama.jpg"), photo("obama.jpg")])],
    ids=["no face", "two faces"],
)
def test_accepting_low_quality_never_enrolls_a_photo_without_exactly_one_face(pipeline, photo, image):
    with pytest.raises((NoFaceError, MultipleFacesError)):
        prepare_template(pipeline, image(photo), "photo:x.jpg", accept_low_quality=True)


@pytest.mark.parametrize(
    "degrade",
    [
        lambda image: cv2.resize(image, None, fx=0.08, fy=0.08, interpolation=cv2.INTER_AREA),
        lambda image: cv2.GaussianBlur(image, (0, 0), 15),
        lambda image: (image * 0.05).astype(np.uint8),
        lambda image: np.clip(image.astype(np.float32) * 4, 0, 255).astype(np.uint8),
    ],
    ids=["tiny", "very blurred", "very dark", "burnt out"],
)
def test_accepting_overrides_exactly_the_recommended_checks_never_an_unusable_face(pipeline, photo, degrade):
    """Whatever check_usable refuses stays refused with accept_low_quality; everything else it lets through
    is enrolled with the warning of check_quality."""
    image = degrade(photo("obama.jpg"))
    face = pipeline.single_face(image)
    report = assess_quality(image, face)
    try:
        check_usable(report)
    except QualityError as unusable:
        with pytest.raises(type(unusable), match=re.escape(str(unusable))):
            pipeline.enroll(image, accept_low_quality=True)
        return
    with pytest.raises(QualityError) as below:
        check_quality(report)
    enrolled, _ = pipeline.enroll(image, accept_low_quality=True)
    assert enrolled.accepted_below == str(below.value)

"""The fused encoder on real photos: each branch sees what its network sees alone, and the distance is
the weighted sum of the two models' squared distances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceguard.vision.align import align_face
from faceguard.vision.detector import RetinaFaceDetector
from faceguard.vision.encoder import load_encoder
from faceguard.vision.image_io import read_image
from faceguard.vision.networks.fusion import SFACE_WEIGHT, fused_template
from faceguard.vision.spec import DLIB_RESNET_V1, DLIB_SFACE_V1, SFACE_V1, ModelSpec

PHOTOS = ("obama.jpg", "obama2.jpg", "biden.jpg")


@pytest.fixture(scope="module")
def faces():
    detector = RetinaFaceDetector.load(torch.device("cpu"))
    images = {name: read_image(f"resources/demo/{name}") for name in PHOTOS}
    return {name: (image, detector.detect(image)[0].landmarks) for name, image in images.items()}


def encode(spec: ModelSpec, faces, flip: bool = False) -> dict[str, np.ndarray]:
    encoder = load_encoder(spec, "cpu")
    template = np.asarray(spec.template, np.float32)
    return {
        name: encoder.encode(align_face(image, landmarks, template, spec.input_size), flip=flip)[0]
        for name, (image, landmarks) in faces.items()
    }


def test_the_fused_template_holds_dlibs_chip_at_the_offset():
    np.testing.assert_allclose(DLIB_SFACE_V1.template, fused_template(np.asarray(DLIB_RESNET_V1.template)), atol=1e-5)


def test_each_branch_encodes_what_its_network_encodes_alone(faces):
    fused = encode(DLIB_SFACE_V1, faces)
    dlib, sface = encode(DLIB_RESNET_V1, faces), encode(SFACE_V1, faces)
    for name in PHOTOS:
        np.testing.assert_allclose(fused[name][:128], dlib[name], atol=2e-3)  # the same chip, cut from a larger one
        sface_part = fused[name][128:] / SFACE_WEIGHT
        assert np.linalg.norm(sface_part) == pytest.approx(1.0, abs=1e-5)
        assert float(sface_part @ sface[name]) > 0.98  # resampled from the fused chip, not from the photo


def test_the_fused_distance_weighs_both_models_and_separates_people(faces):
    fused, dlib, sface = encode(DLIB_SFACE_V1, faces), encode(DLIB_RESNET_V1, faces), encode(SFACE_V1, faces)

    def distance(encodings, a, b):
        return float(np.linalg.norm(encodings[a] - encodings[b]))

    for a, b in (("obama.jpg", "obama2.jpg"), ("obama.jpg", "biden.jpg")):
        expected = np.hypot(distance(dlib, a, b), SFACE_WEIGHT * distance(sface, a, b))
        assert distance(fused, a, b) == pytest.approx(expected, rel=0.05)
    assert (
        distance(fused, "obama.jpg", "obama2.jpg") < DLIB_SFACE_V1.threshold < distance(fused, "obama.jpg", "biden.jpg")
    )

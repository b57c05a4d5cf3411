import numpy as np
import pytest

from faceguard.core.errors import ModelMismatchError
from faceguard.matching.gallery import Gallery, face_distance, verify

MODEL = "test-model@1"


def unit_rows(rng: np.random.Generator, count: int, dim: int = 128) -> np.ndarray:
    rows = rng.standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_face_distance_equals_naive_euclidean():
    rng = np.random.default_rng(1)
    a, b = unit_rows(rng, 5), unit_rows(rng, 7)
    naive = np.array([[np.linalg.norm(x - y) for y in b] for x in a])
    np.testing.assert_allclose(face_distance(a, b), naive, atol=1e-5)


def test_verify_uses_closest_reference_template():
    rng = np.random.default_rng(2)
    refs = unit_rows(rng, 3)
    same, distance = verify(refs[1] + 0.01, refs, threshold=0.6)
    assert same and distance == pytest.approx(np.linalg.norm(np.full(128, 0.01)), abs=1e-5)
    same, _ = verify(-refs[0], refs[:1], threshold=0.6)
    assert not same


def test_verify_accepts_the_threshold_itself_and_never_a_nan_distance():
    reference = np.zeros((1, 128), np.float32)
    probe = np.zeros(128, np.float32)
    probe[0] = 0.5
    assert verify(probe, reference, threshold=0.5) == (True, 0.5)
    probe[1] = np.nan
    same, distance = verify(probe, reference, threshold=0.5)
    assert not same and np.isnan(distance)


def test_identify_matches_brute_force_with_several_templates_per_identity():
    rng = np.random.default_rng(3)
    gallery = Gallery(MODEL, 128, capacity=4)  # small capacity exercises growth
    templates = {name: unit_rows(rng, 3) for name in ["ann", "bob", "cy", "dee"]}
    for name, rows in templates.items():
        gallery.add(name, rows, MODEL)
    probes = unit_rows(rng, 20) * 0.3 + templates["bob"][0] * 0.7
    for probe, match in zip(probes, gallery.identify(probes, threshold=10.0, model_id=MODEL)):
        per_identity = {n: face_distance(probe, rows).min() for n, rows in templates.items()}
        ranked = sorted(per_identity, key=per_identity.get)
        assert match.identity == match.nearest == ranked[0]
        assert match.distance == pytest.approx(per_identity[ranked[0]], abs=1e-4)
        assert match.runner_up_distance == pytest.approx(per_identity[ranked[1]], abs=1e-4)


def test_identify_rejects_beyond_threshold_but_reports_nearest():
    rng = np.random.default_rng(4)
    gallery = Gallery(MODEL, 128)
    gallery.add("ann", unit_rows(rng, 1), MODEL)
    (match,) = gallery.identify(unit_rows(rng, 1), threshold=0.6, model_id=MODEL)
    assert match.identity is None and match.nearest == "ann" and match.distance > 0.6
    assert match.runner_up_distance == float("inf")


def test_remove_forgets_every_template_and_keeps_others():
    rng = np.random.default_rng(5)
    gallery = Gallery(MODEL, 128)
    ann, bob = unit_rows(rng, 2), unit_rows(rng, 1)
    gallery.add("ann", ann, MODEL)
    gallery.add("bob", bob, MODEL)
    gallery.add("ann", unit_rows(rng, 1), MODEL)
    assert gallery.remove("ann") == 3 and gallery.remove("ann") == 0
    assert len(gallery) == 1 and gallery.identities == {"bob"}
    (match,) = gallery.identify(ann[0], threshold=10.0, model_id=MODEL)
    assert match.identity == "bob"


def test_empty_gallery_matches_nobody():
    (match,) = Gallery(MODEL, 128).identify(np.zeros(128), threshold=0.6, model_id=MODEL)
    assert match.identity is None and match.nearest is None and not match.accepted


def test_other_models_encodings_are_refused():
    gallery = Gallery(MODEL, 128)
    with pytest.raises(ModelMismatchError, match="re-encode"):
        gallery.add("ann", np.zeros(128), "other@1")
    with pytest.raises(ModelMismatchError):
        gallery.identify(np.zeros(128), threshold=0.6, model_id="other@1")
    with pytest.raises(ValueError, match="128-d"):
        gallery.add("ann", np.zeros(64), MODEL)

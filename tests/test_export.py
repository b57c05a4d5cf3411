"""Exporting a training checkpoint as a model, and running it through the kiosk's normal path."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from faceguard.app.enrollment import enroll_photo
from faceguard.cli import main
from faceguard.core.errors import ConflictError, FaceGuardError, MissingWeightsError
from faceguard.evaluation.metrics import accuracy_at
from faceguard.matching.gallery import Match
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.training.export import CHECKPOINT_FORMAT, export_checkpoint
from faceguard.vision.encoder import Encoder, load_encoder
from faceguard.vision.networks import ARCHITECTURES
from faceguard.vision.networks.dlib_resnet import DlibResNet, dlib_state_dict
from faceguard.vision.networks.small_facenet import SmallFaceNet
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import BUILTIN_MODELS, DLIB_RESNET_V1, get_model_spec, list_models

from .conftest import DATA

BUILTINS = [spec.id for spec in BUILTIN_MODELS.values()]  # listed first, in this order


@pytest.fixture(autouse=True)
def models_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("FACEGUARD_MODELS_DIR", str(folder))
    return folder


def small_model(seed: int = 0) -> SmallFaceNet:
    """A seeded SmallFaceNet whose BatchNorm statistics have moved off their initial values."""
    torch.manual_seed(seed)
    model = SmallFaceNet().train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.rand(8, 3, 112, 112) * 255)
    return model.eval()


def write_checkpoint(path: Path, model: torch.nn.Module, **overrides) -> Path:
    """A checkpoint shaped like the training loop's, numpy random state and numpy numbers included."""
    size, template = ARCHITECTURES["small-facenet"]
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "architecture": "small-facenet",
        "state_dict": model.state_dict(),
        "input_size": size,
        "template": [list(point) for point in template],
        "dim": 128,
        "normalize": True,
        "epoch": 3,
        "config": {"lr": 2e-3, "template": tuple(map(tuple, np.asarray(template, np.float32)))},
        "metrics": {"threshold": 0.9, "val_auc": np.float64(0.8)},
        "optimizer": {"state": {}, "param_groups": []},
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        **overrides,
    }
    torch.save(checkpoint, path)
    return path


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    return write_checkpoint(tmp_path / "checkpoint-best.pt", small_model())


def test_export_writes_the_spec_and_weights(checkpoint, models_dir):
    spec = export_checkpoint(checkpoint, "tiny")
    assert spec.id == "tiny@1" and spec.architecture == "small-facenet" and spec.normalize and not spec.flip
    assert (spec.input_size, spec.dim, spec.distance, spec.threshold) == (112, 128, "euclidean", 0.9)
    assert np.allclose(spec.template, ARCHITECTURES["small-facenet"].template)
    assert spec.weights_source == "trained: checkpoint-best.pt, epoch 3"
    assert sorted(p.name for p in models_dir.iterdir()) == ["tiny.json", "tiny.pt"]
    assert json.loads((models_dir / "tiny.json").read_text())["weights_path"] == "tiny.pt"  # folder can move
    assert get_model_spec("tiny") == spec == get_model_spec("tiny@1")
    assert [s.id for s in list_models()] == [*BUILTINS, "tiny@1"]
    state = torch.load(models_dir / "tiny.pt", weights_only=True)
    assert set(state) == set(SmallFaceNet().state_dict())


def test_exported_model_enrolls_and_identifies_through_the_normal_path(checkpoint, tmp_path, photo):
    spec = export_checkpoint(checkpoint, "tiny", threshold=1.2)
    pipeline = FacePipeline.load(device="cpu", model="tiny")
    assert pipeline.spec == spec and pipeline.threshold == 1.2
    with Store.open(tmp_path / "faceguard.db") as store:
        person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
        (template,) = store.templates(person.id)
        assert template.model_id == "tiny@1" and template.encoding.shape == (128,)
        assert abs(np.linalg.norm(template.encoding) - 1) < 1e-5
        live = LiveGallery.load(store, spec.id, spec.dim)
        assert len(live) == 1 and len(LiveGallery.load(store, DLIB_RESNET_V1.id, 128)) == 0
        ((encoded, match),) = pipeline.identify(photo("obama2.jpg"), live.gallery)
    assert encoded.model_id == "tiny@1" and encoded.chip.shape == (112, 112, 3)
    assert isinstance(match, Match) and match.nearest == person.id and match.threshold == 1.2
    assert abs(np.linalg.norm(encoded.encoding) - 1) < 1e-5
    # the exported weights, not a fresh initialisation, made the encoding
    with torch.no_grad():
        chip = torch.from_numpy(encoded.chip[None]).permute(0, 3, 1, 2).float()
        expected = F.normalize(small_model()(chip), dim=1)[0].numpy()
    np.testing.assert_allclose(encoded.encoding, expected, atol=1e-5)


@pytest.fixture(scope="module")
def dlib_pipeline():
    """The builtin dlib-resnet pipeline, loaded by name (it is no longer the default model)."""
    return FacePipeline.load(device="cpu", threads=1, model="dlib-resnet")


def test_the_dlib_builtin_is_unchanged(dlib_pipeline, photo):
    pipeline = dlib_pipeline
    assert get_model_spec("dlib-resnet") is DLIB_RESNET_V1 and DLIB_RESNET_V1.id == "dlib-resnet@1"
    assert (DLIB_RESNET_V1.architecture, DLIB_RESNET_V1.normalize, DLIB_RESNET_V1.weights_path) == (
        "dlib-resnet",
        False,
        None,
    )
    assert (DLIB_RESNET_V1.input_size, DLIB_RESNET_V1.threshold, DLIB_RESNET_V1.flip) == (150, 0.599, True)
    assert pipeline.spec is DLIB_RESNET_V1 and pipeline.encoder.flip and not pipeline.encoder.normalize
    chips = np.concatenate(
        [pipeline.align(photo(name), [pipeline.single_face(photo(name))]) for name in ("obama.jpg", "biden.jpg")]
    )
    reference = DlibResNet()
    reference.load_state_dict(dlib_state_dict())
    with torch.no_grad():
        x = torch.from_numpy(chips).permute(0, 3, 1, 2).float()
        expected = ((reference.eval()(x) + reference(x.flip(3))) / 2).numpy()
    np.testing.assert_allclose(pipeline.encode(chips), expected, atol=1e-5)
    np.testing.assert_array_equal(load_encoder(DLIB_RESNET_V1, "cpu").encode(chips), pipeline.encode(chips))


def test_flip_averaging_comes_before_normalisation():
    model = small_model()
    chips = np.random.default_rng(0).integers(0, 256, (2, 112, 112, 3), dtype=np.uint8)
    encoder = Encoder(model, torch.device("cpu"), flip=True, input_size=112, dim=128, normalize=True)
    plain = Encoder(model, torch.device("cpu"), input_size=112, dim=128)
    average = (plain.encode(chips) + plain.encode(np.ascontiguousarray(chips[:, :, ::-1]))) / 2
    expected = average / np.linalg.norm(average, axis=1, keepdims=True)
    np.testing.assert_allclose(encoder.encode(chips), expected, atol=1e-5)
    assert encoder.encode(np.empty((0, 112, 112, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match=r"\(N, 112, 112, 3\)"):
        encoder.encode(np.zeros((1, 150, 150, 3), np.uint8))


def test_errors_name_the_problem(checkpoint, tmp_path):
    with pytest.raises(FaceGuardError, match="no checkpoint file"):
        export_checkpoint(tmp_path / "missing.pt", "tiny")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    with pytest.raises(FaceGuardError, match="not a readable checkpoint"):
        export_checkpoint(tmp_path / "notes.txt", "tiny")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoint.read_bytes()[:5000])
    with pytest.raises(FaceGuardError, match="not a readable checkpoint"):
        export_checkpoint(truncated, "tiny")
    torch.save({"format": "other/1", "state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(FaceGuardError, match="not a FaceGuard training checkpoint.*'other/1'"):
        export_checkpoint(tmp_path / "other.pt", "tiny")
    torch.save({"format": CHECKPOINT_FORMAT, "x": Path("somewhere")}, tmp_path / "objects.pt")
    with pytest.raises(FaceGuardError, match="Python objects.*PosixPath|Python objects.*WindowsPath"):
        export_checkpoint(tmp_path / "objects.pt", "tiny")
    no_threshold = write_checkpoint(tmp_path / "no-threshold.pt", small_model(), metrics={"val_auc": 0.5})
    with pytest.raises(FaceGuardError, match="no calibrated threshold"):
        export_checkpoint(no_threshold, "tiny")
    wrong_dim = write_checkpoint(tmp_path / "wrong-dim.pt", small_model(), dim=64)
    with pytest.raises(FaceGuardError, match="do not fit a small-facenet network of dimension 64"):
        export_checkpoint(wrong_dim, "tiny")
    for name in ("dlib-resnet", "DLIB-RESNET"):
        with pytest.raises(ConflictError, match="builtin"):
            export_checkpoint(checkpoint, name)
    for name in ("bad/name", "tiny@2", "", ".hidden"):
        with pytest.raises(ValueError, match="cannot name a model"):
            export_checkpoint(checkpoint, name)
    assert export_checkpoint(no_threshold, "tiny", threshold=0.7).threshold == 0.7  # the failures wrote nothing


def test_an_existing_name_is_replaced_only_when_asked_and_never_silently_under_its_id(checkpoint, tmp_path):
    export_checkpoint(checkpoint, "tiny")
    with pytest.raises(ConflictError, match="already exported"):
        export_checkpoint(checkpoint, "tiny")
    assert export_checkpoint(checkpoint, "tiny", threshold=0.8, replace=True).threshold == 0.8  # same weights
    retrained = write_checkpoint(tmp_path / "retrained.pt", small_model(seed=1))
    with pytest.raises(ConflictError, match="--version 2"):
        export_checkpoint(retrained, "tiny", replace=True)
    assert get_model_spec("tiny").threshold == 0.8  # the refused export changed nothing
    assert export_checkpoint(retrained, "tiny", version="2", replace=True).id == "tiny@2"
    assert get_model_spec("tiny").id == "tiny@2"


def test_damaged_model_files_are_reported_not_loaded(checkpoint, models_dir):
    spec = export_checkpoint(checkpoint, "tiny")
    other = models_dir / "other.pt"
    torch.save(SmallFaceNet().state_dict(), other)
    other.replace(models_dir / "tiny.pt")  # weights that are not the exported ones
    with pytest.raises(MissingWeightsError, match="checksum"):
        load_encoder(spec, "cpu")
    (models_dir / "tiny.pt").unlink()
    with pytest.raises(MissingWeightsError, match="does not exist"):
        load_encoder(spec, "cpu")
    (models_dir / "broken.json").write_text("{not json")
    with pytest.raises(FaceGuardError, match="broken.json"):
        get_model_spec("broken")
    problems: list[str] = []
    assert [s.id for s in list_models(problems)] == [*BUILTINS, "tiny@1"] and "broken.json" in problems[0]
    known = ", ".join([*BUILTIN_MODELS, "tiny"])
    with pytest.raises(ValueError, match=f"Unknown model 'nothing'. Known models: {known}"):
        get_model_spec("nothing")


def test_calibration_finds_the_accuracy_maximising_threshold(checkpoint, tmp_path):
    files = {"Obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"], "Biden": ["biden.jpg"], "Collins": ["collins.png"]}
    root = tmp_path / "lfw"
    for name, photos in files.items():
        (root / name).mkdir(parents=True)
        for number, file in enumerate(photos, start=1):
            Image.open(DATA / file).convert("RGB").save(root / name / f"{name}_{number:04d}.jpg")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("2\nObama\t1\t2\nObama\t2\t3\nObama\t1\tBiden\t1\nObama\t3\tCollins\t1\n")
    spec = export_checkpoint(checkpoint, "tiny", calibrate=(pairs, root))
    assert spec.threshold != 0.9 and get_model_spec("tiny").threshold == spec.threshold  # not the checkpoint's
    pipeline = FacePipeline.load(device="cpu", model="tiny")
    encode = {
        file: pipeline.encode_faces(np.asarray(Image.open(DATA / file).convert("RGB")))[0].encoding
        for photos in files.values()
        for file in photos
    }
    listed = [
        ("obama.jpg", "obama2.jpg"),
        ("obama2.jpg", "obama3.jpg"),
        ("obama.jpg", "biden.jpg"),
        ("obama3.jpg", "collins.png"),
    ]
    distances = np.array([np.linalg.norm(encode[a] - encode[b]) for a, b in listed])
    same = np.array([True, True, False, False])
    best = max(accuracy_at(distances, same, t) for t in np.concatenate([distances, distances + 1e-6]))
    assert accuracy_at(distances, same, spec.threshold) == best


def test_the_cli_exports_lists_and_runs_a_model(checkpoint, capsys):
    assert main(["export", str(checkpoint), "--name", "tiny", "--threshold", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "tiny@1" in out and "small-facenet" in out and "1.5000" in out and "--model tiny" in out
    assert main(["models"]) == 0
    rows = capsys.readouterr().out.splitlines()
    builtin, exported = rows[1 : 1 + len(BUILTINS)], rows[1 + len(BUILTINS)]
    assert [row.split()[0] for row in builtin] == BUILTINS and all("builtin" in row for row in builtin)
    assert exported.split()[:5] == ["tiny@1", "small-facenet", "112x112", "128", "1.5000"]
    assert "trained: checkpoint-best.pt, epoch 3" in exported
    assert main(["export", str(checkpoint), "--name", "tiny"]) == 7
    assert "already exported" in capsys.readouterr().err
    assert main(
        ["compare", "--model", "tiny", "--device", "cpu", str(DATA / "obama.jpg"), str(DATA / "obama2.jpg")]
    ) in (0, 1)
    assert "(threshold 1.500)" in capsys.readouterr().out
    assert main(["compare", "--model", "nothing", str(DATA / "obama.jpg"), str(DATA / "obama2.jpg")]) == 2
    assert "Unknown model 'nothing'" in capsys.readouterr().err

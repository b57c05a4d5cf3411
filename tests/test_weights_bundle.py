"""Converted weights bundled with an installed FaceGuard: used first, without the registry packages'
metadata, and refused when they do not match their manifest. packaging/bundle_weights.py makes them."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import weights
from faceguard.vision.detector import CACHE_NAME as DETECTOR
from faceguard.vision.networks.dlib_resnet import CACHE_NAME as DLIB
from faceguard.vision.networks.sface import CACHE_NAME as SFACE

BUNDLER = Path(__file__).parents[1] / "packaging" / "bundle_weights.py"


def no_registry_package(*args: object, **kwargs: object) -> Path:
    raise AssertionError("the registry packages were looked up although weights are bundled")


def bundle(folder: Path, **states: dict[str, torch.Tensor]) -> Path:
    """``folder`` holding ``<name>.pt`` for each state and their manifest, as bundle_weights.py writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, state in states.items():
        torch.save(state, folder / f"{name}.pt")
    manifest = {name: weights.sha256_of(folder / f"{name}.pt") for name in states}
    (folder / weights.MANIFEST).write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = bundle(tmp_path / "bundled_weights", net={"net": torch.arange(6.0).reshape(2, 3)})
    monkeypatch.setenv("FACEGUARD_BUNDLED_WEIGHTS", str(folder))
    return folder


def test_bundled_weights_are_loaded_without_locating_or_converting_the_source(bundled: Path):
    state = weights.state_dict("net", no_registry_package, no_registry_package)
    assert torch.equal(state["net"], torch.arange(6.0).reshape(2, 3))


def test_without_bundled_weights_the_source_is_located_and_converted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FACEGUARD_BUNDLED_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "source.bin"
    source.write_bytes(b"weights")
    state = weights.state_dict(
        "net", lambda: source, lambda path: {"net": torch.tensor([float(len(path.read_bytes()))])}
    )
    assert state["net"].item() == 7.0 and len(list((tmp_path / "cache").glob("net-*.pt"))) == 1


def test_a_tampered_bundled_file_is_refused(bundled: Path):
    path = bundled / "net.pt"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(MissingWeightsError, match=r"net\.pt are damaged: their checksum differs.*reinstall FaceGuard"):
        weights.state_dict("net", no_registry_package, no_registry_package)


def test_a_bundled_file_its_manifest_does_not_list_is_refused(bundled: Path):
    torch.save({"other": torch.zeros(1)}, bundled / "other.pt")
    with pytest.raises(MissingWeightsError, match=r"other\.pt are not listed in .*manifest\.json"):
        weights.state_dict("other", no_registry_package, no_registry_package)
    (bundled / weights.MANIFEST).unlink()
    with pytest.raises(MissingWeightsError, match="not listed"):
        weights.state_dict("net", no_registry_package, no_registry_package)


def test_an_unwritable_cache_only_costs_the_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("FACEGUARD_BUNDLED_WEIGHTS", str(tmp_path / "none"))
    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(blocked / "cache"))
    source = tmp_path / "source.bin"
    source.write_bytes(b"weights")
    assert weights.state_dict("net", lambda: source, lambda _: {"net": torch.ones(1)})["net"].item() == 1.0


@pytest.mark.slow  # converts the three networks afresh (about 6 s) and loads the engine from them
def test_the_engine_runs_on_the_bundle_the_build_script_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline, photo
):
    spec = importlib.util.spec_from_file_location("bundle_weights", BUNDLER)
    assert spec is not None and spec.loader is not None
    bundler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundler)
    # main() sets these two for its own conversion; set here first, so the test's teardown restores them
    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(tmp_path / "unused"))
    monkeypatch.setenv("FACEGUARD_BUNDLED_WEIGHTS", str(tmp_path / "unused"))
    out = tmp_path / "weights"
    assert bundler.main([str(out)]) == 0
    manifest = json.loads((out / weights.MANIFEST).read_text())
    assert sorted(manifest) == sorted([DLIB, SFACE, DETECTOR])
    assert all(weights.sha256_of(out / f"{name}.pt") == digest for name, digest in manifest.items())

    from faceguard.vision.pipeline import FacePipeline

    monkeypatch.setenv("FACEGUARD_BUNDLED_WEIGHTS", str(out))
    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(tmp_path / "empty-cache"))
    with monkeypatch.context() as frozen:  # as in a frozen bundle: no package metadata to find
        frozen.setattr(importlib.metadata, "distribution", no_registry_package)
        bundled = FacePipeline.load(device="cpu", model=pipeline.spec)
    image = photo("obama.jpg")
    (ours,), (reference,) = bundled.encode_faces(image), pipeline.encode_faces(image)
    np.testing.assert_allclose(ours.encoding, reference.encoding, atol=1e-5)
    np.testing.assert_allclose(ours.face.box, reference.face.box, atol=1e-3)
    assert not (tmp_path / "empty-cache").exists()

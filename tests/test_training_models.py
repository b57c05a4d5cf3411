"""The trainable encoders: SmallFaceNet's shape, size and cost, build_model and freeze_stages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from faceguard.training.finetune import freeze_stages
from faceguard.vision.align import ARCFACE_112_TEMPLATE
from faceguard.vision.encoder import DlibEncoder, Encoder, load_encoder
from faceguard.vision.networks import ARCHITECTURES, build_network
from faceguard.vision.networks.dlib_resnet import LEVELS, DlibResNet
from faceguard.vision.networks.small_facenet import SmallFaceNet
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import DLIB_RESNET_V1


def multiply_adds(model: nn.Module, size: int) -> int:
    """Multiply-adds of one forward pass of one chip, counted by hooks on every convolution/linear."""
    total = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * per_output
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return total


def chips(count: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(0, 255, (count, 3, size, size)).astype(np.float32))


@pytest.mark.parametrize(("dim", "size"), [(128, 112), (64, 96), (128, 128)])
def test_small_facenet_maps_chips_to_unnormalised_encodings(dim, size):
    model = SmallFaceNet(dim, size).eval()
    with torch.no_grad():
        out = model(chips(3, size))
    assert out.shape == (3, dim) and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert not torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-3)  # normalising is the encoder's job
    # the global depthwise convolution covers exactly the last feature map (size / 16, rounded up)
    assert model.gdc[0].kernel_size == ((size + 15) // 16,) * 2


def test_small_facenet_is_small_and_cheap():
    model = SmallFaceNet()
    parameters = sum(p.numel() for p in model.parameters())
    macs = multiply_adds(model, 112)
    assert 200_000 <= parameters <= 1_000_000, parameters
    assert macs > 10e6 and 2 * macs < 60e6, macs  # well under 100 MFLOPs (2 FLOPs per multiply-add)


def test_small_facenet_normalises_its_input_inside():
    model = SmallFaceNet().eval()
    seen = []
    model.features[0][0].register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    x = chips(1, 112)
    with torch.no_grad():
        model(x)
    torch.testing.assert_close(seen[0], (x - 127.5) / 128)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = SmallFaceNet().train()
    out = model(chips(4, 112))
    loss = ((out - torch.randn_like(out)) ** 2).mean()
    loss.backward()
    missing = [
        name
        for name, p in model.named_parameters()
        if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
    ]
    assert missing == []


def test_eval_encodings_do_not_depend_on_the_batch():
    model = SmallFaceNet().eval()
    batch = chips(4, 112)
    with torch.no_grad():
        together = model(batch)
        alone = torch.cat([model(batch[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-4)


def test_random_init_follows_the_callers_seed():
    torch.manual_seed(7)
    first = build_network("small-facenet").state_dict()
    torch.manual_seed(7)
    again = build_network("small-facenet").state_dict()
    torch.manual_seed(8)
    other = build_network("small-facenet").state_dict()
    assert all(torch.equal(first[key], again[key]) for key in first)
    assert not torch.equal(first["features.0.0.weight"], other["features.0.0.weight"])


@pytest.fixture(scope="module")
def dlib_pipeline():
    """The builtin dlib-resnet pipeline (not the default model): its 150 px chips are what dlib's encoder takes."""
    return FacePipeline.load(device="cpu", threads=1, model="dlib-resnet")


def test_build_model_dlib_resnet_reproduces_the_dlib_encoder(dlib_pipeline, photo):
    pipeline = dlib_pipeline
    assert pipeline.spec is DLIB_RESNET_V1
    reference = DlibEncoder.load("cpu", flip=True)
    model = build_network("dlib-resnet")
    assert isinstance(model, DlibResNet)
    names = ("obama.jpg", "biden.jpg")
    batch = np.concatenate([pipeline.align(photo(name), [pipeline.single_face(photo(name))]) for name in names])
    expected = reference.encode(batch)
    np.testing.assert_array_equal(Encoder(model, torch.device("cpu"), flip=True).encode(batch), expected)
    np.testing.assert_array_equal(load_encoder(DLIB_RESNET_V1, "cpu").encode(batch), expected)
    untrained = build_network("dlib-resnet", pretrained=False)
    assert not torch.equal(untrained.fc.weight, model.fc.weight)


def test_build_model_refuses_unknown_architectures_and_sizes():
    with pytest.raises(ValueError, match="Unknown architecture 'resnet-50'.*small-facenet"):
        build_network("resnet-50")
    with pytest.raises(ValueError, match="128"):
        build_network("dlib-resnet", dim=64)


def test_architectures_give_each_default_chip():
    size, template = ARCHITECTURES["small-facenet"]
    assert size == 112 and np.allclose(template, ARCFACE_112_TEMPLATE)
    assert all(type(value) is float for point in template for value in point)  # plain data in checkpoints
    assert ARCHITECTURES["dlib-resnet"] == (150, DLIB_RESNET_V1.template)


@pytest.mark.parametrize("stages", range(len(LEVELS) + 1))
def test_freeze_stages_freezes_the_stem_and_the_first_levels(stages):
    model = DlibResNet()
    trainable = freeze_stages(model, stages)
    frozen_blocks = sum(count for _, count, _ in LEVELS[:stages])
    expected_frozen = {
        name
        for name, _ in model.named_parameters()
        if name.split(".")[0] in ("conv", "affine")
        or (name.startswith("blocks.") and int(name.split(".")[1]) < frozen_blocks)
    }
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == expected_frozen
    assert trainable == sum(p.numel() for name, p in model.named_parameters() if name not in expected_frozen)
    assert model.fc.weight.requires_grad  # the embedding layer always trains


def test_freeze_stages_can_be_changed_and_checks_its_argument():
    model = DlibResNet()
    freeze_stages(model, 4)
    freeze_stages(model, 1)  # unfreezes levels 1-3 again
    assert model.blocks[3].conv1.weight.requires_grad and not model.blocks[2].conv1.weight.requires_grad
    out = model(chips(2, 150)).sum()
    out.backward()
    assert model.conv.weight.grad is None and model.blocks[3].conv1.weight.grad is not None
    for bad in (-1, len(LEVELS) + 1):
        with pytest.raises(ValueError, match="stages"):
            freeze_stages(model, bad)
    with pytest.raises(TypeError):
        freeze_stages(SmallFaceNet(), 1)


def test_the_spec_knows_exactly_the_architectures_training_can_build():
    """vision.spec cannot import the training package (training imports vision), so it keeps its own list."""
    from faceguard.vision.networks import ARCHITECTURES
    from faceguard.vision.spec import ARCHITECTURE_NAMES

    assert set(ARCHITECTURE_NAMES) == set(ARCHITECTURES)

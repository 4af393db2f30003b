"""attn-gan-pytorch (akanimax's SAGAN package, tried at 1.2.3): preflight's dead-layer rule
on the package's own self-attention, not a stand-in.

The generator is built the package's way (its ``samples/sample_celeba/train.py``): a YAML
layer list like ``configs/3/gen.conf``, each entry made by ``Utils.get_layer`` (spectral-norm
transposed convolutions, ``CustomLayers.SelfAttention``, ``IgnoreAttentionMap``) and the
list wrapped by ``Networks.Generator``; it takes z as (N, latent, 1, 1). ``SelfAttention``
starts its gate ``gamma`` at 0, so at step 0 no gradient reaches its query, key and value
convolutions; after one optimiser step it does. Preflight must pass that row with a note,
not call the layers dead.

Installed with ``pip install --no-deps attn-gan-pytorch==1.2.3``: its requirements name
torchvision and an unpinned torch (pip would pull a new torch, CUDA and torchvision), so it
is not in the ``test`` extra. It imports without torchvision (only ``GAN.create_grid`` needs
it). Its ``ConfigManagement.get_config`` needs easydict and calls ``yaml.load`` without a
Loader (an error on PyYAML 6), so the config is read with ``yaml.safe_load`` here and its
entries given attribute access, which is all ``get_layer`` asks of them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch
from test_preflight import folder, preflight, rows  # noqa: F401 (folder: its data fixture)

pytest.importorskip(
    "attn_gan_pytorch",
    reason="attn-gan-pytorch is not installed (pip install --no-deps attn-gan-pytorch==1.2.3)",
)

# The module --arch loads: 16 -> 4x4x32 -> 8x8x16 -> self-attention at 8x8 (query and key
# squeezed to 2 channels) -> 16x16x1 through tanh, the size of the test digits.
ARCH = '''
from types import SimpleNamespace

import yaml
from attn_gan_pytorch.Networks import Generator
from attn_gan_pytorch.Utils import get_layer

CONFIG = """
architecture:
  - name: "conv_transpose"
    channels: (16, 32)
    kernel_dims: (4, 4)
    stride: (1, 1)
    padding: (0, 0)
    bias: True
    batch_norm: True
    spectral_norm: True
    activation: "relu"
  - name: "conv_transpose"
    channels: (32, 16)
    kernel_dims: (4, 4)
    stride: (2, 2)
    padding: (1, 1)
    bias: True
    batch_norm: True
    spectral_norm: True
    activation: "relu"
  - name: "self_attention"
    channels: 16
    bias: True
    squeeze_factor: 8
  - name: "ignore_attn_maps"
  - name: "conv_transpose"
    channels: (16, 1)
    kernel_dims: (4, 4)
    stride: (2, 2)
    padding: (1, 1)
    bias: True
    batch_norm: False
    spectral_norm: False
    activation: "tanh"
"""


class SmallSAGAN(Generator):
    def __init__(self):
        entries = yaml.safe_load(CONFIG)["architecture"]
        layers = [get_layer(SimpleNamespace(**entry)) for entry in entries]
        super().__init__(layers, latent_size=16)
'''
ATTENTION = "model.2"  # the SelfAttention's name in named_modules()


@pytest.fixture(scope="module")
def arch_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("arch") / "small_sagan.py"
    path.write_text(ARCH)
    return path


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("small_sagan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packages_gate_cuts_query_and_key_gradients_at_step_0_only(arch_file):
    """The premise, by hand: plain backward passes and one Adam step, with the package's
    own optimiser settings (samples/sample_celeba/train.py: lr 1e-4, betas [0, 0.9], only
    parameters that require grad: its SpectralNorm keeps u and v as frozen parameters)."""
    from attn_gan_pytorch.CustomLayers import SelfAttention

    torch.manual_seed(0)
    generator = load(arch_file).SmallSAGAN().train()
    attention = generator.get_submodule(ATTENTION)
    assert isinstance(attention, SelfAttention)
    assert attention.gamma.item() == 0
    names = {name for name, _ in generator.named_parameters()}
    assert "model.0.0.module.weight_bar" in names and "model.0.0.module.weight" not in names
    z = torch.randn(8, 16, 1, 1)
    direction = torch.randn(8, 1, 16, 16)  # a fixed stand-in for D's scores

    def backward() -> None:
        generator.zero_grad()
        fake = generator(z)
        assert fake.shape == (8, 1, 16, 16)
        (fake * direction).mean().backward()

    gated = (attention.query_conv, attention.key_conv, attention.value_conv)
    backward()
    assert all(conv.weight.grad is not None for conv in gated)
    assert all(conv.weight.grad.abs().max().item() == 0 for conv in gated)
    assert attention.gamma.grad.abs().item() > 0  # the gate itself trains
    # What a deep copy of the module trips on after a forward pass: the package's
    # SpectralNorm sets each wrapped conv's `weight` to a computed (non-leaf) tensor.
    assert generator.get_submodule("model.0.0.module").weight.grad_fn is not None

    params = [p for p in generator.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-4, betas=(0.0, 0.9))
    optimizer.step()
    assert attention.gamma.item() != 0
    backward()
    assert all(conv.weight.grad.abs().max().item() > 0 for conv in gated)


def test_preflight_passes_the_zero_gate_with_a_note(folder, arch_file):  # noqa: F811 (a fixture)
    result = preflight("--arch", f"{arch_file}:SmallSAGAN", "--latent-shape", "16,1,1",
                       "--data", folder, "--steps", 1, "--json", "-")  # fmt: skip
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    check = rows(result)["gradient flow: dead layers"]
    assert check["status"] == "pass", check["reason"]
    revived = check["evidence"]["zero_at_initialisation"]
    assert {f"{ATTENTION}.query_conv", f"{ATTENTION}.key_conv"} <= set(revived)
    assert "only after one optimiser step" in check["reason"]
    facts = {layer["layer"]: layer for layer in check["evidence"]["layers"]}
    query, key = facts[f"{ATTENTION}.query_conv"], facts[f"{ATTENTION}.key_conv"]
    assert query["minimax"] == query["nonsat"] == key["minimax"] == key["nonsat"] == 0
    assert facts[ATTENTION]["nonsat"] > 0  # gamma, SelfAttention's own parameter
    assert facts["model.0.0.module"]["type"] == "ConvTranspose2d"  # inside SpectralNorm

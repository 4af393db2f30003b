"""lucidrains' stylegan2-pytorch checkpoints, loaded from their keys with no option: the
moving averages SE and GE by default, and the package's own images reproduced
(tests/fixtures/make_lucidrains_stylegan2.py ran the package itself to make them)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from gandoctor.config import LoadOptions
from gandoctor.loading import load_generator

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "lucidrains_stylegan2.npz"


def trainer_checkpoint(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """``models/default/model_N.pt`` as the Trainer saves it, a D included."""
    stored = dict(np.load(FIXTURE))
    state = {k[4:]: torch.from_numpy(v) for k, v in stored.items() if k.startswith("GAN/")}
    state["D.blocks.0.conv_res.weight"] = torch.zeros(8, 3, 1, 1)
    path = tmp_path / "model_1.pt"
    torch.save({"GAN": state, "version": "1.9.0"}, path)
    return path, stored


def images(loaded_module: torch.nn.Module, stored: dict[str, np.ndarray]) -> torch.Tensor:
    # The fixture's noise image, for the comparison; the probe's own is fixed by its seed.
    loaded_module.noise.copy_(torch.from_numpy(stored["noise"]))  # type: ignore[operator]
    with torch.no_grad():
        return loaded_module(torch.from_numpy(stored["z"]))


def test_a_trainer_checkpoint_loads_its_moving_averages_and_reproduces_them(
    tmp_path: Path,
) -> None:
    path, stored = trainer_checkpoint(tmp_path)
    loaded = load_generator(path)
    info = loaded.info
    assert (info.architecture, info.arch_source, info.key) == ("lucidrains_stylegan2",
                                                               "recognised", "GAN.GE")  # fmt: skip
    assert info.latent_shape == (32,) and info.output_range == (0.0, 1.0)
    assert info.arch_kwargs == {"latent_dim": 32, "style_depth": 2, "filters": [32, 32, 16, 8],
                                "channels": 3}  # fmt: skip
    want = torch.from_numpy(stored["images"])
    assert float((images(loaded.module, stored) - want).abs().max()) <= 1e-5 * float(
        want.abs().max()
    )
    plain = load_generator(path, LoadOptions(key="G"))
    assert not torch.allclose(images(plain.module, stored), want)


def test_its_layers_group_by_mapping_layer_and_block(tmp_path: Path) -> None:
    path, _ = trainer_checkpoint(tmp_path)
    module = load_generator(path).module
    groups = {module.layer_group(name) for name, _ in module.named_parameters()}  # type: ignore[operator]
    assert groups == {"S.net.0", "S.net.2", "G.initial_block", "G.initial_conv", "G.blocks.0",
                      "G.blocks.1", "G.blocks.2"}  # fmt: skip


ATTENTION = FIXTURE.with_name("lucidrains_stylegan2_attn.npz")


def test_attention_no_const_and_lr_mlp_from_the_trainer_s_config(tmp_path: Path) -> None:
    """The Trainer with --attn-layers 1,2, --no-const and lr_mlp 0.2: attention blocks and
    the start made from w are read off the keys; lr_mlp, which no weight records, from the
    ``.config.json`` the Trainer writes beside its checkpoints. Without that file the
    default 0.1 is used and the images differ."""
    stored = dict(np.load(ATTENTION))
    ema = {k[4:]: torch.from_numpy(v) for k, v in stored.items() if k.startswith("GAN/")}
    state = {**ema, **{k[0] + k[2:]: v + 0.1 for k, v in ema.items()}}  # SE -> S, GE -> G
    state["D.blocks.0.conv_res.weight"] = torch.zeros(8, 3, 1, 1)
    path = tmp_path / "model_7.pt"
    torch.save({"GAN": state, "version": "1.9.0"}, path)
    config = {"image_size": 16, "lr_mlp": 0.2, "attn_layers": [1, 2], "no_const": True}
    (tmp_path / ".config.json").write_text(json.dumps(config))
    loaded = load_generator(path)
    kwargs = loaded.info.arch_kwargs
    assert kwargs["attention"] == [None, 512, 512] and kwargs["no_const"] is True
    assert kwargs["lr_mlp"] == 0.2
    want = torch.from_numpy(stored["images"])
    assert float((images(loaded.module, stored) - want).abs().max()) <= 1e-5 * float(
        want.abs().max()
    )
    (tmp_path / ".config.json").unlink()
    default = load_generator(path)
    assert "lr_mlp" not in default.info.arch_kwargs
    assert not torch.allclose(images(default.module, stored), want, atol=1e-4)


def test_the_trainer_s_d_is_the_own_d_with_its_sign_turned(tmp_path: Path) -> None:
    """The package's D scores reals low (its hinge loss pushes them to -1): the own D is
    ``-D(x)``, reproducing the package's outputs (lucidrains_stylegan2_d.npz) negated; the
    probe measures it beside G and names its loss."""
    import gandoctor
    from gandoctor.config import ProbeConfig
    from gandoctor.loading.discriminators.checkpoint import find_own_discriminator

    d_fixture = dict(np.load(FIXTURE.with_name("lucidrains_stylegan2_d.npz")))
    path, _ = trainer_checkpoint(tmp_path)
    stored = torch.load(path)
    stored["GAN"] = {k: v for k, v in stored["GAN"].items() if not k.startswith("D.")}
    stored["GAN"].update({k[4:]: torch.from_numpy(v) for k, v in d_fixture.items()
                          if k.startswith("GAN/")})  # fmt: skip
    torch.save(stored, path)
    found = find_own_discriminator(str(path), torch.device("cpu"))
    assert found is not None and found.architecture == "lucidrains_stylegan2 D"
    want = -torch.from_numpy(d_fixture["output"])
    with torch.no_grad():
        got = found.module(torch.from_numpy(d_fixture["images"])).flatten()
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())
    real = torch.rand(300, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    report = gandoctor.probe(path, real, config=ProbeConfig(steps=2, batch_size=16,
                                                            heldout_min=64))  # fmt: skip
    own = report.checkpoints[0].own_discriminator
    assert own is not None and own.loss.startswith("hinge") and own.source == "GAN.D"
    assert math.isfinite(own.r1.mean) and own.r1_gamma is None


TRAINER = FIXTURE.with_name("lucidrains_trainer")
"""A checkpoint the package's own Trainer saved, its D included
(tests/fixtures/make_lucidrains_trainer.py)."""


def trainer_images(module: torch.nn.Module, reference: dict[str, np.ndarray]) -> torch.Tensor:
    module.noise.copy_(torch.from_numpy(reference["noise"]))  # type: ignore[operator]
    with torch.no_grad():
        return module(torch.from_numpy(reference["z"]))


def close(got: torch.Tensor, want: np.ndarray) -> bool:
    return float((got - torch.from_numpy(want)).abs().max()) <= 1e-5 * float(np.abs(want).max())


def test_a_file_the_trainer_saved_names_the_copy_it_probed() -> None:
    reference = dict(np.load(TRAINER.with_suffix(".npz")))
    default = load_generator(TRAINER / "model_1.pt")
    assert default.info.key == "GAN.GE"
    assert close(trainer_images(default.module, reference), reference["images_ema"])
    raw = load_generator(TRAINER / "model_1.pt", LoadOptions(key="G"))
    assert raw.info.key == "GAN.G"
    assert close(trainer_images(raw.module, reference), reference["images_raw"])
    assert not close(trainer_images(raw.module, reference), reference["images_ema"])


def test_an_entry_the_user_named_is_never_swapped_for_the_moving_average() -> None:
    """``--key GAN --strip-prefix ""`` hands the whole module's state dict, D and both copies
    of G included, to the user's ``--arch`` class."""
    from gandoctor.loading.formats import StateSource, read_source

    options = LoadOptions(key="GAN", strip_prefix="")
    source = read_source(str(TRAINER / "model_1.pt"), options, torch.device("cpu"))
    assert isinstance(source, StateSource) and source.key == "GAN"
    stored = torch.load(TRAINER / "model_1.pt", weights_only=True)["GAN"]
    assert sorted(source.checkpoint.tensors) == sorted(stored)
    heads = {name.split(".", 1)[0] for name in source.checkpoint.tensors}
    assert {"S", "G", "SE", "GE", "D"} <= heads

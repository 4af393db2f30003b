"""lucidrains' lightweight-gan (issue 15, part 3): a Trainer checkpoint is recognised from its
keys, its moving average GE chosen, and gandoctor's own build reproduces the images the
package's code made (tests/fixtures/make_lightweight_gan.py says how) for both kinds of
skip-layer excitation, with and without attention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import gandoctor
from gandoctor.config import LoadOptions, ProbeConfig
from gandoctor.loading import load_generator
from gandoctor.loading.layouts.architectures.lightweight_gan import (
    LightweightGANGenerator,
    recognise,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "lightweight_gan.npz"


def trainer_checkpoint(tmp_path: Path, name: str) -> tuple[Path, dict[str, np.ndarray]]:
    """``models/default/model_N.pt`` as the Trainer saves it: G, its moving average GE (the
    fixture's weights), a D and the D its augmentation wrapper holds, the AMP scalers."""
    stored = {k.split("/", 1)[1]: v for k, v in np.load(FIXTURE).items() if k.startswith(name)}
    ema = {k: torch.from_numpy(v) for k, v in stored.items() if k.startswith("GE.")}
    state = {**ema, **{"G." + k[3:]: v + 0.1 if v.is_floating_point() else v
                       for k, v in ema.items()}}  # fmt: skip
    state["D.to_logits.0.weight"] = state["D_aug.D.to_logits.0.weight"] = torch.zeros(1, 8, 4, 4)
    path = tmp_path / "model_3.pt"
    torch.save({"GAN": state, "version": "1.1.0", "G_scaler": {"scale": 65536.0},
                "D_scaler": {"scale": 65536.0}}, path)  # fmt: skip
    return path, stored


@pytest.mark.parametrize("name", ["rgb", "grey"])
def test_a_trainer_checkpoint_reproduces_the_package_s_images(tmp_path: Path, name: str) -> None:
    path, stored = trainer_checkpoint(tmp_path, name)
    loaded = load_generator(path)
    info = loaded.info
    assert (info.architecture, info.arch_source, info.key) == ("lightweight_gan", "recognised",
                                                               "GAN")  # fmt: skip
    assert info.stripped_prefix == "GE." and info.output_range == (0.0, 1.0)
    assert info.latent_shape == (8,) and info.output_shape == (
        (3 if name == "rgb" else 1),
        128,
        128,
    )
    want = torch.from_numpy(stored["images"])
    with torch.no_grad():
        got = loaded.module(torch.from_numpy(stored["z"]))
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())
    plain = load_generator(path, LoadOptions(key="G"))  # the raw G, not its moving average
    with torch.no_grad():
        assert not torch.allclose(plain.module(torch.from_numpy(stored["z"])), want)


TRAINER = Path(__file__).resolve().parent / "fixtures" / "lightweight_gan_trainer"


def test_a_checkpoint_the_trainer_saved_with_its_defaults_loads_and_reproduces() -> None:
    """The file lightweight-gan's own Trainer wrote (tests/fixtures/
    make_lightweight_gan_trainer.py): its default antialias=False leaves the blurs out,
    and so no filter buffers in the file; the moving average GE is the one probed."""
    loaded = load_generator(TRAINER / "model_1.pt")
    info = loaded.info
    assert (info.architecture, info.key, info.stripped_prefix) == ("lightweight_gan", "GAN",
                                                                   "GE.")  # fmt: skip
    assert info.arch_kwargs["antialias"] is False
    stored = np.load(TRAINER.with_suffix(".npz"))
    want = torch.from_numpy(stored["images"])
    with torch.no_grad():
        got = loaded.module(torch.from_numpy(stored["z"]))
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())
    plain = load_generator(TRAINER / "model_1.pt", LoadOptions(key="G"))
    with torch.no_grad():
        assert not torch.allclose(plain.module(torch.from_numpy(stored["z"])), want, atol=1e-3)


def test_the_layout_is_read_from_the_weights() -> None:
    """SLE kinds and widths (at 128 px only 8 -> 128 is within reach), attention where the
    package put it (widths 8 and 16: the second and third blocks), and channels, all from
    the keys and shapes."""
    stored = {k[len("rgb/GE.") :]: torch.from_numpy(v) for k, v in np.load(FIXTURE).items()
              if k.startswith("rgb/GE.")}  # fmt: skip
    kwargs = recognise(stored)
    assert kwargs is not None
    assert kwargs["features"] == [8, 8, 8, 8, 8] and kwargs["channels"] == 3
    assert kwargs["attention"] == [None, 512, 512, None, None]
    assert kwargs["sle"] == [None, ["global", 4], None, None, None]
    grey = {k[len("grey/GE.") :]: torch.from_numpy(v) for k, v in np.load(FIXTURE).items()
            if k.startswith("grey/GE.")}  # fmt: skip
    assert recognise(grey)["sle"][1] == ["fca", 3]  # type: ignore[index]
    module = LightweightGANGenerator(**kwargs)
    assert set(module.state_dict()) == set(stored)


def test_a_probe_runs_on_it(tmp_path: Path) -> None:
    path, _ = trainer_checkpoint(tmp_path, "grey")
    real = torch.rand(300, 1, 128, 128, generator=torch.Generator().manual_seed(0))
    report = gandoctor.probe(path, real, config=ProbeConfig(steps=2, batch_size=16,
                                                            heldout_min=64))  # fmt: skip
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "lightweight_gan"
    assert checkpoint.outcome.summary is not None and len(checkpoint.outcome.series.step) >= 2

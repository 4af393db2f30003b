"""Large generators: the probe D grows with the resolution, and when the held-out fakes are
too many values to keep their autograd graphs, G runs at each measurement instead, with the
very same figures."""

import pytest
import torch
from conftest import LATENT, untrained_dcgan
from torch import nn

from gandoctor.config import ProbeConfig
from gandoctor.loading import DCGANGenerator
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.probing import graphs as probe_graphs
from gandoctor.probing import steps as probe_steps
from gandoctor.probing.loop import run_probe


def test_fresh_forward_passes_give_the_figures_of_the_kept_graphs(digits, monkeypatch):
    config = ProbeConfig(steps=30, early_stop=False)
    kept = run_probe(untrained_dcgan(), (LATENT, 1, 1), digits, config)
    monkeypatch.setattr(probe_graphs, "MAX_KEPT_GRAPH_BYTES", 0)  # as for a large generator
    fresh = run_probe(untrained_dcgan(), (LATENT, 1, 1), digits, config)
    for name, values in kept.series.to_dict().items():
        assert fresh.series.to_dict()[name] == pytest.approx(
            values, rel=1e-5, abs=1e-12, nan_ok=True
        ), name


def test_gradient_batches_back_propagated_in_chunks_give_the_same_figures(digits, monkeypatch):
    """A batch whose graph would not fit goes through G's backward a few samples at a time,
    the gradients summed: the same gradient norms, layer by layer, to float rounding."""
    config = ProbeConfig(steps=30, early_stop=False, per_layer=True)
    monkeypatch.setattr(probe_graphs, "MAX_KEPT_GRAPH_BYTES", 0)  # G runs at each measurement
    whole = run_probe(untrained_dcgan(), (LATENT, 1, 1), digits, config)
    seen: list[int] = []
    original = probe_steps.HeldoutFakes._chunk_size

    def five(self: probe_steps.HeldoutFakes) -> int:
        seen.append(original(self))
        return 5  # batches of 64 in 13 chunks, the last of 4

    monkeypatch.setattr(probe_steps.HeldoutFakes, "_chunk_size", five)
    chunked = run_probe(untrained_dcgan(), (LATENT, 1, 1), digits, config)
    assert seen and all(size == 64 for size in seen)  # unchunked where it fits
    for name, values in whole.series.to_dict().items():
        assert chunked.series.to_dict()[name] == pytest.approx(
            values, rel=1e-5, abs=1e-12, nan_ok=True
        ), name
    assert chunked.layers is not None and whole.layers is not None
    for mine, theirs in zip(chunked.layers.layers, whole.layers.layers, strict=True):
        assert mine.nonsat == pytest.approx(theirs.nonsat, rel=1e-5, abs=1e-12)


def test_a_256x256_generator_is_probed_with_a_deeper_d():
    torch.manual_seed(0)
    generator = DCGANGenerator(8, [8, 8, 8, 8, 8, 4], 3)  # 4 * 2**6 = 256
    for m in generator.modules():  # BatchNorm statistics of its own batches, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(16, 8, 1, 1))
    generator.eval()
    disc = build_probe_discriminator((3, 256, 256))
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6  # 256 -> 4: six stride-2 convolutions, as DCGAN's D at 64 has 4
    real = torch.rand(96, 3, 256, 256) * 2 - 1
    config = ProbeConfig(steps=4, batch_size=8, grad_batches=2, heldout_min=16)
    fakes = probe_steps.HeldoutFakes(generator, [(torch.randn(8, 8, 1, 1),)] * 2, config)
    assert fakes.kept  # 2 x 8 samples of 3x256x256 still fit the kept-graph cap
    outcome = run_probe(generator, (8, 1, 1), real, config)
    assert outcome.summary is not None, outcome.findings
    assert outcome.summary is not None and outcome.summary.steps_run == 4
    assert all(v > 0 for v in outcome.series.to_dict()["minimax_grad_mean"])


def test_large_batches_are_made_in_chunks_with_the_same_samples(monkeypatch) -> None:
    """Without gradient a large output is made in chunks (bounded memory); in eval mode the
    samples are those of one call, and in train mode (batch statistics) nothing is split."""
    from gandoctor.nn import generator as frozen_generator

    monkeypatch.setattr(frozen_generator, "GENERATE_CHUNK_VALUES", 3 * 16 * 16 * 4)
    torch.manual_seed(0)
    g = DCGANGenerator(8, [16, 8], 3).eval()  # 16x16 RGB: four samples a chunk
    calls = []
    g.register_forward_hook(lambda module, args, out: calls.append(len(out)))
    z = (torch.randn(10, 8, 1, 1),)
    with torch.no_grad():
        whole = g(*z)
        calls.clear()
        chunked = frozen_generator.generate(g, z, 3 * 16 * 16)
    assert calls == [4, 4, 2]
    assert torch.allclose(chunked, whole, atol=1e-6)
    calls.clear()
    with torch.no_grad():
        frozen_generator.generate(g.train(), z, 3 * 16 * 16)
    assert calls == [10]

"""Per-layer gradient norms (``--layers``): they add up to the global norm, show a dead
layer as exactly zero, and show where an untrained generator's minimax signal dies."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import LATENT, _digits, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from torch import nn
from typer.testing import CliRunner

from gandoctor.analyses.layers import LayerRecorder
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.nn import metrics
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import frozen
from gandoctor.probing.loop import run_probe

LATENT_SHAPE = (LATENT, 1, 1)
DCGAN_LAYERS = ["main.0", "main.1", "main.3", "main.4", "main.6"]  # modules owning parameters


class DeadBranchGenerator(nn.Module):
    """A live linear path plus a branch that never passes a signal: ``dead_in``'s output
    goes through ReLU(-|.|), which is 0 with zero derivative, so ``dead_out`` sees an input
    of zeros (no weight gradient, and no bias to carry one) and ``dead_in`` gets nothing
    back through the ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.live = nn.Linear(LATENT, 256)
        self.dead_in = nn.Linear(LATENT, 32)
        self.dead_out = nn.Linear(32, 256, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.flatten(1)
        hidden = torch.relu(-self.dead_in(z).abs())
        return torch.tanh(self.live(z) + self.dead_out(hidden)).view(-1, 1, 16, 16)


def test_layer_squares_add_up_to_the_global_norm(digits):
    generator = untrained_dcgan()
    torch.manual_seed(0)
    disc = build_probe_discriminator((1, 16, 16), None)
    z = torch.randn(64, *LATENT_SHAPE, generator=torch.Generator().manual_seed(1))
    with frozen(generator, train_mode=False) as params:
        recorder = LayerRecorder(generator, params)
        logits = disc(generator(z))
        cost = metrics.minimax_cost(logits)
        reference = metrics.gradient_norm(cost, params, retain_graph=True)
        assert recorder.norm("minimax", cost, retain_graph=True) == reference  # the same number
        recorder.norm("nonsat", metrics.nonsaturating_cost(logits))
        recorder.end_measurement(0)
    # One group per module that owns parameters, in registration order.
    assert recorder.names == DCGAN_LAYERS
    assert recorder.kinds == ["ConvTranspose2d", "BatchNorm2d"] * 2 + ["ConvTranspose2d"]
    assert sum(recorder.sizes) == sum(p.numel() for p in generator.parameters())
    squares = sum(norm**2 for norm in recorder.series["minimax"][0])
    assert squares == pytest.approx(reference**2, rel=1e-12)
    assert reference > 0


def test_per_layer_recording_leaves_the_global_figures_exactly_as_they_were(digits):
    off = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, ProbeConfig(steps=12))
    on = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, ProbeConfig(steps=12, per_layer=True))
    assert off.layers is None
    assert on.series.to_dict() == off.series.to_dict()  # bit for bit
    assert on.layers is not None and on.layers.steps == on.series.step
    # Per batch the layer squares add up to the global square. Both are means over the K
    # batches, so by the triangle inequality the layers' root sum of squares is at most the
    # global mean, and close to it because the norm varies ~1 % between latent batches.
    for i in range(len(on.series.step)):
        total = math.sqrt(sum(layer.minimax[i] ** 2 for layer in on.layers.layers))
        assert total <= on.series.minimax_grad_mean[i] * (1 + 1e-12)
        assert total == pytest.approx(on.series.minimax_grad_mean[i], rel=0.02)


def test_a_dead_branch_shows_exactly_zero_gradient(digits):
    torch.manual_seed(0)
    outcome = run_probe(DeadBranchGenerator(), LATENT_SHAPE, digits,
                        ProbeConfig(steps=10, per_layer=True))  # fmt: skip
    assert outcome.layers is not None
    by_name = {layer.name: layer for layer in outcome.layers.layers}
    assert set(by_name) == {"live", "dead_in", "dead_out"}
    for name in ("dead_in", "dead_out"):
        assert by_name[name].dead
        assert by_name[name].minimax == [0.0] * len(outcome.series.step)
        assert math.isnan(by_name[name].minimax_decades_lost)  # no ratio of zeros
    live = by_name["live"]
    assert not live.dead and min(live.minimax + live.nonsat) > 0
    # The whole global gradient is the live layer's.
    assert live.minimax[0] == pytest.approx(outcome.series.minimax_grad_mean[0], rel=1e-9)


def test_untrained_generator_loses_its_minimax_signal_in_every_layer():
    """An untrained 16x16 DCGAN against digits, 300 steps: D peaks the minimax gradient at
    step 118, then it falls 1.1 decades in every layer alike (the factor D(G(z)) multiplies
    every layer's gradient), while -log D grows 2.4-3.2 decades. The early layers carry a
    gradient 10-50 times smaller than the last BatchNorm throughout. Measured: minimax
    decades lost 1.12-1.13 per layer, global 1.13."""
    outcome = run_probe(untrained_dcgan(), LATENT_SHAPE, _digits(16).clone(),
                        ProbeConfig(steps=300, per_layer=True))  # fmt: skip
    assert outcome.summary is not None and outcome.layers is not None
    assert outcome.layers.peak_step == outcome.summary.minimax_grad_peak_step
    global_lost = outcome.summary.minimax_decades_lost
    assert global_lost > 1
    for layer in outcome.layers.layers:
        assert layer.minimax_peak > 10 * layer.minimax_end, layer.name
        assert layer.minimax_decades_lost == pytest.approx(global_lost, abs=0.05), layer.name
        assert layer.nonsat_decades_gained > 2, layer.name
        # From the fresh D at step 0 the minimax gradient first grows: the decay is from
        # its peak, as for the global figure (Figure 2).
        assert layer.minimax_peak > 10 * layer.minimax_start, layer.name
    first, last = outcome.layers.layers[0], outcome.layers.layers[-1]
    assert first.minimax_peak < last.minimax_peak


def test_cli_layers_table_and_json(tmp_path):
    generator = untrained_dcgan()
    checkpoint = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, checkpoint)
    write_pngs(tmp_path / "digits", _digits(16)[:400])
    runner = CliRunner()
    args = [str(checkpoint), "--data", str(tmp_path / "digits"), "--steps", "5", "--layers"]
    result = runner.invoke(app, ["probe", *args, "--json", "-"])
    assert result.exit_code in (0, 1), result.output
    layers = json.loads(result.stdout)["checkpoints"][0]["layers"]
    assert [entry["layer"] for entry in layers] == DCGAN_LAYERS
    assert layers[0]["end_step"] == 5 and len(layers[0]["minimax_series"]) == 6
    assert all(entry["minimax_start"] > 0 and not entry["dead"] for entry in layers)
    table = runner.invoke(app, ["probe", *args], env={"COLUMNS": "200"})
    assert "gradient norm per generator layer" in table.stdout
    assert "ConvTranspose2d" in table.stdout and "main.6" in table.stdout
    plain = runner.invoke(app, ["probe", *args[:-1], "--json", "-"])
    assert json.loads(plain.stdout)["checkpoints"][0]["layers"] is None

"""How the generator is fed (latent distribution, class labels) and range checks."""

import pytest
import torch
from conftest import LATENT
from torch import nn

from gandoctor.config import ProbeConfig
from gandoctor.enums import FindingCode, LatentDistribution, Severity
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing.loop import run_probe


def test_latent_distributions():
    rng = torch.Generator().manual_seed(0)
    (normal,) = LatentSpec((5000,)).sample(2, rng)
    (uniform,) = LatentSpec((5000,), LatentDistribution.UNIFORM).sample(2, rng)
    assert normal.abs().max() > 2.5  # a normal sample of 10k has values beyond 2.5 sigma
    assert uniform.min() >= -1 and uniform.max() <= 1
    assert uniform.std() == pytest.approx(1 / 3**0.5, abs=0.02)  # std of U(-1, 1)


def test_same_seed_same_inputs_and_labels_in_range():
    spec = LatentSpec((LATENT, 1, 1), num_classes=10)
    a = spec.sample(500, torch.Generator().manual_seed(3))
    b = spec.sample(500, torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    z, labels = a
    assert z.shape == (500, LATENT, 1, 1) and labels.dtype == torch.int64
    assert set(labels.tolist()) == set(range(10))


class ConditionalGenerator(nn.Module):
    """G(z, y): the label picks an embedding added to z, as conditional DCGANs do."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, LATENT)
        self.net = nn.Linear(LATENT, 256)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z.flatten(1) + self.embed(labels))).view(-1, 1, 16, 16)


def test_conditional_generator_is_probed_with_labels(digits):
    spec = LatentSpec((LATENT,), num_classes=10)
    outcome = run_probe(ConditionalGenerator(), spec, digits, ProbeConfig(steps=20))
    assert outcome.summary is not None and outcome.summary.steps_run == 20
    # The embedding receives gradient only because labels reach the generator.
    assert outcome.summary.minimax_grad_start > 0
    with pytest.raises(TypeError):
        run_probe(ConditionalGenerator(), (LATENT,), digits, ProbeConfig(steps=2))


class SquashedGenerator(nn.Module):
    """Values spread over (low, high): stands in for a generator trained on that range."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.net = nn.Linear(LATENT, 256)
        self.low, self.high = low, high
        nn.init.normal_(self.net.weight, 0, 2.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        unit = torch.sigmoid(self.net(z.flatten(1))).view(-1, 1, 16, 16)
        return self.low + (self.high - self.low) * unit


def range_findings(generator, real, output_range):
    torch.manual_seed(0)
    outcome = run_probe(generator, (LATENT,), real, ProbeConfig(steps=1), output_range=output_range)
    return [f for f in outcome.findings if f.code == FindingCode.RANGE_MISMATCH]


def test_generator_trained_on_another_range_is_flagged(digits):
    # A tanh generator trained on [0, 1] data, probed against data scaled to [-1, 1].
    (finding,) = range_findings(SquashedGenerator(0.0, 1.0), digits, (-1.0, 1.0))
    assert finding.severity == Severity.WARN
    assert "--output-range" in finding.remedy
    # The same generator against the data scaled to [0, 1]: consistent.
    assert range_findings(SquashedGenerator(0.0, 1.0), (digits + 1) / 2, (0.0, 1.0)) == []
    assert range_findings(SquashedGenerator(-1.0, 1.0), digits, (-1.0, 1.0)) == []


def test_values_beyond_the_output_range_are_flagged(digits):
    (finding,) = range_findings(SquashedGenerator(-1.0, 3.0), digits, (-1.0, 1.0))
    assert "beyond the output range" in finding.message


def test_narrow_outputs_say_nothing_about_the_range(digits):
    # Nearly constant outputs (an untrained generator's) cannot show a range mismatch.
    assert range_findings(SquashedGenerator(0.4, 0.6), digits, (-1.0, 1.0)) == []


CONDITIONAL_SOURCE = """
import torch
from torch import nn


class Cond(nn.Module):
    def __init__(self, n: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, n)
        self.net = nn.Linear(n, 256)

    def forward(self, z, labels):
        return torch.tanh(self.net(z + self.embed(labels))).view(-1, 1, 16, 16)
"""


def test_cli_conditional_generator_and_uniform_latent(tmp_path, digits):
    import json

    from conftest import write_pngs
    from safetensors.torch import save_file
    from typer.testing import CliRunner

    from gandoctor.cli import app

    (tmp_path / "cond.py").write_text(CONDITIONAL_SOURCE)
    torch.manual_seed(0)
    save_file(ConditionalGenerator().state_dict(), tmp_path / "cond.safetensors")
    write_pngs(tmp_path / "imgs", digits[:400])
    args = ["probe", str(tmp_path / "cond.safetensors"), "--data", str(tmp_path / "imgs")]
    args += ["--arch", f"{tmp_path / 'cond.py'}:Cond", "--latent-shape", "16"]
    args += ["--steps", "5", "--json", "-"]
    result = CliRunner().invoke(app, [*args, "--num-classes", "10", "--latent", "uniform"])
    assert result.exit_code in (0, 1), result.output
    generator = json.loads(result.stdout)["checkpoints"][0]["generator"]
    assert generator["num_classes"] == 10
    assert generator["latent_distribution"] == "uniform"
    assert generator["latent_shape"] == [16]
    without_labels = CliRunner().invoke(app, args)
    assert without_labels.exit_code == 2
    assert "forward failed" in without_labels.stderr

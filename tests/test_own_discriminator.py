"""The checkpoint's own discriminator (issue 16, first part): found in the file, rebuilt, and
measured on the probe's held-out data with known answers."""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path

import pytest
import torch
from conftest import _digits, untrained_dcgan
from torch import nn

from gandoctor.analyses.own_discriminator import measure_own_discriminator
from gandoctor.errors import CheckpointError
from gandoctor.loading.discriminators.checkpoint import (
    DCGANDiscriminator,
    dcgan_layout,
    find_own_discriminator,
)
from gandoctor.nn import metrics

CPU = torch.device("cpu")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "stylegan"


class LinearD(nn.Module):
    """D(x) = w . x + b: its input gradient is w everywhere, so R1 = R2 = |w|^2 and the
    WGAN-GP norm is |w| exactly."""

    group_size = 1

    def __init__(self, features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def measure(disc: nn.Module, generator: nn.Module, real: torch.Tensor, latent: int = 16):
    gen = torch.Generator().manual_seed(0)
    latents = [(torch.randn(32, latent, 1, 1, generator=gen),) for _ in range(3)]
    params = [p.requires_grad_(True) for p in generator.parameters()]
    return measure_own_discriminator(disc, generator.eval(), params, real[:96], latents,
                                     real[96:192], architecture="test", source="test")  # fmt: skip


def test_penalties_and_figures_of_a_linear_d_are_exact() -> None:
    torch.manual_seed(0)
    real = _digits(16)[:192].clone()
    disc = LinearD(256)
    figures = measure(disc, untrained_dcgan(), real)
    w2 = float(disc.fc.weight.detach().double().square().sum())
    assert figures.r1.mean == pytest.approx(w2, rel=1e-6) and figures.r1.std < 1e-9 * w2
    assert figures.r2.mean == pytest.approx(w2, rel=1e-6)
    assert figures.gp_norm.mean == pytest.approx(math.sqrt(w2), rel=1e-6)
    assert 0 <= figures.heldout_accuracy <= 1 and 0 < figures.mean_d_real < 1
    # Three latent batches give the gradient norms' spread.
    assert figures.minimax_grad_norm.mean > 0 and figures.nonsat_grad_norm.std >= 0


def test_under_a_plan_the_own_d_measures_what_the_probe_s_plan_measured() -> None:
    """The probe's plan (probing.plan) takes gradients over fewer latents: the own D takes
    them over the same ones, and its other figures over the samples asked for; the linear
    D's penalties are exact whatever the count."""
    torch.manual_seed(0)
    real = _digits(16)[:192].clone()
    disc, generator = LinearD(256), untrained_dcgan().eval()
    gen = torch.Generator().manual_seed(0)
    latents = [(torch.randn(32, 16, 1, 1, generator=gen),) for _ in range(3)]
    params = [p.requires_grad_(True) for p in generator.parameters()]
    planned = measure_own_discriminator(disc, generator, params, real[:96], latents,
                                        real[96:192], architecture="test", source="test",
                                        grad_batches=1, grad_batch_size=16,
                                        samples=40)  # fmt: skip
    assert planned.latent_batches == 1 and planned.r1_samples == 40
    assert planned.nonsat_grad_norm.std == 0.0  # one latent batch: no spread
    w2 = float(disc.fc.weight.detach().double().square().sum())
    assert planned.r1.mean == pytest.approx(w2, rel=1e-6)
    full = measure(disc, generator, real)
    assert full.latent_batches == 3 and full.r1_samples == 96


class ConvD(nn.Module):
    """A small nonlinear D whose logit depends on its own sample only, as its
    ``group_size`` 1 says (lucidrains' D is such a build)."""

    group_size = 1

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                                 nn.Linear(8 * 8 * 8, 1))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_one_pass_through_a_per_sample_d_gives_both_costs_gradients(monkeypatch) -> None:
    """Where each logit depends on its own sample, one backward pass through D, weighted per
    sample, gives the minimax and -log D gradients the two passes give."""
    import gandoctor.analyses.own_d_passes as own

    torch.manual_seed(0)
    real = _digits(16)[:192].clone()
    disc, generator = ConvD().eval(), untrained_dcgan().eval()
    calls = []
    disc.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    one_pass = measure(disc, generator, real)
    one_pass_samples, calls[:] = sum(calls), []
    monkeypatch.setattr(own, "per_sample", lambda disc: False)
    two_passes = measure(disc, generator, real)
    # The gradient passes gave R2's slopes at all 96 fakes: D saw them once, not twice.
    assert sum(calls) - one_pass_samples == 96
    assert one_pass.r2.mean == pytest.approx(two_passes.r2.mean, rel=1e-5)
    for figure in ("minimax_grad_norm", "nonsat_grad_norm"):
        got, want = getattr(one_pass, figure), getattr(two_passes, figure)
        assert got.mean == pytest.approx(want.mean, rel=1e-5) and want.mean > 0
        assert got.std == pytest.approx(want.std, rel=1e-4, abs=1e-12)
    assert one_pass.r1 == two_passes.r1 and one_pass.heldout_accuracy == two_passes.heldout_accuracy


def test_slopes_over_fewer_samples_leave_every_logit_as_it_was() -> None:
    """``slope_samples``: R1, R2 and the interpolates' norm over the first samples only,
    every logit figure as over all of them; a D with BatchNorm (its train mode reads the
    batch) takes its slopes over every sample, so its logits stay those of whole batches."""
    torch.manual_seed(0)
    real = _digits(16)[:192].clone()
    generator = untrained_dcgan().eval()
    latents = [(torch.randn(32, 16, 1, 1, generator=torch.Generator().manual_seed(0)),)]
    params = [p.requires_grad_(True) for p in generator.parameters()]

    def planned(disc: nn.Module, slopes: int | None):
        return measure_own_discriminator(disc, generator, params, real[:32], latents,
                                         real[96:128], architecture="test", source="test",
                                         slope_samples=slopes)  # fmt: skip

    disc = ConvD().eval()
    few, every = planned(disc, 8), planned(disc, None)
    assert few.r1_samples == 8 and every.r1_samples == 32
    assert few.r1 != every.r1 and few.r1.mean > 0
    for figure in ("heldout_accuracy", "mean_d_real", "mean_d_fake", "r_t", "r_v"):
        want = getattr(every, figure)
        assert getattr(few, figure) == pytest.approx(want, rel=1e-6, abs=1e-9, nan_ok=True)
    layout_d = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2),
                             nn.Conv2d(8, 16, 4, 2, 1), nn.BatchNorm2d(16),
                             nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 1, 0))  # fmt: skip
    batchnorm = planned(layout_d.eval(), 8)
    assert batchnorm.r1_samples == 32


class BatchMeanD(LinearD):
    """A logit that depends on the whole batch (its mean subtracted), as minibatch-std
    layers make it: D must see the batch whole, whatever G's backward pass does."""

    group_size = 32  # one minibatch-std group of the test's whole batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc(x.flatten(1))
        return out - 0.5 * out.mean()


def test_g_s_backward_pass_in_chunks_gives_the_whole_batch_s_gradient(monkeypatch) -> None:
    import gandoctor.analyses.own_d_passes as own

    torch.manual_seed(0)
    real = _digits(16)[:192].clone()
    disc, generator = BatchMeanD(256), untrained_dcgan().eval()
    z = torch.randn(32, 16, 1, 1, generator=torch.Generator().manual_seed(0))
    params = [p.requires_grad_(True) for p in generator.parameters()]
    logits = disc(generator(z))
    want = [metrics.gradient_norm(metrics.minimax_cost(logits), params, retain_graph=True),
            metrics.gradient_norm(metrics.nonsaturating_cost(logits), params)]  # fmt: skip
    monkeypatch.setattr(own, "samples_per_backward", lambda forward, inputs: 5)
    chunked = measure_own_discriminator(disc, generator, params, real[:96], [(z,)],
                                        real[96:192], architecture="test", source="test",
                                        grad_batches=1, grad_batch_size=32,
                                        samples=32)  # fmt: skip
    got = [chunked.minimax_grad_norm.mean, chunked.nonsat_grad_norm.mean]
    assert got == pytest.approx(want, rel=1e-5)


def test_a_pytorch_examples_netd_is_found_in_the_dict_and_beside_netg(tmp_path: Path) -> None:
    layout_d = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                             nn.Conv2d(8, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16),
                             nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 1, 0, bias=False),
                             nn.Sigmoid())  # fmt: skip
    state = {f"main.{k}": v for k, v in layout_d.state_dict().items()}
    g = untrained_dcgan()
    together = tmp_path / "checkpoint.pth"
    torch.save({"netG": g.state_dict(), "netD": state, "epoch": 3}, together)
    found = find_own_discriminator(str(together), CPU)
    assert found is not None and found.source == "netD"
    x = _digits(16)[:8]
    with torch.no_grad():
        probability = layout_d.eval()(x).flatten(1)
        assert torch.allclose(torch.sigmoid(found.module(x)), probability, atol=1e-6)
    torch.save(g.state_dict(), tmp_path / "netG_epoch_3.pth")
    torch.save(state, tmp_path / "netD_epoch_3.pth")
    paired = find_own_discriminator(str(tmp_path / "netG_epoch_3.pth"), CPU)
    assert paired is not None and paired.source == "netD_epoch_3.pth"
    torch.save(g.state_dict(), tmp_path / "netG_epoch_4.pth")
    assert find_own_discriminator(str(tmp_path / "netG_epoch_4.pth"), CPU) is None
    bad = {k: v for k, v in state.items() if k != "main.3.running_mean"}
    torch.save({"netG": g.state_dict(), "netD": bad}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="the discriminator does not fit its layout"):
        find_own_discriminator(str(tmp_path / "bad.pth"), CPU)
    assert isinstance(DCGANDiscriminator(dcgan_layout(state)), nn.Module)


def test_a_rosinality_checkpoint_s_d_with_its_r1_and_ada_p(tmp_path: Path) -> None:
    from gandoctor.loading.layouts.architectures.stylegan2.rosinality_d import (
        RosinalityDiscriminator,
    )

    d = RosinalityDiscriminator(channels=[8, 8, 8])
    args = argparse.Namespace(size=16, latent=16, n_mlp=2, channel_multiplier=1, r1=10.0)
    path = tmp_path / "000100.pt"
    torch.save({"g_ema": {}, "d": d.state_dict(), "args": args, "ada_aug_p": 0.2}, path)
    found = find_own_discriminator(str(path), CPU)
    assert found is not None and (found.r1_gamma, found.augment_p) == (10.0, 0.2)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs the reference checkpoints in {SHARED}")
def test_a_snapshot_s_own_d_is_measured_beside_its_g_ema() -> None:
    from gandoctor.loading import load_generator

    path = SHARED / "stylegan2-ada_rgb32.pkl"
    found = find_own_discriminator(str(path), CPU)
    assert found is not None and found.augment_p == pytest.approx(0.231)
    g = load_generator(path).module
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(64, 3, 32, 32, generator=gen) * 2 - 1
    latents = [(torch.randn(16, 64, generator=gen),) for _ in range(2)]
    params = [p.requires_grad_(True) for p in g.parameters()]
    figures = measure_own_discriminator(
        found.module, g, params, real[:32], latents, real[32:],
        architecture=found.architecture, source=found.source,
    )  # fmt: skip
    assert all(math.isfinite(v) for v in (figures.r1.mean, figures.r2.mean, figures.gp_norm.mean,
                                          figures.minimax_grad_norm.mean))  # fmt: skip
    assert figures.r1.mean > 0 and figures.nonsat_grad_norm.mean > 0


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs the reference checkpoints in {SHARED}")
def test_a_snapshot_s_d_under_a_plan_takes_its_slopes_over_the_plan_s_samples() -> None:
    """NVlabs' D (minibatch-std groups of 4) with its slopes over 16 of 64 held-out samples,
    as plan levels 4 and 5 take them: R1, R2 and the interpolates' norm lie within three
    standard errors of the means over all 64 (measured: within one), the logit figures
    where they were."""
    from gandoctor.loading import load_generator

    path = SHARED / "stylegan2-ada_rgb32.pkl"
    found = find_own_discriminator(str(path), CPU)
    assert found is not None
    g = load_generator(path).module
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(128, 3, 32, 32, generator=gen) * 2 - 1
    latents = [(torch.randn(64, 64, generator=gen),)]
    params = [p.requires_grad_(True) for p in g.parameters()]
    every, planned = (
        measure_own_discriminator(found.module, g, params, real[:64], latents, real[64:],
                                  architecture="a", source="b", grad_batches=1,
                                  grad_batch_size=16, slope_samples=slopes)
        for slopes in (None, 16)
    )  # fmt: skip
    assert (every.r1_samples, planned.r1_samples) == (64, 16)
    for figure in ("r1", "r2", "gp_norm"):
        full, few = getattr(every, figure), getattr(planned, figure)
        assert abs(few.mean - full.mean) <= 3 * few.std / math.sqrt(16), figure
    assert planned.heldout_accuracy == pytest.approx(every.heldout_accuracy, abs=2 / 64)
    assert planned.r_t == every.r_t


def _trained_d(r1_gamma: float, steps: int = 150) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """A small DCGAN-layout D trained against an untrained generator on 16x16 digits, with
    the R1 penalty gamma / 2 E|grad_x D(x)|^2 on the reals (0: none)."""
    torch.manual_seed(0)
    real = _digits(16).clone()
    g = untrained_dcgan().eval()
    layout = [(0, "conv", (8, 1, 4, 4)), (2, "conv", (16, 8, 4, 4)), (3, "bn", (16,)),
              (5, "conv", (1, 16, 4, 4))]  # fmt: skip
    d = DCGANDiscriminator(layout)
    opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        x = real[torch.randint(len(real), (64,))].requires_grad_(r1_gamma > 0)
        with torch.no_grad():
            fake = g(torch.randn(64, 16, 1, 1))
        real_logits = d(x)
        loss = bce(real_logits, torch.ones_like(real_logits)) + bce(d(fake), torch.zeros(64, 1))
        if r1_gamma:
            (grad,) = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
            loss = loss + r1_gamma / 2 * grad.flatten(1).square().sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return d.eval(), g, real


def test_a_d_trained_with_r1_has_a_measurably_smaller_r1() -> None:
    """Measured: R1 0.05 with gamma = 10 against 1.25 without, 150 steps each (held-out
    accuracy 0.59 and 0.94: the penalty also slows D down)."""
    with_r1 = measure(*_trained_d(10.0))
    without = measure(*_trained_d(0.0))
    assert with_r1.r1.mean < without.r1.mean / 5, (with_r1.r1, without.r1)


def test_the_probe_reports_the_own_d_beside_its_own(tmp_path: Path) -> None:
    """A PyTorch-examples checkpoint dict: the JSON's own_discriminator holds every figure,
    the table a column for it; --no-own-d leaves it out."""
    import json

    from conftest import write_pngs
    from typer.testing import CliRunner

    from gandoctor.cli import app

    d, g, real = _trained_d(0.0, steps=60)
    path = tmp_path / "checkpoint.pth"
    torch.save({"netG": g.state_dict(), "netD": d.state_dict(), "epoch": 1}, path)
    write_pngs(tmp_path / "imgs", real[:400])
    args = ["probe", str(path), "--data", str(tmp_path / "imgs"), "--steps", "20"]
    result = CliRunner().invoke(app, [*args, "--json", "-"])
    assert result.exit_code in (0, 1), result.output
    own = json.loads(result.stdout)["checkpoints"][0]["own_discriminator"]
    keys = {"architecture", "heldout_accuracy", "mean_d_real", "mean_d_fake",
            "js_lower_bound", "minimax_grad_norm", "nonsat_grad_norm", "r1", "r2", "r_t",
            "r_v", "augment_p"}  # fmt: skip
    assert keys <= set(own) and own["source"] == "netD"
    assert own["heldout_accuracy"] > 0.6  # trained 60 steps against this very generator: 0.67
    table = CliRunner().invoke(app, args)
    assert "own D (as saved)" in table.output
    off = CliRunner().invoke(app, [*args, "--no-own-d", "--json", "-"])
    assert json.loads(off.stdout)["checkpoints"][0]["own_discriminator"] is None


def test_inspect_lists_the_discriminator_it_found(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from gandoctor.cli import app

    d, g, _ = _trained_d(0.0, steps=1)
    path = tmp_path / "checkpoint.pth"
    torch.save({"netG": g.state_dict(), "netD": d.state_dict()}, path)
    facts = json.loads(CliRunner().invoke(app, ["inspect", str(path), "--json", "-"]).stdout)
    own = facts["own_discriminator"]
    assert own["entry"] == "netD" and own["parameters"] == sum(p.numel() for p in d.parameters())
    torch.save({"netG": g.state_dict()}, path)
    facts = json.loads(CliRunner().invoke(app, ["inspect", str(path), "--json", "-"]).stdout)
    assert facts["own_discriminator"] is None


def _record(accuracy: float, minimax: float, nonsat: float, std: float = 0.0):
    from gandoctor.results.own_discriminator import OwnDiscriminator, Spread

    zero = Spread(0.0, 0.0)
    return OwnDiscriminator("test", "D", "assumed", accuracy, 0.99, 0.01, 0.6,
                            Spread(minimax, std * minimax), Spread(nonsat, std * nonsat), zero,
                            zero, zero, 1.0, math.nan, latent_batches=4)  # fmt: skip


def test_d_dominant_needs_separation_and_a_decade_between_the_gradients() -> None:
    from gandoctor.config import Thresholds
    from gandoctor.enums import FindingCode, Severity
    from gandoctor.judge.c2st import Z95
    from gandoctor.judge.own_d import own_d_findings

    t = Thresholds()
    (finding,) = own_d_findings(_record(0.99, 1e-3, 1e-1, std=0.1), t)
    assert (finding.code, finding.severity) == (FindingCode.D_DOMINANT, Severity.WARN)
    assert finding.margin is not None and finding.margin.value == pytest.approx(2.0)
    # Relative errors of 0.1 / sqrt(4) each, in quadrature, in decades, times 1.96.
    assert finding.margin.uncertainty == pytest.approx(Z95 * math.hypot(0.05, 0.05) / math.log(10))
    assert not finding.borderline
    assert own_d_findings(_record(0.99, 1e-2, 5e-2), t) == []  # 0.7 decades
    assert own_d_findings(_record(0.85, 1e-3, 1e-1), t) == []  # not separating
    near = own_d_findings(_record(0.99, 1e-2, 1.1e-1, std=0.5), t)
    assert near and near[0].borderline  # 1.04 decades, half-width 0.3


def test_the_markdown_report_has_the_own_d_table(tmp_path: Path) -> None:
    from conftest import write_pngs
    from typer.testing import CliRunner

    from gandoctor.cli import app

    d, g, real = _trained_d(0.0, steps=20)
    path = tmp_path / "checkpoint.pth"
    torch.save({"netG": g.state_dict(), "netD": d.state_dict()}, path)
    write_pngs(tmp_path / "imgs", real[:300])
    result = CliRunner().invoke(app, ["probe", str(path), "--data", str(tmp_path / "imgs"),
                                      "--steps", "5", "--markdown", "-"])  # fmt: skip
    assert "| figure | probe D (fresh, end) | own D (as saved) |" in result.stdout
    assert "R1 = E" in result.stdout and "dcgan D (PyTorch examples)" in result.stdout


def test_a_d_in_a_file_of_its_own(tmp_path: Path) -> None:
    """--disc-checkpoint: the D's state dict alone; a file that is no D is one line, exit 2;
    a report may not overwrite it."""
    import json

    from conftest import write_pngs
    from typer.testing import CliRunner

    from gandoctor.cli import app

    d, g, real = _trained_d(0.0, steps=5)
    torch.save(g.state_dict(), tmp_path / "generator.pt")
    torch.save(d.state_dict(), tmp_path / "critic.pt")
    write_pngs(tmp_path / "imgs", real[:300])
    args = ["probe", str(tmp_path / "generator.pt"), "--data", str(tmp_path / "imgs"),
            "--steps", "3"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--disc-checkpoint", str(tmp_path / "critic.pt"),
                                      "--json", "-"])  # fmt: skip
    own = json.loads(result.stdout)["checkpoints"][0]["own_discriminator"]
    assert own["source"] == "critic.pt"
    bad = CliRunner().invoke(app, [*args, "--disc-checkpoint", str(tmp_path / "generator.pt")])
    assert bad.exit_code == 2 and "not a discriminator gandoctor can build" in bad.stderr
    over = CliRunner().invoke(app, [*args, "--disc-checkpoint", str(tmp_path / "critic.pt"),
                                    "--json", str(tmp_path / "critic.pt")])  # fmt: skip
    assert over.exit_code == 2 and (tmp_path / "critic.pt").stat().st_size > 0
    assert find_own_discriminator(str(tmp_path / "critic.pt"), CPU) is not None


def test_files_that_cannot_hold_a_d_are_not_searched(tmp_path: Path) -> None:
    """A TorchScript program (read only with --trust-pickle) and a checkpoint folder: the
    probe runs, and no D is looked for in them."""
    import json

    from conftest import write_pngs
    from safetensors.torch import save_file
    from typer.testing import CliRunner

    from gandoctor.cli import app

    g = untrained_dcgan().eval()
    write_pngs(tmp_path / "imgs", _digits(16)[:300])
    program = tmp_path / "g.ts"
    with warnings.catch_warnings():  # torch.jit is deprecated, and still what people have
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.trace(g, torch.randn(2, 16, 1, 1)), str(program))
    folder = tmp_path / "hf"
    folder.mkdir()
    save_file(
        {k: v.contiguous() for k, v in g.state_dict().items()}, str(folder / "model.safetensors")
    )
    (folder / "config.json").write_text('{"nz": 16, "ngf": 16, "nc": 1, "imageSize": 16}')
    data = ["--data", str(tmp_path / "imgs"), "--steps", "3", "--json", "-"]
    for checkpoint, extra in ((program, ["--trust-pickle"]), (folder, [])):
        result = CliRunner().invoke(app, ["probe", str(checkpoint), *data, *extra])
        assert result.exit_code in (0, 1), result.output
        assert json.loads(result.stdout)["checkpoints"][0]["own_discriminator"] is None

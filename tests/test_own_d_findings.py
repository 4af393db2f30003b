"""The own D's memorisation and penalty findings (issue 16): ``d_overfit`` against reals the
GAN never saw (``--val-data``) and ``penalty_ineffective`` against the R1 a run claims, on
discriminators trained to a known answer."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import PoolGenerator, _digits, untrained_dcgan, write_pngs
from test_own_discriminator import _trained_d, measure
from torch import nn
from typer.testing import CliRunner

from gandoctor.analyses.memorisation import memorisation
from gandoctor.analyses.own_discriminator import measure_own_discriminator
from gandoctor.cli import app
from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode
from gandoctor.judge.own_d import own_d_findings
from gandoctor.loading.discriminators.checkpoint import DCGANDiscriminator

LAYOUT = [(0, "conv", (16, 1, 4, 4)), (2, "conv", (32, 16, 4, 4)), (3, "bn", (32,)),
          (5, "conv", (1, 32, 4, 4))]  # fmt: skip


def _split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """16 px digits in a random order (seed 0): 64 for a memorised training set, 400 for
    the fakes' pool, the other 1333 never seen."""
    digits = _digits(16).clone()
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    return digits[order[:64]], digits[order[900:1300]], digits[order[1300:]]


def _memorising_d(real: torch.Tensor, pool: torch.Tensor, steps: int) -> nn.Module:
    """A DCGAN-layout D trained on ``real`` against fakes drawn from a pool of other real
    digits: it can only tell them apart by remembering its own training images."""
    generator = PoolGenerator(pool)
    torch.manual_seed(1)
    d = DCGANDiscriminator(LAYOUT)
    opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        x = real[torch.randint(len(real), (64,))]
        with torch.no_grad():
            fake = generator(torch.randn(64, 16))
        logits = d(x)
        loss = bce(logits, torch.ones_like(logits)) + bce(d(fake), torch.zeros(64, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return d.eval()


def _own(d: nn.Module, train: torch.Tensor, pool: torch.Tensor, unseen: torch.Tensor | None):
    generator = PoolGenerator(pool)
    gen = torch.Generator().manual_seed(0)
    latents = [(torch.randn(32, 16, generator=gen),) for _ in range(3)]
    return measure_own_discriminator(
        d, generator, list(generator.parameters()), train[:32], latents, train[32:],
        unseen_real=unseen, unseen="unseen", architecture="test", source="test",
    )  # fmt: skip


def test_a_d_that_memorised_64_images_is_d_overfit_against_unseen_reals() -> None:
    """Measured: the memorising D gives r_t 0.94, r_v 0.89 and an AUC of 0.93 (a training
    real outscores an unseen one 93 times in 100); a D trained as long on 900 images
    0.55. Without unseen reals there is no finding: nothing tells memorising from winning."""
    memorised, pool, unseen = _split()
    own = _own(_memorising_d(memorised, pool, 300), memorised, pool, unseen)
    assert own.r_t > 0.8 and own.unseen_auc is not None and own.unseen_auc > 0.9
    (finding,) = own_d_findings(own, Thresholds())
    assert finding.code == FindingCode.D_OVERFIT and not finding.borderline
    blind = _own(_memorising_d(memorised, pool, 300), memorised, pool, None)
    assert blind.unseen is None and blind.unseen_auc is None and blind.r_t > 0.8
    assert own_d_findings(blind, Thresholds()) == []
    digits = _digits(16).clone()
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    broad = digits[order[:900]]
    fair = _own(_memorising_d(broad, pool, 300), broad, pool, unseen)
    assert fair.unseen_auc is not None and fair.unseen_auc < 0.7
    assert [f.code for f in own_d_findings(fair, Thresholds())] == []


def test_the_auc_and_its_half_width_match_fresh_draws() -> None:
    """AUC exact on separated and identical samples; for two normals one unit apart
    (AUC = Phi(1 / sqrt 2) = 0.760) the Hanley-McNeil half-width covers the spread of the
    AUC over 200 fresh draws within a fifth."""
    ones, zeros = torch.ones(50), torch.zeros(50)
    assert memorisation(ones, zeros, -ones).auc == 1.0
    assert memorisation(ones, ones, -ones).auc == 0.5  # ties count half
    gen = torch.Generator().manual_seed(0)
    aucs, halves = [], []
    for _ in range(200):
        a, b = torch.randn(100, generator=gen) + 1, torch.randn(150, generator=gen)
        m = memorisation(a, b, b - 3)
        aucs.append(m.auc)
        halves.append(m.auc_uncertainty)
    spread = 1.959964 * float(torch.tensor(aucs).std())
    assert float(torch.tensor(aucs).mean()) == pytest.approx(0.760, abs=0.01)
    assert float(torch.tensor(halves).mean()) == pytest.approx(spread, rel=0.2)


def test_r_v_half_width_matches_fresh_draws() -> None:
    gen = torch.Generator().manual_seed(1)
    values, halves = [], []
    for _ in range(200):
        train, unseen = torch.randn(80, generator=gen) + 2, torch.randn(80, generator=gen) + 1
        m = memorisation(train, unseen, torch.randn(80, generator=gen))
        values.append(m.r_v)
        halves.append(m.r_v_uncertainty)
    assert float(torch.tensor(values).mean()) == pytest.approx(0.5, abs=0.03)
    spread = 1.959964 * float(torch.tensor(values).std())
    assert float(torch.tensor(halves).mean()) == pytest.approx(spread, rel=0.25)


def test_an_r1_the_run_claims_but_its_d_does_not_show_is_penalty_ineffective() -> None:
    """The D trained without R1, said to have gamma = 10: gamma / 2 R1 = 6.3 > ln 4. The D
    trained with gamma = 10: 0.26. No claim, no finding."""
    without = measure(*_trained_d(0.0))
    claimed = replace(without, r1_gamma=10.0)
    (finding,) = own_d_findings(claimed, Thresholds())
    assert finding.code == FindingCode.PENALTY_INEFFECTIVE
    assert finding.margin is not None and finding.margin.value > 2 * math.log(4)
    assert own_d_findings(without, Thresholds()) == []
    with_r1 = replace(measure(*_trained_d(10.0)), r1_gamma=10.0)
    assert 10.0 / 2 * with_r1.r1.mean < 0.5
    assert [f.code for f in own_d_findings(with_r1, Thresholds())] == []


def test_val_data_reaches_the_own_d_through_the_command_line(tmp_path: Path) -> None:
    """``--data`` the 64 images the D trained on, ``--val-data`` digits it never saw (the
    checkpoint's G is an untrained DCGAN; the AUC compares reals only): the JSON names the
    unseen reals, holds the AUC and the d_overfit finding; the table names them too."""
    memorised, pool, unseen = _split()
    d = _memorising_d(memorised, pool, 300)
    path = tmp_path / "checkpoint.pth"
    torch.save({"netG": untrained_dcgan().state_dict(), "netD": d.state_dict()}, path)
    write_pngs(tmp_path / "train", memorised)
    write_pngs(tmp_path / "unseen", unseen[:400])
    args = ["probe", str(path), "--data", str(tmp_path / "train"), "--val-data",
            str(tmp_path / "unseen"), "--steps", "5", "--batch-size", "16"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--json", "-"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)["checkpoints"][0]
    own = report["own_discriminator"]
    assert own["unseen"].endswith("(400 samples)") and own["unseen_auc"] > 0.9
    assert "d_overfit" in [f["code"] for f in report["findings"]]
    table = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert "P(training real > unseen real)" in table.output and "400 samples" in table.output


def test_disc_builds_an_unrecognised_d_and_reads_its_logits(tmp_path: Path) -> None:
    """``--disc`` with ``--disc-kwargs``: the D in the checkpoint's ``discriminator`` entry is
    built, its last Sigmoid left off (its logits are logit(D(x))); without ``--disc`` no D
    is found; wrong kwargs, weights that do not fit and ``--disc-kwargs`` alone are one
    line each, exit 2, naming the D's options."""
    import forward_archs

    torch.manual_seed(0)
    d = forward_archs.MLPDiscriminator(hidden=24)
    path = tmp_path / "checkpoint.pth"
    torch.save({"netG": untrained_dcgan().state_dict(), "discriminator": d.state_dict()}, path)
    write_pngs(tmp_path / "imgs", _digits(16)[:300])
    arch = str(Path(forward_archs.__file__)) + ":MLPDiscriminator"
    base = ["probe", str(path), "--data", str(tmp_path / "imgs"), "--steps", "3", "--json", "-"]
    plain = json.loads(CliRunner().invoke(app, base).stdout)["checkpoints"][0]
    assert plain["own_discriminator"] is None
    result = CliRunner().invoke(app, [*base, "--disc", arch, "--disc-kwargs", '{"hidden": 24}'])
    assert result.exit_code in (0, 1), result.output
    own = json.loads(result.stdout)["checkpoints"][0]["own_discriminator"]
    assert own["architecture"].endswith("(--disc)") and own["loss"].startswith("BCE")
    from gandoctor.loading.discriminators.checkpoint import find_own_discriminator

    found = find_own_discriminator(str(path), torch.device("cpu"), disc=arch,
                                   disc_kwargs={"hidden": 24})  # fmt: skip
    assert found is not None
    x = _digits(16)[:8]
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(found.module(x)), d.eval()(x), atol=1e-6)
    for extra, words in (
        (["--disc", arch, "--disc-kwargs", '{"width": 3}'], "--disc-kwargs"),
        (["--disc", arch], "does not fit"),  # hidden 32 against 24 in the file
        (["--disc-kwargs", "{}"], "--disc-kwargs needs --disc"),
    ):
        bad = CliRunner().invoke(app, [*base, *extra])
        assert bad.exit_code == 2 and words in bad.stderr and "Traceback" not in bad.output


def test_the_shipped_examples_own_d_lies_within_the_range_a_fresh_probe_d_reaches() -> None:
    """examples/with_d: the D that trained with the 10-epoch generator loads from the
    netD. key prefix beside netG., and its held-out accuracy, mean D(G(z)) and JS bound lie
    within what the probe's fresh D passes through in 150 steps (measured: own D 0.988,
    0.11, 0.53; the probe D from 0.5, 0.5, 0 to 1.0, 0.002, 0.69)."""
    import gandoctor
    from gandoctor.config import ProbeConfig

    root = Path(__file__).resolve().parents[1] / "examples"
    config = ProbeConfig(steps=150, early_stop=False)
    path = root / "with_d" / "dcgan_digits_epoch10.safetensors"
    report = gandoctor.probe(path, root / "digits", config=config)
    checkpoint = report.checkpoints[0]
    own, series = checkpoint.own_discriminator, checkpoint.outcome.series
    assert own is not None and own.source == "netD"
    assert checkpoint.generator["stripped_prefix"] == "netG."
    for figure, curve in ((own.heldout_accuracy, series.heldout_accuracy),
                          (own.mean_d_fake, series.d_fake),
                          (own.js_lower_bound, series.js_lower_bound)):  # fmt: skip
        assert min(curve) <= figure <= max(curve), (figure, min(curve), max(curve))
    assert own.heldout_accuracy > 0.9 and own.mean_d_real > 0.7

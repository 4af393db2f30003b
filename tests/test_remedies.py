"""Remedy checks (``--remedies``): instance noise and a WGAN-GP critic on reference cases.

An untrained 16x16 DCGAN against real digits (disjoint supports: the minimax gradient
vanishes), and a random DCGAN against its own samples (matched: W1 = 0).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import LATENT, _digits, calibrated_dcgan, samples_of, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.config import ProbeConfig, RemedyOptions
from gandoctor.enums import FindingCode
from gandoctor.errors import ConfigError
from gandoctor.probing.loop import run_probe
from gandoctor.probing.noise import InstanceNoise
from gandoctor.remedies.critic import run_critic
from gandoctor.remedies.sweep import check_remedies, cite_remedies
from gandoctor.results.remedies import RemedyResult

LATENT_SHAPE = (LATENT, 1, 1)
RANGE = (-1.0, 1.0)
# A fast D (5 times the default learning rate, half the batch) takes 1.7 decades off the
# untrained generator's minimax gradient in 120 steps (measured; the default D needs ~300
# steps for 1 decade at 16x16); no early stop, so every run has 120 steps.
CONFIG = ProbeConfig(steps=120, early_stop=False, lr=1e-3, batch_size=32, grad_batches=2)
# Twice the data range: in 256 pixels a D averages per-pixel noise away, so the noise that
# blurs an untrained generator's samples into the digits is large (README: measured).
LARGE_NOISE = 2.0


@pytest.fixture(scope="module")
def untrained() -> tuple[object, RemedyResult]:
    """The probe of an untrained DCGAN, and its remedy checks: noise at twice the data
    range, and a critic for as many steps as the probe ran."""
    generator, digits = untrained_dcgan(), _digits(16)
    outcome = run_probe(generator, LATENT_SHAPE, digits, CONFIG, output_range=RANGE)
    options = RemedyOptions(noise_levels=(LARGE_NOISE,))
    result = check_remedies(generator, LATENT_SHAPE, digits, CONFIG, outcome, options, RANGE)
    assert result is not None
    return outcome, result


def test_large_instance_noise_blurs_d_and_keeps_the_minimax_gradient_alive(untrained) -> None:
    _, result = untrained
    plain, noised = result.baseline, result.noise[0]
    assert result.data_range == 2.0 and noised.sigma == LARGE_NOISE * 2.0
    # Without noise D separates perfectly and the minimax gradient loses over a decade.
    assert plain.summary.final_accuracy == 1.0
    assert plain.summary.minimax_decades_lost >= 1.0 and plain.vanishes
    # Noise makes the supports overlap: D can no longer separate every sample, its JS
    # bound (on the noised distributions) drops, and the gradient does not decay.
    assert noised.summary.final_accuracy < 0.95
    assert noised.summary.final_js_lower_bound < plain.summary.final_js_lower_bound - 0.1
    assert noised.summary.minimax_decades_lost < 0.2
    assert not noised.saturated and noised.keeps_signal
    assert result.recommended is noised
    assert "start instance noise at sigma = 2 of the data range (4)" in result.recommendation


def test_critic_gradient_keeps_where_the_minimax_one_vanishes(untrained) -> None:
    _, result = untrained
    critic = result.critic
    assert critic is not None and critic.steps_run == result.baseline.summary.steps_run
    assert critic.decades_lost < 0.1
    assert result.baseline.summary.minimax_decades_lost - critic.decades_lost > 1.0
    assert critic.grad_end > 2 * critic.grad_start  # it grows as the critic learns
    assert result.critic_vanishes is False


def test_findings_cite_the_measurements(untrained) -> None:
    outcome, result = untrained
    cited = {f.code: f for f in cite_remedies(outcome.findings, result)}
    vanishing = cited[FindingCode.VANISHING]
    assert "Measured here: instance noise sigma=2 of the data range kept" in vanishing.remedy
    assert f"{result.noise[0].summary.minimax_decades_lost:.1f} decades lost" in vanishing.remedy
    assert f"gradient lost {result.critic.decades_lost:.1f} decades in 120 steps" in (
        vanishing.remedy
    )
    assert [f.code for f in cited.values()] == [f.code for f in outcome.findings]
    assert [f.severity for f in cited.values()] == [f.severity for f in outcome.findings]


def test_recommendation_is_the_smallest_sigma_below_which_nothing_fails(untrained) -> None:
    _, result = untrained
    check = result.noise[0]
    keeps = replace(check, saturated=False, vanishes=False)
    fails = replace(check, saturated=True)
    levels = [replace(keeps, share=0.5), replace(keeps, share=0.2), replace(fails, share=0.1),
              replace(keeps, share=0.05)]  # fmt: skip
    picked = replace(result, noise=levels).recommended
    assert picked is not None and picked.share == 0.2  # not 0.05: 0.1 in between failed
    none_helps = replace(result, noise=[fails, keeps])
    assert none_helps.recommended is None
    # Then the critic's W1 sets the scale: sigma = W1 / 3, as a share of the range (2).
    w1 = result.critic.w1_estimate
    assert none_helps.suggested_share == pytest.approx(w1 / 3 / 2)
    assert f"try --noise-levels {w1 / 6:.2g} (W1 / 3)" in none_helps.recommendation
    assert result.suggested_share is None  # a level tried helps: nothing to suggest
    alive = replace(result, baseline=replace(result.baseline, vanishes=False, saturated=False))
    assert alive.recommended is None and "no noise needed" in alive.recommendation


def test_w1_estimate_is_large_for_an_untrained_generator_and_near_zero_when_matched() -> None:
    options, config = RemedyOptions(), ProbeConfig(batch_size=32, grad_batches=2)
    far = run_critic(untrained_dcgan(), LATENT_SHAPE, _digits(16), config, options, steps=60)
    matched = calibrated_dcgan()
    own = samples_of(matched, 1024, seed=1)
    near = run_critic(matched, LATENT_SHAPE, own, config, options, steps=60)
    # A point-like generator against digits: W1 is the mean distance to the digits, ~10.
    assert far.w1_estimate > 3.0
    assert abs(near.w1_estimate) < 0.02 * far.w1_estimate
    assert far.series.step[-1] == near.series.step[-1] == 60


def test_noise_is_deterministic_and_off_means_no_noise_code_runs(monkeypatch, digits) -> None:
    generator, config = untrained_dcgan(), ProbeConfig(steps=10, grad_batches=1)
    plain = run_probe(generator, LATENT_SHAPE, digits, config).series.to_dict()
    noised = [
        run_probe(generator, LATENT_SHAPE, digits, replace(config, instance_noise=0.5))
        for _ in range(2)
    ]
    assert noised[0].series.to_dict() == noised[1].series.to_dict()
    assert noised[0].series.d_loss != plain["d_loss"]

    def refuse(*args: object) -> None:
        raise AssertionError("instance noise drawn without instance noise")

    monkeypatch.setattr(InstanceNoise, "_add", refuse)
    # Without noise nothing is drawn or added: the same numbers, to the last bit.
    assert run_probe(generator, LATENT_SHAPE, digits, config).series.to_dict() == plain
    with pytest.raises(AssertionError, match="drawn without"):
        run_probe(generator, LATENT_SHAPE, digits, replace(config, instance_noise=0.5))


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_bad_instance_noise_is_refused(value: float) -> None:
    with pytest.raises(ConfigError, match="instance noise"):
        ProbeConfig(instance_noise=value)
    with pytest.raises(ConfigError, match="noise levels"):
        RemedyOptions(noise_levels=(0.1, value))


# --- the command line ---------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("remedies")
    ckpt = folder / "g.safetensors"
    save_file({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}, str(ckpt))
    write_pngs(folder / "imgs", _digits(16)[:300])
    return ckpt, folder / "imgs"


def test_cli_remedies_table_and_json(files: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, imgs = files
    out = tmp_path / "report.json"
    args = ["probe", str(ckpt), "--data", str(imgs), "--steps", "8", "--remedies",
            "--noise-levels", "0.5,0.25", "--json", str(out)]  # fmt: skip
    table = runner.invoke(app, args, env={"COLUMNS": "220"})
    assert table.exit_code in (0, 1), table.output
    assert "remedies (same seed" in table.stdout
    assert "WGAN-GP critic" in table.stdout and "instance noise" in table.stdout
    report = json.loads(out.read_text())
    section = report["checkpoints"][0]["remedies"]
    assert [c["share"] for c in section["instance_noise"]] == [0.5, 0.25]
    assert [c["sigma"] for c in section["instance_noise"]] == [1.0, 0.5]
    assert all(c["steps_run"] == 8 for c in section["instance_noise"])
    critic = section["critic"]
    assert critic["steps_run"] == 8 and critic["w1_estimate"] > 0
    assert f"W1 ≈ {critic['w1_estimate']:.3g}" in table.stdout
    assert section["settings"]["gradient_penalty"] == 10.0
    assert section["baseline"]["share"] == 0.0
    assert report["settings"]["instance_noise"] == 0.0  # the probe itself ran without noise
    plain = runner.invoke(app, ["probe", str(ckpt), "--data", str(imgs), "--steps", "8",
                                "--json", "-"])  # fmt: skip
    assert json.loads(plain.stdout)["checkpoints"][0]["remedies"] is None


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--remedies", "--noise-levels", "0.1,abc"], "--noise-levels takes numbers"),
        (["--remedies", "--noise-levels", "0"], "positive shares"),
        (["--remedies", "--noise-levels", "0.1,-0.05"], "positive shares"),
        (["--remedies", "--noise-levels", "nan"], "positive shares"),
        (["--remedies", "--noise-levels", ","], "positive shares"),
        (["--noise-levels", "0.1"], "--noise-levels needs --remedies"),
    ],
)
def test_bad_noise_levels_are_a_usage_error(
    files: tuple[Path, Path], extra: list[str], needle: str
) -> None:
    ckpt, imgs = files
    result = runner.invoke(app, ["probe", str(ckpt), "--data", str(imgs), *extra])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gandoctor: error:"), result.stderr
    assert needle in lines[0], lines[0]
    assert result.stdout == ""

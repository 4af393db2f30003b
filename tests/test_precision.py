"""bf16 autocast (``--precision``): the same verdicts and, within bf16's rounding, the same
figures as float32 on the reference cases; vanishing gradients stay measurable."""

import pytest
import torch
from conftest import LATENT, calibrated_dcgan, samples_of, untrained_dcgan
from torch import nn

from gandoctor.config import ProbeConfig
from gandoctor.enums import FindingCode, Verdict
from gandoctor.errors import ConfigError
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing.loop import run_probe
from gandoctor.probing.steps import HeldoutFakes, measure
from gandoctor.runtime.precision import native_bf16, resolve_precision

LATENT_SHAPE = (LATENT, 1, 1)


def both(generator: nn.Module, latent, real: torch.Tensor, **settings):
    return [
        run_probe(generator, latent, real, ProbeConfig(precision=p, **settings))
        for p in ("fp32", "bf16")
    ]


def test_untrained_generator_bf16_matches_fp32(digits32):
    fp32, bf16 = both(untrained_dcgan(widths=(32, 16, 8)), LATENT_SHAPE, digits32, steps=200,
                      early_stop=False)  # fmt: skip
    assert bf16.verdict == fp32.verdict == Verdict.FAILING
    a, b = fp32.summary, bf16.summary
    assert a is not None and b is not None and a.steps_to_saturation is not None
    # Measurement steps are ~25 % apart there: one step of the schedule either way.
    assert b.steps_to_saturation == pytest.approx(a.steps_to_saturation, rel=0.3)
    # The figures the verdict reads, in decades: bf16 rounds at the third digit.
    assert b.minimax_decades_lost == pytest.approx(a.minimax_decades_lost, abs=0.2)
    assert b.nonsat_decades_gained == pytest.approx(a.nonsat_decades_gained, abs=0.2)
    assert b.final_js_lower_bound == pytest.approx(a.final_js_lower_bound, abs=0.01)


def test_matched_and_shifted_generators_keep_their_verdicts_in_bf16():
    generator = calibrated_dcgan()
    real = samples_of(generator, 2048, seed=1)
    for outcome in both(generator, LATENT_SHAPE, real, steps=200):
        assert outcome.summary is not None and outcome.summary.steps_to_saturation is None
        assert outcome.verdict == Verdict.HEALTHY

    torch.manual_seed(0)
    affine = nn.Linear(4, 8)
    with torch.no_grad():
        gaussian = affine(torch.randn(2048, 4))
    for outcome in both(affine, (4,), gaussian + 3.0, steps=200):
        assert FindingCode.SATURATION in {f.code for f in outcome.findings}


def test_a_vanishing_gradient_is_measured_in_bf16_not_rounded_to_zero(digits):
    """At a saturated D the minimax gradient is orders of magnitude down; bf16 keeps float32's
    exponent range, so it is measured to within its rounding, not lost (fp16 would be)."""
    generator = untrained_dcgan().eval()
    params = [p.requires_grad_() for p in generator.parameters()]
    disc = build_probe_discriminator((1, 16, 16))
    optimizer = torch.optim.Adam(disc.parameters(), lr=2e-3)
    fake = generator(torch.randn(512, *LATENT_SHAPE)).detach()
    labels = torch.cat([torch.ones(512), torch.zeros(512)])
    for _ in range(100):  # make D saturate: its fakes' sigmoid falls towards 0
        loss = nn.functional.binary_cross_entropy_with_logits(
            disc(torch.cat([digits[:512], fake])), labels
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    z = [LatentSpec.of(LATENT_SHAPE).sample(64, torch.Generator().manual_seed(1), "cpu")]
    figures = {
        p: measure(disc, params, HeldoutFakes(generator, z, ProbeConfig(precision=p)), digits)
        for p in ("fp32", "bf16")
    }
    assert figures["fp32"]["d_fake"] < 1e-3  # saturated: the regime where gradients vanish
    exact = figures["fp32"]["minimax_grad_mean"]
    assert 0 < exact < 1e-3 * figures["fp32"]["nonsat_grad_mean"]
    assert figures["bf16"]["minimax_grad_mean"] == pytest.approx(exact, rel=0.1)
    assert figures["bf16"]["nonsat_grad_mean"] == pytest.approx(
        figures["fp32"]["nonsat_grad_mean"], rel=0.1
    )


def test_auto_resolves_by_hardware_and_unknown_names_are_errors():
    assert resolve_precision("auto", "cpu") == ("bf16" if native_bf16("cpu") else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert ProbeConfig().precision == "fp32"  # the library is exact unless asked
    with pytest.raises(ConfigError, match="unknown precision 'fp16'"):
        ProbeConfig(precision="fp16")

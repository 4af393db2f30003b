"""D overfitting (analyses.overfitting): the StyleGAN2-ADA heuristics r_t and r_v on logits with a
known answer, and through the probe: D memorising 64 training images against a generator
matching the data, and D separating off samples, on a small and a large training set."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from conftest import LATENT, PoolGenerator, pool_and_data

from gandoctor.analyses.overfitting import heuristics
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.probing.loop import run_probe
from gandoctor.results.series import GeneratorHealth, ProbeSeries

LATENT_SHAPE = (LATENT, 1, 1)
SMALL = 128  # real images: 64 for D to train on, 64 held out


def spread(center: float, n: int = 100) -> torch.Tensor:
    """``n`` logits symmetric around ``center``, so their mean is exactly ``center``."""
    offsets = torch.linspace(-0.5, 0.5, n)
    return center + offsets


def test_heuristics_on_logits_with_known_answers():
    r_t, r_v = heuristics(spread(2.0), spread(0.0), spread(-2.0))
    assert r_t == 1.0  # every training logit is positive
    assert r_v == pytest.approx(0.5)  # held-out reals sit half-way to the fakes
    assert heuristics(spread(2.0), spread(2.0), spread(-2.0))[1] == pytest.approx(0.0)
    assert heuristics(spread(2.0), spread(-2.0), spread(-2.0))[1] == pytest.approx(1.0)
    assert heuristics(torch.tensor([1.0, 2.0, 3.0, -1.0]), spread(0), spread(-9))[0] == 0.5


def test_rv_is_undefined_without_a_significant_gap_to_the_fakes():
    same = heuristics(spread(0.0), spread(0.0), spread(0.01))[1]
    reversed_gap = heuristics(spread(-2.0), spread(0.0), spread(2.0))[1]
    assert math.isnan(same) and math.isnan(reversed_gap)
    # 0.2 apart with a spread of 0.29 over 100 logits is 4.9 standard errors: defined.
    assert heuristics(spread(0.2), spread(0.1), spread(0.0))[1] == pytest.approx(0.5)


FIGURES = [
    f.name
    for f in dataclasses.fields(ProbeSeries)
    if f.name not in {"step", "overfit_rt", "overfit_rv"}
]


def flat_series(r_t: list[float], r_v: list[float]) -> ProbeSeries:
    """Every other figure at 0.5: D separates nothing, no other finding."""
    s = ProbeSeries()
    for step, (t, v) in enumerate(zip(r_t, r_v, strict=True)):
        s.append(step=step, **dict.fromkeys(FIGURES, 0.5), overfit_rt=t, overfit_rv=v)
    return s


def test_final_rv_is_the_median_of_its_defined_values():
    s = flat_series([0.7] * 4, [0.1, math.nan, 0.8, math.nan])
    summary = summarize(s, 0.99, 0.01)
    assert summary.final_overfit_rv == 0.8 and summary.final_overfit_rt == 0.7
    assert math.isnan(summarize(flat_series([0.7], [math.nan]), 0.99, 0.01).final_overfit_rv)
    s.append(step=4, **dict.fromkeys(FIGURES, 0.5))  # a caller without the figures: NaN
    assert math.isnan(s.overfit_rt[-1]) and math.isnan(s.overfit_rv[-1])


@pytest.mark.parametrize(
    ("r_t", "r_v", "noted"),
    [(0.8, 0.9, True), (0.8, 0.4, False), (0.3, 0.9, False), (0.8, math.nan, False)],
)
def test_overfitting_note_needs_both_heuristics(r_t, r_v, noted):
    summary = summarize(flat_series([r_t] * 3, [r_v] * 3), 0.99, 0.01)
    health = GeneratorHealth(0, 0.0, 0.3, 0.4, None)
    findings = find(summary, health, Thresholds())
    notes = [f for f in findings if f.code == FindingCode.OVERFITTING]
    assert len(notes) == noted and len(findings) == noted
    if noted:
        assert notes[0].severity == Severity.INFO
        assert notes[0].evidence == {"r_t": r_t, "r_v": r_v}


def probe(generator, real, steps, **settings):
    outcome = run_probe(generator, LATENT_SHAPE, real, ProbeConfig(steps=steps, grad_batches=1,
                                                                   **settings))  # fmt: skip
    assert outcome.summary is not None
    return outcome.summary, {f.code for f in outcome.findings}


def test_matched_generator_on_64_images_gets_the_overfitting_note(digits):
    """Against samples of the data itself D has nothing to learn but its training images:
    on 64 of them it grows sure of them (r_t), and unseen digits score like generated
    ones (r_v near 1). On 644, D's confidence stays low. (lr 1e-3 for speed: r_t reaches
    the same values after 600 steps at the default 2e-4.)"""
    pool, data = pool_and_data(digits)
    small, small_codes = probe(PoolGenerator(pool), data[:SMALL], 200, lr=1e-3)
    large, large_codes = probe(PoolGenerator(pool), data, 200, lr=1e-3)
    assert small.final_overfit_rt >= 0.7 and small.final_overfit_rv >= 0.9
    assert FindingCode.OVERFITTING in small_codes
    assert large.final_overfit_rt < 0.4
    # r_v, where defined, is lower: D's small training-vs-generated gap is partly noise.
    assert math.isnan(large.final_overfit_rv) or large.final_overfit_rv < 0.7
    assert FindingCode.OVERFITTING not in large_codes


def test_rv_tells_off_samples_from_memorisation(digits):
    """Digits with noise (sd 0.3) are off: on 644 training images D separates them while
    scoring unseen digits like its training ones (r_v ~ 0); on 64 it also memorises them."""
    pool, data = pool_and_data(digits)
    noisy = PoolGenerator(pool, noise=0.3)
    large, _ = probe(noisy, data, 150)
    small, _ = probe(noisy, data[:SMALL], 150)
    assert large.final_accuracy > 0.95 and large.final_overfit_rt > 0.9
    assert large.final_overfit_rv < 0.05
    assert small.final_overfit_rv > large.final_overfit_rv + 0.15

"""Mode collapse (analyses.collapse, judge.samples): figures with known answers, and reference
generators through the probe: one that ignores z, one with three outputs, one matching the
data, one that drops half the digit classes."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import LATENT, PoolGenerator, _digits, pool_and_data
from rich.console import Console
from sklearn.datasets import load_digits

from gandoctor.analyses.collapse import (
    duplicate_rate,
    duplicate_threshold,
    features,
    measure_collapse,
    precision_coverage,
)
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.judge.gate import parse_fail_on
from gandoctor.judge.samples import collapse_drafts
from gandoctor.probing.loop import run_probe
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.terminal.tables import render_report

T = Thresholds()
LATENT_SHAPE = (LATENT, 1, 1)
FEW_STEPS = ProbeConfig(steps=5)  # the collapse figures depend on the generator only


def collapse_of(outcome):
    return [f for f in outcome.findings if f.code == FindingCode.COLLAPSE]


# --- the figures, on inputs with a known answer -----------------------------------------


def test_precision_and_coverage_on_points_with_known_answers():
    real = torch.arange(10.0)[:, None]  # 0, 1, ..., 9: every 1-NN radius is 1
    precision, coverage = precision_coverage(real, torch.tensor([[0.5], [20.0]]), k=1)
    assert precision == 0.5  # 0.5 lies in the balls of 0 and 1; 20 in none
    assert coverage == 0.2  # the balls of 0 and 1 hold a fake
    # The end points' radius is 1 at k = 1 and 2 at k = 2: -1.5 lies only in 0's 2-NN ball.
    assert precision_coverage(real, torch.tensor([[-1.5]]), k=1) == (0.0, 0.0)
    assert precision_coverage(real, torch.tensor([[-1.5]]), k=2) == (1.0, 0.1)
    with pytest.raises(ValueError, match="more than k = 5"):
        precision_coverage(real[:5], real, k=5)


def test_near_duplicate_threshold_and_rate():
    line = torch.arange(10.0)[:, None]  # 45 pairs: nine at distance 1, eight at 2, ...
    assert duplicate_threshold(line, percentile=1.0) == 1.0
    assert duplicate_threshold(line, percentile=50.0) == 3.0
    assert duplicate_rate(torch.tensor([[0.0], [0.0], [5.0]]), 1.0) == pytest.approx(1 / 3)


def test_features_pool_images_to_8x8_and_keep_vectors():
    blocks = torch.arange(64.0).view(1, 1, 8, 8)
    image = blocks.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # 16x16, 2x2 blocks
    assert torch.equal(features(image), blocks.flatten(1).double())
    assert features(torch.ones(2, 3, 32, 32)).shape == (2, 3 * 64)
    assert features(torch.ones(2, 1, 16, 4)).shape == (2, 8 * 4)
    assert features(torch.ones(2, 1, 6, 6)).shape == (2, 36)  # small images stay as they are
    vectors = torch.randn(5, 8)
    assert torch.equal(features(vectors), vectors.double())


def test_large_samples_are_capped_and_gaussians_match():
    rng = torch.Generator().manual_seed(0)
    real, fake, reference = (torch.randn(2100, 4, generator=rng) for _ in range(3))
    c = measure_collapse(real, fake, reference)
    assert c.samples == 2048 and c.features == 4  # torch.quantile refuses over 2^24 pairs
    assert abs(c.diversity_ratio - 1) < 0.02 and abs(c.duplicate_ratio - 1) < 0.15
    assert c.precision > 0.95 and c.coverage > 0.95


# --- reference generators ------------------------------------------------------------------


def test_generator_that_ignores_z_shows_in_the_numbers(digits):
    pool, data = pool_and_data(digits)
    real, reference = data[:256], data[256:512]
    one_digit = measure_collapse(real, pool[:1].expand(256, -1, -1, -1), reference)
    assert one_digit.diversity_ratio == 0.0
    assert one_digit.duplicate_rate == 1.0  # every pair is identical
    assert 0.005 < one_digit.real_duplicate_rate < 0.02  # about the 1 % of tau's definition
    assert one_digit.coverage < 0.05  # one sample fills a handful of k-NN balls
    assert one_digit.precision == 1.0  # but it is a real digit
    gray = measure_collapse(real, torch.zeros(256, 1, 16, 16), reference)
    assert (gray.diversity_ratio, gray.duplicate_rate, gray.precision, gray.coverage) == (
        0.0, 1.0, 0.0, 0.0,
    )  # fmt: skip
    (draft,) = collapse_drafts(one_digit, T)
    assert draft.severity == Severity.FAIL and "100.0% of generated pairs" in draft.message
    # Through the probe the health check reports it broken, before any collapse figure.
    outcome = run_probe(PoolGenerator(pool[:1]), LATENT_SHAPE, data, FEW_STEPS)
    assert outcome.verdict == Verdict.BROKEN and outcome.collapse is None
    assert not collapse_of(outcome)


@pytest.fixture(scope="module")
def three_and_matched():
    """Probes of a generator with three outputs and of one matching the data."""
    pool, data = pool_and_data(_digits(16).clone())
    three = run_probe(PoolGenerator(pool[:3]), LATENT_SHAPE, data, FEW_STEPS)
    matched = run_probe(PoolGenerator(pool), LATENT_SHAPE, data, FEW_STEPS)
    return three, matched


def test_generator_with_three_outputs_gets_the_collapse_finding(three_and_matched):
    three, _ = three_and_matched
    c = three.collapse
    assert c is not None and c.samples == 256 and c.features == 64
    assert 0.25 < c.duplicate_rate < 0.45  # about 1/3 of pairs share an output
    assert c.duplicate_ratio >= 20
    assert c.coverage < 0.1 and c.diversity_ratio < 0.8
    (finding,) = collapse_of(three)
    assert finding.severity == Severity.FAIL
    assert finding.evidence["duplicate_ratio"] == c.duplicate_ratio
    assert "-log D(G(z))" in finding.remedy
    assert three.verdict == Verdict.FAILING


def test_generator_matching_the_data_has_no_collapse_finding(three_and_matched):
    _, matched = three_and_matched
    c = matched.collapse
    assert c is not None
    assert 0.9 < c.diversity_ratio < 1.1
    assert 0.5 < c.duplicate_ratio < 2
    assert c.precision > 0.9 and c.coverage > 0.9  # Naeem et al.: 0.97 expected at k = 5
    assert not collapse_of(matched)
    assert matched.verdict == Verdict.HEALTHY


def test_dropped_modes_warn_through_coverage(digits):
    labels = torch.tensor(load_digits().target)
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    real, reference, pool = order[:256], order[256:512], order[512:]
    half = pool[labels[pool] < 5]  # digits 0-4 only, sampled with replacement
    picks = half[torch.randint(len(half), (256,), generator=torch.Generator().manual_seed(1))]
    c = measure_collapse(digits[real], digits[picks], digits[reference])
    assert c.precision >= 0.9 and c.coverage < 0.7  # realistic, but half the data uncovered
    assert c.diversity_ratio > 0.9 and c.duplicate_ratio < 3.5  # the other tests miss it
    (draft,) = collapse_drafts(c, T)
    assert draft.severity == Severity.WARN and "look real (precision)" in draft.message


def test_coverage_thresholds_are_probabilities():
    with pytest.raises(ConfigError, match="collapse_warn_coverage is a probability"):
        Thresholds(collapse_warn_coverage=1.5)


# --- report and tables ---------------------------------------------------------------------


def test_collapse_figures_in_json_and_tables(three_and_matched):
    generator = {"architecture": "pool", "latent_shape": [16, 1, 1], "output_shape": [1, 16, 16]}
    reports = [CheckpointReport(name, generator, {}, o) for name, o in
               zip(("three.pt", "matched.pt"), three_and_matched, strict=True)]  # fmt: skip
    both = Report(reports, FEW_STEPS, parse_fail_on("fail"), "test")
    data = json.loads(both.to_json())
    three = data["checkpoints"][0]
    stats = three_and_matched[0].collapse
    assert three["collapse"]["diversity_ratio"] == stats.diversity_ratio
    assert three["collapse"]["duplicate_ratio"] == stats.duplicate_ratio
    assert {"precision", "coverage", "real_duplicate_rate", "k"} <= three["collapse"].keys()
    assert math.isfinite(three["summary"]["final_overfit_rt"])
    assert len(three["series"]["overfit_rv"]) == len(three["series"]["step"])

    def text(report: Report) -> str:
        console = Console(width=250, record=True)
        console.print(render_report(report))
        return console.export_text()

    single = text(Report(reports[:1], FEW_STEPS, parse_fail_on("fail"), "test"))
    row = next(line for line in single.splitlines() if "near-duplicate pairs" in line)
    assert f"{stats.duplicate_rate:.1%} / {stats.real_duplicate_rate:.1%}" in row
    assert f"{stats.precision:.3f} / {stats.coverage:.3f}" in single
    comparison = text(both)
    assert f"{stats.duplicate_ratio:.1f}x" in comparison

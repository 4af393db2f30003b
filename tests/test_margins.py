"""Every finding states its margin: collapse by diversity or coverage, overfitting and range
mismatch, with uncertainties checked against the spread they claim to describe."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from gandoctor.analyses.collapse import diversity_ratio
from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.judge.rules import find
from gandoctor.judge.samples import collapse_drafts, overfitting_drafts
from gandoctor.judge.summarise import summarize
from gandoctor.nn.generator import _extreme_gap
from gandoctor.results.outcome import Finding
from gandoctor.results.readings import end_indexes, window_uncertainty
from gandoctor.results.samples import CollapseStats
from gandoctor.results.series import GeneratorHealth
from tests.test_readings import STEPS, series

T = Thresholds()


def stats(**changes: float) -> CollapseStats:
    values = dict(samples=256, features=64, diversity_ratio=0.9, duplicate_threshold=1.0,
                  duplicate_rate=0.011, real_duplicate_rate=0.011, precision=0.5,
                  coverage=0.9, diversity_uncertainty=0.02)  # fmt: skip
    return CollapseStats(**{**values, **changes})  # type: ignore[arg-type]


def collapse(c: CollapseStats) -> Finding:
    (finding,) = [Finding(*d) for d in collapse_drafts(c, T)]
    return finding


def test_diversity_ratio_uncertainty_matches_its_spread_over_fresh_draws() -> None:
    """The U-statistic half-width against the ratio's spread over 60 independent draws of
    256 samples each from two Gaussians whose true ratio is 0.5."""
    gen = torch.Generator().manual_seed(0)
    draws = [
        diversity_ratio(torch.randn(256, 16, generator=gen, dtype=torch.float64),
                        0.5 * torch.randn(256, 16, generator=gen, dtype=torch.float64))
        for _ in range(60)
    ]  # fmt: skip
    ratios = [r for r, _ in draws]
    claimed_sd = statistics.fmean(u for _, u in draws) / Z95
    assert statistics.fmean(ratios) == pytest.approx(0.5, abs=0.005)
    assert claimed_sd == pytest.approx(statistics.stdev(ratios), rel=0.35)
    # 95 % intervals: nearly all of them hold the true ratio.
    assert sum(abs(r - 0.5) <= u for r, u in draws) >= 52


def test_a_collapse_decided_by_diversity_states_its_margin() -> None:
    firm = collapse(stats(diversity_ratio=0.5, diversity_uncertainty=0.05))
    assert firm.severity == Severity.WARN and firm.margin is not None
    assert (firm.margin.figure, firm.margin.threshold) == ("diversity_ratio", 0.75)
    assert not firm.borderline
    assert collapse(stats(diversity_ratio=0.72, diversity_uncertainty=0.05)).borderline


def test_a_collapse_decided_by_coverage_has_a_binomial_margin() -> None:
    finding = collapse(stats(precision=0.95, coverage=0.70))
    assert finding.margin is not None and finding.margin.figure == "coverage"
    assert finding.margin.uncertainty == pytest.approx(Z95 * math.sqrt(0.7 * 0.3 / 256))
    assert finding.borderline  # 0.05 from 0.75, with a half-width of 0.056
    assert not collapse(stats(precision=0.95, coverage=0.5)).borderline


def test_a_collapse_with_several_reasons_is_borderline_only_if_all_are() -> None:
    both = stats(diversity_ratio=0.74, diversity_uncertainty=0.05, precision=0.95,
                 coverage=0.3)  # fmt: skip
    finding = collapse(both)
    assert finding.margin is not None and finding.margin.figure == "coverage"
    assert not finding.borderline
    # A fail by duplicates is decided by the duplicate ratio, whatever warns beside it.
    failing = collapse(stats(duplicate_rate=0.5, diversity_ratio=0.5))
    assert failing.severity == Severity.FAIL
    assert failing.margin is not None and failing.margin.figure == "duplicate_ratio"


def test_overfitting_stands_or_falls_with_the_less_secure_of_r_t_and_r_v() -> None:
    s = series(STEPS, [1.0] * len(STEPS), [1.0] * len(STEPS))
    end = end_indexes(s.step)
    s.overfit_rt = [0.9] * len(STEPS)
    s.overfit_rv = [0.8] * (len(STEPS) - 3) + [0.45, 0.62, 0.53]
    assert len(end) == 3  # steps 450, 475, 500: the last tenth of the run
    summary = summarize(s, 0.99, 0.01)
    assert summary.overfit_rv_uncertainty == pytest.approx(
        window_uncertainty([s.overfit_rv[i] for i in end])
    )
    assert summary.overfit_rt_uncertainty == 0.0
    (draft,) = overfitting_drafts(summary, T)
    finding = Finding(*draft)
    assert finding.margin is not None and finding.margin.figure == "overfit_rv"
    assert finding.borderline  # r_v 0.53 against 0.5, half-width 0.099
    assert summary.overfit_rv_uncertainty > abs(summary.final_overfit_rv - T.overfit_rv)


def test_window_uncertainty_is_the_median_s_half_width() -> None:
    assert window_uncertainty([1.0, 3.0]) == pytest.approx(1.96 * 1.2533 * 1.0 / math.sqrt(2))
    assert window_uncertainty([2.0, math.nan]) == 0.0


def test_extreme_gap_is_the_spacing_of_the_two_most_extreme_samples() -> None:
    values = torch.tensor([[0.0, 0.9], [0.1, 0.5], [-0.7, 0.2], [-1.0, 0.0]])
    assert _extreme_gap(values) == pytest.approx(0.4)  # max: 0.9 vs 0.5; min: -1.0 vs -0.7
    assert _extreme_gap(values[:1]) == 0.0
    assert _extreme_gap(torch.tensor([[math.nan], [1.0]])) == 0.0


def health(**changes: float) -> GeneratorHealth:
    values = dict(nonfinite_parameters=0, nonfinite_output_share=0.0, output_spread=0.3,
                  real_spread=0.4, train_eval_difference=None, output_min=-1.0,
                  output_max=1.0, real_min=-1.0, real_max=1.0, output_range=(-1.0, 1.0),
                  extreme_uncertainty=0.02)  # fmt: skip
    return GeneratorHealth(**{**values, **changes})  # type: ignore[arg-type]


def range_finding(h: GeneratorHealth) -> Finding:
    (finding,) = [f for f in find(None, h, T) if f.code == FindingCode.RANGE_MISMATCH]
    return finding


def test_range_mismatch_by_overshoot_states_its_margin() -> None:
    far = range_finding(health(output_max=2.0))
    assert far.margin is not None and far.margin.figure == "range_overshoot"
    assert far.margin.value == pytest.approx(0.5) and far.margin.uncertainty == 0.01
    assert not far.borderline
    near = range_finding(health(output_max=1.11, extreme_uncertainty=0.04))
    assert near.borderline  # 0.055 of the span against 0.05, half-width 0.02


def test_range_mismatch_by_overlap_states_its_margin() -> None:
    # A tanh generator trained on [0, 1]: generated values in [-1, 1], real data in [0, 1].
    finding = range_finding(health(output_min=0.0, output_max=1.0, real_min=-1.0, real_max=0.2))
    assert finding.margin is not None and finding.margin.figure == "range_overlap"
    assert finding.margin.value == pytest.approx(0.2 / 1.2)
    assert finding.margin.uncertainty == pytest.approx(0.02 / 1.2)
    assert not finding.borderline


def test_layers_and_the_critic_read_their_end_over_the_end_window() -> None:
    """A gradient that swings 30-fold in the last tenth: the end is the window's median,
    not the last three points' (the layers' and the critic's old reading)."""
    from gandoctor.remedies.critic import _outcome
    from gandoctor.results.layers import LayerGradient
    from gandoctor.results.remedies import CriticSeries

    steps = list(range(0, 501, 10))  # the end window holds steps 450-500: six points
    grads = [1.0] * 45 + [30.0, 1.0, 30.0, 1.0, 1.0, 30.0]
    end = tuple(end_indexes(steps))
    assert len(end) == 6
    layer = LayerGradient("main.0", "Conv2d", 10, grads, grads, peak_index=0, end=end)
    assert layer.minimax_end == layer.nonsat_end == pytest.approx(15.5)
    critic = CriticSeries(step=steps, critic_gap=grads, slope=[1.0] * len(steps),
                          w1_estimate=grads, grad_mean=grads,
                          grad_std=[0.0] * len(steps))  # fmt: skip
    outcome = _outcome(critic, "done", 1.0)
    assert outcome.w1_estimate == outcome.grad_end == pytest.approx(15.5)

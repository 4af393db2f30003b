"""Analytic checks of the probe's figures."""

import math

import pytest
import torch
from torch import nn

from gandoctor.nn import metrics
from gandoctor.nn.discriminators import build_probe_discriminator


def test_heldout_stats_of_a_perfect_discriminator():
    real = torch.full((100,), 20.0)  # D(x) = sigmoid(20) ~ 1
    fake = torch.full((100,), -20.0)  # D(G(z)) ~ 2e-9
    s = metrics.heldout_stats(real, fake)
    assert s.accuracy == 1.0
    assert s.d_loss == pytest.approx(2 * math.log1p(math.exp(-20.0)), rel=1e-6)
    assert s.fake_saturated_share == 1.0
    # L_D ~ 0, so the bound reaches its maximum log 2: disjoint supports.
    assert s.js_lower_bound == pytest.approx(math.log(2), abs=1e-6)


def test_heldout_stats_of_a_chance_discriminator():
    s = metrics.heldout_stats(torch.zeros(64), torch.zeros(64))
    assert s.d_real == s.d_fake == 0.5
    assert s.d_loss == pytest.approx(2 * math.log(2))
    assert s.js_lower_bound == 0.0
    assert s.fake_saturated_share == 0.0


def test_accuracy_is_balanced_between_real_and_fake():
    real = torch.tensor([1.0, 1.0, 1.0, -1.0])  # 3 of 4 real called real
    fake = torch.tensor([-1.0, 1.0])  # 1 of 2 fakes called fake
    assert metrics.heldout_stats(real, fake).accuracy == pytest.approx((0.75 + 0.5) / 2)


def test_js_lower_bound_is_clamped_and_exact():
    assert metrics.js_lower_bound(3.0) == 0.0
    assert metrics.js_lower_bound(1.0) == pytest.approx(math.log(2) - 0.5)
    assert math.isnan(metrics.js_lower_bound(math.nan))


def test_costs_match_their_definitions():
    logits = torch.tensor([-3.0, 0.0, 2.5])
    d = torch.sigmoid(logits)
    assert metrics.minimax_cost(logits) == pytest.approx(float(torch.log(1 - d).mean()), rel=1e-6)
    assert metrics.nonsaturating_cost(logits) == pytest.approx(
        float(-torch.log(d).mean()), rel=1e-6
    )


def test_gradient_norm_is_the_global_l2_norm():
    w = nn.Parameter(torch.tensor([1.0, 2.0]))
    b = nn.Parameter(torch.tensor(0.5))
    unused = nn.Parameter(torch.tensor(3.0))
    cost = (3 * w).sum() + 4 * b  # d/dw = (3, 3), d/db = 4
    assert metrics.gradient_norm(cost, [w, b, unused]) == pytest.approx(math.sqrt(9 + 9 + 16))


def test_minimax_gradient_vanishes_where_nonsaturating_does_not():
    # Theorem 2.4 in one dimension: with D(G(z)) = sigmoid(a - theta), the minimax cost's
    # derivative carries a factor D(G(z)) and vanishes as D rejects the fake; the -log D
    # cost's derivative tends to 1.
    theta = nn.Parameter(torch.tensor(0.0))
    for a, small in [(-2.0, False), (-15.0, True)]:
        logit = (a + theta).reshape(1)
        mm = metrics.gradient_norm(metrics.minimax_cost(logit), [theta], retain_graph=True)
        ns = metrics.gradient_norm(metrics.nonsaturating_cost(logit), [theta])
        assert mm == pytest.approx(float(torch.sigmoid(torch.tensor(a))), rel=1e-5)
        assert ns == pytest.approx(float(torch.sigmoid(torch.tensor(-a))), rel=1e-5)
        assert (mm < 1e-6) is small


def test_sample_spread_and_relative_difference():
    assert metrics.sample_spread(torch.ones(8, 3, 4, 4)) == 0.0
    x = torch.tensor([[0.0], [2.0]])
    assert metrics.sample_spread(x) == pytest.approx(math.sqrt(2))
    assert (
        metrics.relative_difference(torch.tensor([3.0, 4.0]), torch.tensor([0.0, 0.0])) == math.inf
    )
    assert metrics.relative_difference(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == 1.0


def test_nonfinite_count_ignores_integer_tensors():
    t = torch.tensor([1.0, math.nan, math.inf])
    assert metrics.nonfinite_count([t, torch.tensor([1, 2])]) == 2


@pytest.mark.parametrize(
    ("shape", "kind"), [((3, 64, 64), "ConvProbe"), ((1, 32, 32), "ConvProbe"), ((2,), "MLPProbe")]
)
def test_probe_discriminator_gives_one_logit_per_sample(shape, kind):
    disc = build_probe_discriminator(shape)
    assert type(disc).__name__ == kind
    assert disc(torch.randn(5, *shape)).shape == (5,)

"""A probe that plans to its time (probing.plan): the prediction, the choice of level, what a
planned run changes, and that it is stated wherever the report goes."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
import torch
from conftest import LATENT, untrained_dcgan

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.enums import Verdict
from gandoctor.errors import ConfigError
from gandoctor.nn.latent import LatentSpec
from gandoctor.plans import PLAN_LEVELS
from gandoctor.probing import costs
from gandoctor.probing import loop as probing_loop
from gandoctor.probing import plan as planning
from gandoctor.probing.loop import run_probe
from gandoctor.probing.steps import POOL_BATCHES, TrainingFakes
from gandoctor.report.markdown import render_markdown

LATENT_SHAPE = (LATENT, 1, 1)
LIMITS = (2**23, 2**40)  # the kept graphs' limits: values, bytes (probing.steps)
# A generator whose batch of fakes costs 0.2 s, its gradient pass 1 s for 16 samples, and
# a D step 0.1 s: the 64x64 StyleGAN2 of the speed issue, roughly.
COSTS = planning.Costs(generate=0.2, d_step=0.1, gradient=1.0, gradient_samples=16,
                       whole_gradient=None, sample_values=3 * 64 * 64)  # fmt: skip


def predictions(config: ProbeConfig) -> list[float]:
    return [planning.predict(level, config, COSTS, 256, LIMITS, False) for level in PLAN_LEVELS]


def test_each_level_is_predicted_to_cost_less_than_the_one_before() -> None:
    seconds = predictions(ProbeConfig())
    assert all(later < earlier for earlier, later in itertools.pairwise(seconds))
    # The full protocol: 500 steps of a D step and a batch of fakes, plus 35 measurements of
    # 4 latent batches, each two backward passes through G (its graph kept: 4 x 64 samples)
    # at 64 / 16 x 1 s less the forward pass's 0.2 s, and D's passes.
    steps = 500 * (0.1 + 0.2)
    per_batch = 2 * (64 / 16 * 1.0 - 0.2) + 0.1 / 128 * 64
    held_out = 0.1 / 128 / 3 * (256 + 256)
    assert seconds[0] == pytest.approx(steps + 35 * (4 * per_batch + held_out), rel=1e-6)


def test_the_first_level_that_fits_is_chosen_and_the_last_where_none_does() -> None:
    seconds = predictions(ProbeConfig())
    for budget, level in ((seconds[0] + 1, 0), (seconds[2] + 1, 2), (1.0, len(PLAN_LEVELS) - 1)):
        config = ProbeConfig(max_seconds=budget)
        plan = planning.choose_plan(config, COSTS, 256, 0.0, LIMITS, False)
        assert plan.level == level, (budget, plan)
        assert plan.full_seconds == pytest.approx(seconds[0])
        assert plan.predicted_seconds == pytest.approx(seconds[level])
    # Time already spent counts against the budget.
    spent = planning.choose_plan(ProbeConfig(max_seconds=seconds[0] + 1), COSTS, 256, 2.0,
                                 LIMITS, False)  # fmt: skip
    assert spent.level == 1


def test_no_budget_means_the_full_protocol_and_a_level_can_be_asked_for() -> None:
    assert planning.choose_plan(ProbeConfig(), COSTS, 256, 0, LIMITS, False).level == 0
    gpu = ProbeConfig(cpu_budget=1.0, device="cuda") if torch.cuda.is_available() else None
    if gpu is not None:  # the CPU budget does not apply on a GPU
        assert planning.choose_plan(gpu, COSTS, 256, 0, LIMITS, False).level == 0
    asked = planning.choose_plan(ProbeConfig(plan="3", max_seconds=1e9), COSTS, 256, 0, LIMITS,
                                 False)  # fmt: skip
    assert (asked.level, asked.fake_reuse, asked.grad_batches, asked.grad_batch_size) == (
        3,
        8,
        2,
        32,
    )
    full = planning.choose_plan(ProbeConfig(plan="full", max_seconds=1), COSTS, 256, 0, LIMITS,
                                False)  # fmt: skip
    assert full.level == 0 and not full.planned
    with pytest.raises(ConfigError, match="plan"):
        ProbeConfig(plan="7")


def test_the_pool_serves_each_fake_reuse_times_on_average() -> None:
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            calls.append(len(z))
            return z.flatten(1)[:, :4]

    config = ProbeConfig(batch_size=8)
    spec = LatentSpec.of((4,))
    pool = TrainingFakes(Counting(), spec, config, torch.Generator().manual_seed(0),
                         torch.device("cpu"), reuse=8)  # fmt: skip
    batches = [pool.next() for _ in range(400)]
    assert all(b.shape == (8, 4) for b in batches)
    # Four batches fill the pool over the first four steps, then one fresh batch every 8th
    # step: 400 steps of 8 fakes made from 54 batches, each fake used about 8 times.
    assert sum(calls) == 8 * (POOL_BATCHES + 400 // 8)
    # Every batch is drawn from the pool without replacement: no fake twice in a batch.
    assert all(len({tuple(row.tolist()) for row in b}) == 8 for b in batches)


def test_a_planned_probe_of_an_untrained_generator_keeps_the_verdict(digits) -> None:
    full = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, ProbeConfig(steps=300))
    last = str(len(PLAN_LEVELS) - 1)
    planned = run_probe(untrained_dcgan(), LATENT_SHAPE, digits,
                        ProbeConfig(steps=300, plan=last))  # fmt: skip
    assert full.verdict == planned.verdict == Verdict.FAILING
    assert full.plan is not None and planned.plan is not None
    assert not full.plan.planned and planned.plan.planned
    assert len(planned.series) < len(full.series)  # the sparser schedule, among the rest
    assert planned.summary is not None and planned.summary.steps_to_saturation is not None


def test_auto_without_a_budget_changes_nothing_and_timing_leaves_d_untouched(digits) -> None:
    """The library's default plans nothing; with a roomy budget the costs are timed (a D
    pass and a G pass) and the full protocol runs with the very same figures."""
    config = ProbeConfig(steps=40, early_stop=False)
    plain = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, config)
    timed = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, replace(config, max_seconds=1e6))
    assert plain.plan is not None and plain.plan.predicted_seconds is None  # not timed
    assert timed.plan is not None and timed.plan.predicted_seconds is not None
    assert timed.plan.level == 0
    assert timed.series.to_dict() == plain.series.to_dict()


def test_a_planned_run_is_stated_in_the_json_the_markdown_and_the_baseline(
    digits, tmp_path
) -> None:
    config = ProbeConfig(steps=30, plan="3")
    report = gandoctor.probe(untrained_dcgan(), digits, config=config)
    probe = report.to_dict()["checkpoints"][0]["probe"]
    assert probe["plan"]["level"] == 3 and probe["plan"]["fake_reuse"] == 8
    markdown = render_markdown(report)
    assert "planned, level 3" in markdown and "planned run (level 3:" in markdown
    baseline = tmp_path / "baseline.json"
    baseline.write_text(report.to_json())
    again = gandoctor.probe(untrained_dcgan(), digits, config=ProbeConfig(steps=30),
                            baseline=baseline)  # fmt: skip
    assert again.baseline is not None
    differ = again.baseline.settings_differ
    assert differ == {"plan of DCGANGenerator": ("planned level 3", "full protocol")}
    assert json.loads(again.to_json())["baseline"]["settings_differ"]


def test_the_default_cpu_budget_plans_by_counted_work_on_every_runner(digits, monkeypatch) -> None:
    """The CPU budget prices counted work (probing.costs), so the plan, and with it what is
    measured, is the same at any thread count, precision or load: a clock-timed plan gave
    one checkpoint levels 0, 3 and 5 on three runners of one machine. --max-seconds times."""
    monkeypatch.setattr(probing_loop, "_train_and_measure", lambda *args, **kwargs: None)
    plans = []
    for precision, threads in (("fp32", 1), ("fp32", 2), ("bf16", 2)):
        config = ProbeConfig(cpu_budget=2.0, precision=precision, threads=threads)
        plan = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, config).plan
        assert plan is not None and plan.priced
        plans.append(plan)
    assert len({(p.level, p.predicted_seconds, p.full_seconds, p.reason) for p in plans}) == 1
    assert plans[0].planned and plans[0].full_seconds is not None
    assert "reference CPU" in plans[0].reason
    # The counted work scales with the protocol: twice the steps, about twice the price.
    longer = run_probe(untrained_dcgan(), LATENT_SHAPE, digits,
                       ProbeConfig(cpu_budget=2.0, steps=1000)).plan  # fmt: skip
    assert longer is not None and longer.full_seconds is not None
    assert 1.5 < longer.full_seconds / plans[0].full_seconds < 2.1
    timed = run_probe(untrained_dcgan(), LATENT_SHAPE, digits, ProbeConfig(max_seconds=1e6)).plan
    assert timed is not None and not timed.priced


def test_counting_and_timing_a_pass_leave_the_random_state_as_it_was() -> None:
    """A generator that draws its own noise (StyleGAN's noise inputs) draws in the probe as
    it would have, however many times a pass was timed or counted."""
    before = torch.random.get_rng_state()
    work = costs.counted(lambda: torch.randn(64, 64) @ torch.randn(64, 64))
    costs.best_of(lambda: torch.randn(8))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert work.flops == 2 * 64**3 and work.ops >= 3  # two draws and a product
    assert work.seconds == pytest.approx(
        work.flops / costs.REFERENCE_FLOPS_PER_SECOND + work.ops * costs.REFERENCE_SECONDS_PER_OP
    )

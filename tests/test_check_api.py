"""The Python API for training scripts and tests: gandoctor.probe/check on in-memory modules
and tensors, and the time budget (``max_seconds``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import LATENT, calibrated_dcgan, samples_of, untrained_dcgan
from torch import nn

import gandoctor
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.errors import ConfigError
from gandoctor.probing import budget
from gandoctor.probing import loop as probing_loop
from gandoctor.probing.budget import TimeBudget, share_budget

# Saturated from step 0 and nothing else (as FORCED in test_cli.py): the findings of a short
# probe of an untrained DCGAN are exactly saturation (fail) + mode_mismatch (info).
FORCED = Thresholds(saturation_accuracy=0, saturation_fake_prob=1, vanishing_fail_decades=99,
                    vanishing_warn_decades=99, exploding_fail_decades=99,
                    exploding_warn_decades=99, noisy_cv=99)  # fmt: skip


def test_lazy_exports() -> None:
    assert gandoctor.check is gandoctor.assertions.check
    assert issubclass(gandoctor.GeneratorCheckFailed, AssertionError)


def test_check_raises_with_the_findings_the_gate_names(digits: torch.Tensor) -> None:
    g = untrained_dcgan()
    config = ProbeConfig(steps=3, thresholds=FORCED)
    with pytest.raises(gandoctor.GeneratorCheckFailed) as failed:
        gandoctor.check(g, digits, config=config, fail_on="saturation:fail,mode_mismatch")
    lines = str(failed.value).splitlines()
    assert lines[0] == (
        "gandoctor gate (--fail-on mode_mismatch,saturation:fail): fails on mode_mismatch, "
        "saturation (exit 1)"
    )
    assert [line.split(":")[1].strip() for line in lines[1:]] == [
        "saturation (fail)",
        "mode_mismatch (info)",
    ]
    assert lines[1].startswith("  DCGANGenerator: saturation (fail): a fresh D separates")
    report = failed.value.report
    assert report.exit_code == 1 and report.checkpoints[0].checkpoint == "DCGANGenerator"
    # The same probe with a gate that names nothing found passes and returns the report.
    passed = gandoctor.check(g, digits, config=config, fail_on="vanishing")
    assert passed.exit_code == 0


def test_matched_generator_passes_even_a_warn_gate() -> None:
    g = calibrated_dcgan()
    report = gandoctor.check(g, samples_of(g, 1024, seed=1), config=ProbeConfig(steps=40),
                             fail_on="warn")  # fmt: skip
    (c,) = report.checkpoints
    assert c.verdict == "healthy" and c.outcome.findings == []
    assert c.outcome.summary is not None and c.outcome.summary.final_accuracy < 0.7
    assert c.generator["format"] == "module"
    assert c.generator["latent_shape"] == [LATENT, 1, 1]
    assert c.generator["latent_source"] == "attribute"
    assert c.generator["output_range"] == [-1.0, 1.0]
    assert c.data["kind"] == "tensor" and c.data["used"] == 1024


def test_module_is_left_as_it_was(digits: torch.Tensor) -> None:
    g = untrained_dcgan().train()
    for p in g.parameters():
        p.requires_grad_(False)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    gandoctor.probe(g, digits.numpy(), config=ProbeConfig(steps=2))  # a numpy array works too
    assert g.training
    assert not any(p.requires_grad or p.grad is not None for p in g.parameters())
    after = g.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BatchNorm stats included


class VectorGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ConvFirst(nn.Module):
    """Takes (N, 4, 4, 4) latents; nothing about it tells that shape."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(z))


def test_latent_shape_inferred_or_given() -> None:
    real = torch.rand(600, 16) * 2 - 1
    report = gandoctor.probe(VectorGenerator(), real, config=ProbeConfig(steps=3))
    g = report.checkpoints[0].generator
    assert (g["latent_shape"], g["latent_source"]) == ([8], "first layer")
    assert (g["output_shape"], g["output_range"]) == ([16], [-1.0, 1.0])
    images = torch.rand(600, 1, 4, 4)
    with pytest.raises(ConfigError, match=r"pass latent_shape=, e.g. latent_shape=\(100, 1, 1\)"):
        gandoctor.probe(ConvFirst(), images)
    report = gandoctor.probe(
        ConvFirst(), images, latent_shape=(4, 4, 4), config=ProbeConfig(steps=2)
    )
    g = report.checkpoints[0].generator
    assert (g["latent_shape"], g["latent_source"], g["output_range"]) == (
        [4, 4, 4],
        "option",
        [0.0, 1.0],
    )


def test_wrong_device_or_data_is_a_clear_error(digits: torch.Tensor) -> None:
    # With a GPU: the module is elsewhere; without one: there is no CUDA device at all.
    wrong_device = "DCGANGenerator is on cpu but the probe runs on cuda|no CUDA GPU is usable"
    with pytest.raises(ConfigError, match=wrong_device):
        gandoctor.probe(untrained_dcgan(), digits, config=ProbeConfig(device="cuda"))
    with pytest.raises(gandoctor.errors.DataError, match=r"do not fit \(1, 16, 16\)"):
        gandoctor.probe(untrained_dcgan(), digits[:, :, :8, :8])


# --- the time budget ---------------------------------------------------------------------------


def test_budget_keeps_room_for_a_last_measurement() -> None:
    clock = [100.0]
    b = TimeBudget(10.0, clock=lambda: clock[0])
    with b.measurement():
        clock[0] += 1.0  # measurements cost 1 s
    with b.step():
        clock[0] += 0.5  # D steps 0.5 s; now 1.5 s in
    assert not b.exhausted(measure_first=False)  # 1.5 + 0.5 + 1 <= 10
    clock[0] = 108.4
    assert not b.exhausted(measure_first=False)  # 8.4 + 0.5 + 1 = 9.9
    assert b.exhausted(measure_first=True)  # one more measurement first: 10.9
    clock[0] = 108.6
    assert b.exhausted(measure_first=False)
    assert not TimeBudget(None).exhausted(measure_first=True)
    # The pace is the slowest of the last few steps, and time spent before counts.
    later = TimeBudget(10.0, spent=2.0, clock=lambda: clock[0])  # 8 s left from now
    for cost in (0.5, 1.0, 0.5):
        with later.step():
            clock[0] += cost
    clock[0] += 4.5  # 2 + 2 + 4.5 = 8.5 s of 10 spent: a 1 s step still fits
    assert not later.exhausted(measure_first=False)
    clock[0] += 1.0  # 9.5 s: it does not
    assert later.exhausted(measure_first=False)


def test_share_budget_splits_what_is_left(monkeypatch) -> None:
    monkeypatch.setattr(budget.time, "perf_counter", lambda: 104.0)
    config = ProbeConfig(max_seconds=10)
    assert share_budget(config, started=100.0, runs_left=2).max_seconds == 3.0
    assert share_budget(config, started=80.0, runs_left=1).max_seconds == pytest.approx(1e-6)
    assert share_budget(ProbeConfig(), started=0.0, runs_left=3).max_seconds is None
    with pytest.raises(ConfigError, match="max seconds must be a positive number"):
        ProbeConfig(max_seconds=0)


def test_probe_stops_within_its_budget(digits: torch.Tensor, monkeypatch) -> None:
    """The whole probe under a budget: cut short, marked partial, ending on a fresh
    measurement, and finished before the deadline by the margin the budget keeps (the
    pace it saw), not by a fixed number of seconds."""
    budgets: list[TimeBudget] = []

    class Recorded(TimeBudget):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            budgets.append(self)

    monkeypatch.setattr(probing_loop, "TimeBudget", Recorded)
    config = ProbeConfig(steps=100_000, max_seconds=3.0, early_stop=False)
    report = gandoctor.probe(untrained_dcgan(), digits, config=config)
    (c,) = report.checkpoints
    s = c.outcome.summary
    assert s is not None and not c.outcome.complete and not report.complete
    assert 0 <= s.steps_run < 100_000
    assert c.outcome.series.step[-1] == s.steps_run  # ended on a fresh measurement
    assert c.outcome.stop_reason == (
        f"stopped at step {s.steps_run} of 100000: the time budget (--max-seconds) ran out"
    )
    (kept,) = budgets
    # The last step and measurement may each have been slower than the pace before them,
    # by at most themselves: so much past the deadline, and no more. (A set-up that ate the
    # whole budget still gets its step-0 measurement: the deadline is then its end.)
    deadline = max(3.0, kept.spent)
    assert kept.last_end - kept.start <= deadline + kept.last_step + kept.last_measurement
    assert report.to_dict()["checkpoints"][0]["probe"]["complete"] is False
    # A budget that is not reached changes nothing.
    roomy = gandoctor.probe(untrained_dcgan(), digits, config=ProbeConfig(steps=5, max_seconds=60))
    assert roomy.complete and roomy.checkpoints[0].outcome.stop_reason == "ran all 5 steps"


def test_budget_is_shared_by_the_checkpoints_of_a_run(digits: torch.Tensor, monkeypatch) -> None:
    """Each probe of a run gets the time left divided by the probes left, and keeps to it
    by the margin its own pace sets; no fixed number of seconds, so a busy machine (a slow
    set-up, slow steps) moves the times but not what is asserted."""
    budgets: list[TimeBudget] = []

    class Recorded(TimeBudget):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            budgets.append(self)

    monkeypatch.setattr(probing_loop, "TimeBudget", Recorded)
    config = ProbeConfig(steps=100_000, max_seconds=2.0, early_stop=False)
    report = gandoctor.probe([untrained_dcgan(0), untrained_dcgan(1)], digits, config=config)
    first, second = report.checkpoints
    assert [first.checkpoint, second.checkpoint] == ["DCGANGenerator[0]", "DCGANGenerator[1]"]
    assert not first.outcome.complete and not second.outcome.complete
    one, two = budgets
    assert one.max_seconds is not None and two.max_seconds is not None
    assert one.max_seconds <= 1.0  # half the run's budget, less the run's set-up so far
    # The second, the last, gets what the first left of the run's 2 s: the first probe's
    # time came out of it (a first probe that overran leaves the least share there is).
    assert two.max_seconds <= max(2.0 - first.outcome.seconds, 1e-6) + 1e-9
    for kept in (one, two):
        assert kept.max_seconds is not None
        deadline = max(kept.max_seconds, kept.spent)
        assert kept.last_end - kept.start <= deadline + kept.last_step + kept.last_measurement
    assert report.to_dict()["settings"]["max_seconds"] == 2.0  # the run's budget, as given


def test_numpy_is_not_a_generator() -> None:
    with pytest.raises(gandoctor.errors.GanDoctorError):
        gandoctor.probe(np.zeros(3), torch.zeros(10, 3))  # type: ignore[arg-type]

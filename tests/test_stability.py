"""The stability matrix, short: the shipped examples probed under fp32 with 1 and 2
threads and under bf16 must give the same findings (borderline ones may differ), and
seeds 0-2 a verdict by majority. benchmarks/stability.py runs the full 500-step matrix."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.judge.verdict import firm_flips

ROOT = Path(__file__).resolve().parent.parent
STEPS = 150
"""Long enough for every example's signs to show (untrained: saturated by step 94) and for
its readings to settle; the full matrix at 500 steps is in benchmarks/stability.py."""


def _probe(epoch: int, threads: int, precision: str, seed: int) -> gandoctor.Report:
    config = ProbeConfig(steps=STEPS, seed=seed, precision=precision, threads=threads)
    path = ROOT / "examples" / f"dcgan_digits_epoch{epoch}.safetensors"
    return gandoctor.probe(str(path), ROOT / "examples" / "digits", config=config)


@pytest.mark.long  # 5 probes of 150 steps per example: 30-36 s each
@pytest.mark.parametrize("epoch", [0, 1, 10, 25])
def test_findings_do_not_flip_with_threads_precision_or_seed(epoch: int) -> None:
    reference = _probe(epoch, 2, "fp32", 0).checkpoints[0].outcome
    for threads, precision in ((1, "fp32"), (2, "bf16")):
        other = _probe(epoch, threads, precision, 0).checkpoints[0].outcome
        assert firm_flips(reference.findings, other.findings) == [], (threads, precision)
    verdicts = [reference.verdict] + [
        _probe(epoch, 2, "fp32", seed).checkpoints[0].verdict for seed in (1, 2)
    ]
    (_, votes), *_ = Counter(verdicts).most_common(1)
    assert votes >= 2, verdicts


def _reference_cases() -> dict[str, tuple[torch.nn.Module, torch.Tensor]]:
    from conftest import calibrated_dcgan, samples_of, untrained_dcgan

    matched = calibrated_dcgan()
    nan = untrained_dcgan()
    with torch.no_grad():
        next(nan.parameters()).view(-1)[0] = float("nan")
    real = samples_of(matched, 1024, seed=1)
    return {"matched": (matched, real), "untrained": (untrained_dcgan(), real),
            "nan": (nan, real)}  # fmt: skip


@pytest.mark.parametrize("case", ["matched", "untrained", "nan"])
def test_reference_cases_do_not_flip_with_threads_or_precision(case: str) -> None:
    """The synthetic reference cases with a known answer (healthy, failing, broken) on
    16x16 samples of a matched generator, 100 steps."""
    generator, real = _reference_cases()[case]
    found = []
    for threads, precision in ((2, "fp32"), (1, "fp32"), (2, "bf16")):
        config = ProbeConfig(steps=100, precision=precision, threads=threads)
        c = gandoctor.probe(generator, real.clone(), config=config).checkpoints[0]
        found.append(c.outcome)
    expected = {"matched": "healthy", "untrained": "failing", "nan": "broken"}[case]
    assert [str(o.verdict) for o in found] == [expected] * 3
    assert firm_flips(found[0].findings, found[1].findings) == []
    assert firm_flips(found[0].findings, found[2].findings) == []

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
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        config = ProbeConfig(steps=STEPS, seed=seed, precision=precision)
        path = ROOT / "examples" / f"dcgan_digits_epoch{epoch}.safetensors"
        return gandoctor.probe(str(path), ROOT / "examples" / "digits", config=config)
    finally:
        torch.set_num_threads(before)


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

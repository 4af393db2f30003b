"""What measuring the checkpoint's own D costs, and whether its figures hold across thread
counts; figures measured within one run.

    python benchmarks/own_d.py           # the 25-epoch example with its D (examples/with_d)
    python benchmarks/own_d.py --quick   # a 100-step probe, for a smoke run

Prints the probe's time and the own D's (goal: the own D adds at most a tenth: it trains
nothing, it reads the probe's held-out data once, with gradients for R1, R2 and the
interpolates), and the largest relative difference of the own D's figures between
1 and 2 torch threads (goal: far below every finding's margin, i.e. < 1e-4).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import gandoctor
from gandoctor.api import latent_spec
from gandoctor.config import LoadOptions, ProbeConfig
from gandoctor.data import load_real_data
from gandoctor.loading import load_generator
from gandoctor.probing.loop import run_probe
from gandoctor.probing.own_discriminator import probe_own_discriminator

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "examples" / "with_d" / "dcgan_digits_epoch25.safetensors"
DATA = ROOT / "examples" / "digits"


def _flat(own: object) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, value in asdict(own).items():  # type: ignore[call-overload]
        if isinstance(value, dict):
            figures.update({f"{name}.{k}": v for k, v in value.items()})
        elif isinstance(value, float) and math.isfinite(value):
            figures[name] = value
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100-step probe")
    args = parser.parse_args()
    config = ProbeConfig(steps=100 if args.quick else 500, early_stop=False)
    loaded = load_generator(CHECKPOINT)
    real = load_real_data(DATA, sample_shape=(1, 32, 32), value_range=(-1.0, 1.0)).samples
    spec = latent_spec(loaded, LoadOptions())
    start = time.perf_counter()
    outcome = run_probe(loaded.module, spec, real, config)
    probe_seconds = time.perf_counter() - start
    start = time.perf_counter()
    own = probe_own_discriminator(loaded, spec, real, config, outcome)
    own_seconds = time.perf_counter() - start
    assert own is not None
    print(f"probe {probe_seconds:.1f} s ({config.steps} steps); the own D {own_seconds:.2f} s, "
          f"{own_seconds / probe_seconds:.1%} of the probe (goal <= 10 %)")  # fmt: skip
    figures = {}
    for count in (1, 2):
        own = gandoctor.probe(CHECKPOINT, DATA, config=replace(config, steps=1, threads=count))
        figures[count] = _flat(own.checkpoints[0].own_discriminator)
    worst = max(
        (abs(figures[1][k] - figures[2][k]) / max(abs(figures[2][k]), 1e-12), k) for k in figures[2]
    )
    print(f"own D figures, 1 against 2 threads: largest relative difference {worst[0]:.1e} "
          f"({worst[1]}; goal < 1e-4)")  # fmt: skip


if __name__ == "__main__":
    main()

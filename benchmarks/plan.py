"""What a plan level changes: every level against the full protocol, on the reference cases.

    python benchmarks/plan.py                 # the four examples and the matched case
    python benchmarks/plan.py --epochs 0,25   # some of them
    python benchmarks/plan.py --seeds 0,1,2   # more seeds (the shifts' spread)

A planned probe (probing.plan) measures less, or with reused fakes, to fit its time. On
cases where the full protocol also runs, each level (``--plan 1`` .. ``5``) is run with the
same seed as the full protocol (``--plan full``), and the script prints its verdict, its
findings, and its headline figures' shifts against the full protocol next to the
thresholds that read them. The plan is valid where no level changes a verdict; the shifts
are in the README's "Speed" section.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.judge.verdict import firm_flips
from gandoctor.loading import load_generator
from gandoctor.plans import PLAN_LEVELS
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.thresholds import Thresholds

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIGURES = {
    # name: (summary attribute, the threshold it is read against, its name)
    "steps to saturation": ("steps_to_saturation", None, ""),
    "held-out accuracy": ("final_accuracy", Thresholds().saturation_accuracy,
                          "saturation_accuracy"),
    "minimax decades lost": ("minimax_decades_lost", Thresholds().vanishing_fail_decades,
                             "vanishing_fail_decades"),
    "-log D growth after peak": ("nonsat_growth_after_peak", Thresholds().exploding_fail_decades,
                                 "exploding_fail_decades"),
}  # fmt: skip


def cases(epochs: list[int]) -> list[tuple[str, str, object]]:
    """(name, checkpoint, real data): the shipped examples against the digits, and the
    25-epoch generator against 2000 of its own samples (real and fake the same
    distribution: the healthy case)."""
    found = [(f"epoch {e}", str(EXAMPLES / f"dcgan_digits_epoch{e}.safetensors"),
              EXAMPLES / "digits") for e in epochs]  # fmt: skip
    if 25 in epochs:
        loaded = load_generator(EXAMPLES / "dcgan_digits_epoch25.safetensors")
        with torch.no_grad():
            z = torch.randn(
                2000, *loaded.info.latent_shape, generator=torch.Generator().manual_seed(7)
            )
            own = torch.cat([loaded.module.eval()(c) for c in z.split(250)])
        found.append(("matched", str(EXAMPLES / "dcgan_digits_epoch25.safetensors"), own))
    return found


def probe(checkpoint: str, data: object, plan: str, seed: int, early_stop: bool) -> ProbeOutcome:
    # Two threads whatever else runs: the comparison is of the plan alone (runtime.threads).
    config = ProbeConfig(plan=plan, seed=seed, early_stop=early_stop, threads=2)
    report = gandoctor.probe(checkpoint, data, config=config)  # type: ignore[arg-type]
    return report.checkpoints[0].outcome


def figure(outcome: ProbeOutcome, attribute: str) -> float | None:
    s = outcome.summary
    value = getattr(s, attribute) if s is not None else None
    return None if value is None else float(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="0,1,10,25")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--no-early-stop", action="store_true",
                        help="every run to its last step: the levers' own effect, apart from "
                        "where early stopping ends each run")  # fmt: skip
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    levels = ["full", *(str(i) for i in range(1, len(PLAN_LEVELS)))]
    flips, runs, verdicts = 0, 0, 0
    shifts: dict[tuple[str, str], list[float]] = {}
    for name, checkpoint, data in cases([int(e) for e in args.epochs.split(",")]):
        for seed in seeds:
            print(f"\n{name}, seed {seed}")
            outcomes = {level: probe(checkpoint, data, level, seed, not args.no_early_stop)
                        for level in levels}  # fmt: skip
            full = outcomes["full"]
            for level, outcome in outcomes.items():
                codes = ", ".join(
                    f"{f.code}:{f.severity}{' (borderline)' if f.borderline else ''}"
                    for f in outcome.findings if str(f.severity) != "info"
                )  # fmt: skip
                moved = []
                for label, (attribute, _, _) in FIGURES.items():
                    now, then = figure(outcome, attribute), figure(full, attribute)
                    if now is None or then is None:
                        moved.append(f"{label} {now} ({then})")
                        continue
                    moved.append(f"{label} {now:.3g} ({now - then:+.3g})")
                    if level != "full":
                        shifts.setdefault((level, label), []).append(now - then)
                flipped = firm_flips(full.findings, outcome.findings) if level != "full" else []
                runs += level != "full"
                flips += bool(flipped)
                verdicts += outcome.verdict != full.verdict
                print(f"  {level:>4}: {outcome.verdict:8} {outcome.seconds:5.1f} s  "
                      f"{'; '.join(moved)}")  # fmt: skip
                print(f"        {codes or 'no findings'}"
                      f"{'  FLIP: ' + ', '.join(flipped) if flipped else ''}")  # fmt: skip
    print("\nshift against the full protocol, median [min, max] over the cases, next to the "
          "threshold that reads the figure")  # fmt: skip
    for label, (_, threshold, threshold_name) in FIGURES.items():
        for level in levels[1:]:
            values = shifts.get((level, label), [])
            if not values:
                continue
            against = f" (threshold {threshold_name} = {threshold:g})" if threshold else ""
            print(f"  level {level} {label}: {statistics.median(values):+.3g} "
                  f"[{min(values):+.3g}, {max(values):+.3g}]{against}")  # fmt: skip
    print(
        f"\nfindings that flip against the full protocol (neither side borderline): "
        f"{flips} of {runs} planned runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The stability matrix: do the findings flip with thread count, precision or seed?

    python benchmarks/stability.py              # the four examples, 500 steps (minutes)
    python benchmarks/stability.py --steps 200  # shorter probes
    python benchmarks/stability.py --epochs 25  # one example

For each shipped example it probes under fp32 with 1 and with 2 threads, under bf16, and
under fp32 with seeds 0, 1 and 2, and prints each run's findings with their deciding
figures and margins. A *flip* is a finding (code and severity) that one run has and
another lacks or has at another severity, where neither run marks it borderline:

- across fp32 1 / 2 threads and bf16 (same seed) the findings must be identical, so every
  flip there counts against the goal of 0;
- across seeds the data split and D differ, so findings may move; the verdict by
  majority is what must hold, and the table shows each seed's.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.judge.verdict import firm_flips
from gandoctor.results.outcome import Finding

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / f"dcgan_digits_epoch{e}.safetensors" for e in (0, 1, 10, 25)]


@dataclass(frozen=True)
class Run:
    label: str
    threads: int
    precision: str
    seed: int


RUNS = [
    Run("fp32, 2 threads", 2, "fp32", 0),
    Run("fp32, 1 thread", 1, "fp32", 0),
    Run("bf16, 2 threads", 2, "bf16", 0),
    Run("seed 1", 2, "fp32", 1),
    Run("seed 2", 2, "fp32", 2),
]
SAME_SEED = RUNS[:3]
SEEDS = [RUNS[0], *RUNS[3:]]


def probe(path: Path, data: Path, run: Run, steps: int) -> gandoctor.Report:
    config = ProbeConfig(steps=steps, seed=run.seed, precision=run.precision,
                         threads=run.threads)  # fmt: skip
    return gandoctor.probe(str(path), data, config=config)


def show(finding: Finding) -> str:
    text = f"{finding.code}:{finding.severity}"
    m = finding.margin
    if m is not None:
        text += f" ({m.figure} {m.value:.3g} vs {m.threshold:g} +/- {m.uncertainty:.2g}"
        text += ", borderline)" if finding.borderline else ")"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--epochs", default="0,1,10,25", help="which examples, e.g. 0,25")
    args = parser.parse_args()
    wanted = {f"dcgan_digits_epoch{e.strip()}.safetensors" for e in args.epochs.split(",")}
    examples = [path for path in EXAMPLES if path.name in wanted]
    data = ROOT / "examples" / "digits"
    same_seed_flips, comparisons, majority_ok = 0, 0, 0
    for path in examples:
        print(f"\n{path.name} ({args.steps} steps)")
        outcomes = {}
        for run in RUNS:
            c = probe(path, data, run, args.steps).checkpoints[0]
            outcomes[run.label] = c.outcome
            s = c.outcome.summary
            figures = ""
            if s is not None:
                figures = (
                    f"acc {s.final_accuracy:.3f}, lost {s.minimax_decades_lost:.2f}"
                    f"+/-{s.minimax_decades_uncertainty:.2f}, growth "
                    f"{s.nonsat_growth_after_peak:.2f}+/-{s.nonsat_growth_uncertainty:.2f}"
                    f"{'' if s.minimax_declined else ' (not counted)'}, peak step "
                    f"{s.minimax_grad_peak_step}"
                )
            print(f"  {run.label:16} {c.verdict:8} {figures}")
            print(f"  {'':16} {'; '.join(show(f) for f in c.outcome.findings) or 'no findings'}")
        reference = outcomes[SAME_SEED[0].label].findings
        for run in SAME_SEED[1:]:
            found = firm_flips(reference, outcomes[run.label].findings)
            comparisons += 1
            same_seed_flips += bool(found)
            if found:
                print(f"  FLIP against {SAME_SEED[0].label}: {run.label}: {', '.join(found)}")
        seeds = [
            outcomes[r.label].verdict for r in RUNS if r.threads == 2 and r.precision == "fp32"
        ]
        verdict, votes = Counter(seeds).most_common(1)[0]
        majority_ok += votes * 2 > len(seeds)
        print(f"  verdict by majority over seeds 0-2: {verdict} ({votes} of {len(seeds)})")
    print(
        f"\nflips of a non-borderline finding across threads and precision: {same_seed_flips} "
        f"of {comparisons} comparisons ({same_seed_flips / comparisons:.0%}); "
        f"a majority verdict over seeds in {majority_ok} of {len(examples)} examples"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

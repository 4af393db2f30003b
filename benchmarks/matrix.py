"""The stability matrix on generators of its own: do findings flip between runners or seeds?

    python benchmarks/matrix.py                 # 8 generators x 7 runs (about 40 minutes)
    python benchmarks/matrix.py --sizes 32      # the 32 px ones only
    python benchmarks/matrix.py --report        # the table of the last run, from its JSON

It trains DCGANs the way the PyTorch example does on scikit-learn's digits (1,797 images,
at 32 and 64 px; nz 100, ngf = ndf = 16: 378 k parameters at 64 px, the generator of the
issue that asked for this), saves each after 1, 5, 10 and 25 epochs, and probes each of the
eight at the command line's gating defaults under seven runners:

- fp32 with 2 threads (the reference), fp32 with 1 thread, bf16 with 2 threads: the same
  seed, so a finding that one has and another lacks, or has at another severity, where
  neither marks it borderline, is a flip (the goal: none);
- fp32 with 2 threads under seeds 1-4: another split, D and z, so findings may move, but a
  finding of seed 0 that is not borderline must be found by the majority of seeds 0-4.

It prints every run's findings with their deciding figures and margins, the flips, the
seeds' majorities, and the share of findings marked borderline (the goal: below 20 %).
Checkpoints and results go to benchmarks/.matrix/ (ignored by git).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file
from torch import nn

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.plans import DEFAULT_CPU_SECONDS

HERE = Path(__file__).resolve().parent
WORK = HERE / ".matrix"
EPOCHS = (1, 5, 10, 25)
NZ, WIDTH = 100, 16


@dataclass(frozen=True)
class Runner:
    label: str
    threads: int
    precision: str
    seed: int


RUNNERS = [
    Runner("fp32 2t", 2, "fp32", 0),
    Runner("fp32 1t", 1, "fp32", 0),
    Runner("bf16 2t", 2, "bf16", 0),
    *(Runner(f"seed {s}", 2, "fp32", s) for s in (1, 2, 3, 4)),
]


def digits(size: int) -> torch.Tensor:
    """scikit-learn's 1,797 digits (8x8, 0..16) resized to ``size`` px, in [-1, 1]."""
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    resized = [np.asarray(Image.fromarray((x * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC)) for x in images]  # fmt: skip
    return torch.from_numpy(np.stack(resized)).float()[:, None] / 127.5 - 1


def dcgan(size: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The PyTorch example's G and D at ``size`` px (one block per doubling from 4 px)."""
    blocks = int(np.log2(size)) - 2
    widths = [WIDTH * 2 ** (blocks - 1 - i) for i in range(blocks)]
    g: list[nn.Module] = [nn.ConvTranspose2d(NZ, widths[0], 4, 1, 0, bias=False),
                          nn.BatchNorm2d(widths[0]), nn.ReLU(True)]  # fmt: skip
    for a, b in itertools.pairwise(widths):
        g += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
    g += [nn.ConvTranspose2d(widths[-1], 1, 4, 2, 1, bias=False), nn.Tanh()]
    d: list[nn.Module] = [nn.Conv2d(1, widths[-1], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for a, b in zip(widths[::-1], widths[::-1][1:], strict=False):
        d += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
    d += [nn.Conv2d(widths[0], 1, 4, 1, 0, bias=False)]
    return nn.Sequential(*g), nn.Sequential(*d)


def _init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def train(size: int, real: torch.Tensor) -> dict[int, Path]:
    """Checkpoints after each of EPOCHS epochs of the example's loop (Adam 2e-4, betas
    0.5/0.999, batch 64, BCE), made once and kept in WORK."""
    paths = {e: WORK / f"dcgan{size}_epoch{e}.safetensors" for e in EPOCHS}
    if all(p.exists() for p in paths.values()):
        return paths
    WORK.mkdir(exist_ok=True)
    torch.manual_seed(size)
    g, d = dcgan(size)
    g.apply(_init)
    d.apply(_init)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    for epoch in range(1, max(EPOCHS) + 1):
        for batch in real[torch.randperm(len(real))].split(64):
            n = len(batch)
            fake = g(torch.randn(n, NZ, 1, 1))
            loss_d = (F.binary_cross_entropy_with_logits(d(batch).flatten(), torch.ones(n))
                      + F.binary_cross_entropy_with_logits(d(fake.detach()).flatten(),
                                                           torch.zeros(n)))  # fmt: skip
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = F.binary_cross_entropy_with_logits(d(fake).flatten(), torch.ones(n))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        if epoch in paths:
            state = {f"main.{k}": v.contiguous() for k, v in g.state_dict().items()}
            save_file(state, str(paths[epoch]))  # as the example keeps it: netG.main
            print(f"  trained {paths[epoch].name}", flush=True)
    return paths


def probe(path: Path, real: torch.Tensor, runner: Runner, full: bool = False) -> dict:
    """One probe at the command line's defaults; ``full``: without early stopping, keeping
    the measured series, so that readings and stopping rules can be replayed on it."""
    config = ProbeConfig(seed=runner.seed, precision=runner.precision, threads=runner.threads,
                         cpu_budget=DEFAULT_CPU_SECONDS, early_stop=not full)  # fmt: skip
    c = gandoctor.probe(str(path), real, config=config).checkpoints[0]
    outcome = c.outcome
    findings = [
        {"code": str(f.code), "severity": str(f.severity), "borderline": f.borderline,
         "margin": None if f.margin is None else {
             "figure": f.margin.figure, "value": f.margin.value,
             "threshold": f.margin.threshold, "uncertainty": f.margin.uncertainty}}
        for f in c.findings if str(f.severity) != "info"
    ]  # fmt: skip
    run = {"verdict": str(c.verdict), "steps_run": outcome.summary.steps_run
           if outcome.summary else 0, "findings": findings,
           "plan": outcome.plan.level if outcome.plan else None,
           "summary": outcome.summary.to_dict() if outcome.summary else None}  # fmt: skip
    if full:
        run["series"] = outcome.series.to_dict()
        run["heldout"] = [outcome.heldout_samples, outcome.heldout_latents]
    return run


def show(run: dict) -> str:
    parts = []
    for f in run["findings"]:
        text = f"{f['code']}:{f['severity']}"
        m = f["margin"]
        if m is not None:
            text += f" ({m['figure']} {m['value']:.3g} vs {m['threshold']:g} +/- "
            text += f"{m['uncertainty']:.2g}{', borderline' if f['borderline'] else ''})"
        parts.append(text)
    return "; ".join(parts) or "no findings"


def firm_differences(a: list[dict], b: list[dict]) -> list[str]:
    """Codes on which two runs disagree where neither marks the finding borderline (the
    rule of judge.verdict.firm_flips, on the saved findings)."""
    soft = {f["code"] for f in a + b if f["borderline"]}
    firm_a = {f["code"]: f["severity"] for f in a if not f["borderline"]}
    firm_b = {f["code"]: f["severity"] for f in b if not f["borderline"]}
    return sorted(c for c in (set(firm_a) | set(firm_b)) - soft if firm_a.get(c) != firm_b.get(c))


def summarise(results: dict[str, dict[str, dict]]) -> None:
    flips = comparisons = borderline = total = majority_misses = firm_seed0 = 0
    for name, runs in results.items():
        print(f"\n{name}")
        for label, run in runs.items():
            print(f"  {label:8} {run['verdict']:8} {run['steps_run']:4} steps  {show(run)}")
            total += len(run["findings"])
            borderline += sum(bool(f["borderline"]) for f in run["findings"])
        reference = runs["fp32 2t"]["findings"]
        for label in ("fp32 1t", "bf16 2t"):
            found = firm_differences(reference, runs[label]["findings"])
            comparisons += 1
            flips += bool(found)
            if found:
                print(f"  FLIP {label} against fp32 2t: {', '.join(found)}")
        seeds = [runs["fp32 2t"], *(runs[f"seed {s}"] for s in (1, 2, 3, 4))]
        for f in reference:
            if f["borderline"]:
                continue
            firm_seed0 += 1
            votes = sum(any(g["code"] == f["code"] and g["severity"] == f["severity"]
                            for g in run["findings"]) for run in seeds)  # fmt: skip
            if votes * 2 <= len(seeds):
                majority_misses += 1
                print(f"  seed 0's {f['code']}:{f['severity']} found by {votes} of 5 seeds only")
        counts = Counter(str(run["verdict"]) for run in seeds)
        print(f"  verdicts over seeds 0-4: {dict(counts)}")
    print(
        f"\nnon-borderline findings that differ between runners (same seed): {flips} of "
        f"{comparisons} comparisons (goal 0)"
    )
    print(
        f"seed 0's non-borderline findings not found by a majority of seeds 0-4: "
        f"{majority_misses} of {firm_seed0}"
    )
    share = borderline / max(total, 1)
    print(f"findings marked borderline: {borderline} of {total} ({share:.0%}; goal below 20 %)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--epochs", default="1,5,10,25", help="which generators, e.g. 1,25")
    parser.add_argument("--report", action="store_true", help="print the last run's results")
    parser.add_argument(
        "--full",
        action="store_true",
        help="no early stopping; keep every series (results_full.json)",
    )
    args = parser.parse_args()
    # One record per set of sizes, so that the sizes can run as separate processes.
    chosen = [int(e) for e in args.epochs.split(",")]
    sizes = "" if args.sizes == "32,64" else "_" + args.sizes.replace(",", "_")
    if chosen != list(EPOCHS):
        sizes += "_e" + "_".join(map(str, chosen))
    record = WORK / (f"results_full{sizes}.json" if args.full else f"results{sizes}.json")
    if args.report:
        summarise(json.loads(record.read_text()))
        return 0
    results: dict[str, dict[str, dict]] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        real = digits(size)
        for epoch, path in train(size, real).items():
            if epoch not in chosen:
                continue
            name = f"{size} px, {epoch} epochs"
            results[name] = {r.label: probe(path, real, r, args.full) for r in RUNNERS}
            print(f"  probed {name}", flush=True)
            WORK.mkdir(exist_ok=True)
            record.write_text(json.dumps(results, indent=1))
    summarise(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

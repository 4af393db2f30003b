"""How a probe's cost grows with the generators people train, each figure a ratio of two
things measured in this run (benchmarks/README.md, "Scale").

    python benchmarks/scale.py                      # every family at 32, 64, 128, 256 px
    python benchmarks/scale.py --quick              # 32 and 64 px, no 256 px target
    python benchmarks/scale.py --families nvlabs --sizes 64
    python benchmarks/scale.py --nvlabs-repo /tmp/nvlabs --rosinality-repo /tmp/rosinality

For every built-in family (benchmarks/families.py: the packages' default widths, random
weights, gandoctor's own builds in the packages' layouts) and size it times G's forward
pass (no gradient, batch 64), G's backward pass (one of the two per latent batch in a
measurement), a D step, a measurement, the own D's measurement, and the time to a verdict
at the command line's default settings. It prints them against

- the protocol's floor: the full protocol's D steps times a G forward plus its
  measurements times their G backward passes, the least any implementation of it costs;
- the original package's own forward and backward pass, where the package runs here
  (benchmarks/reference_packages.py says how to make each available);

then how the cost grows with the resolution and with G's parameter count, and the targets
of the speed issue (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import families
import reference_packages

import gandoctor
from gandoctor.analyses.own_discriminator import measure_own_discriminator
from gandoctor.config import ProbeConfig
from gandoctor.loading.layouts.architectures.stylegan2.rosinality import RosinalityGenerator
from gandoctor.loading.layouts.architectures.stylegan2.rosinality_d import RosinalityDiscriminator
from gandoctor.nn.backward import forward_with_graph_bytes
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import GENERATE_CHUNK_VALUES, frozen, generate
from gandoctor.nn.latent import LatentSpec
from gandoctor.plans import DEFAULT_CPU_SECONDS, PLAN_LEVELS
from gandoctor.probing.own_discriminator import planned as planned_own_d
from gandoctor.probing.setup import draw, measurement_steps
from gandoctor.probing.steps import HeldoutFakes, TrainingFakes, measure, train_step
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.runtime.allocator import release_freed_memory, retain_freed_memory

BATCH = 64
GRAPH_BYTES = 4 * 2**30
"""The most a measurement's batch of 64 with its autograd graph may hold here (the 2-core
machine has 24 GB; an NVlabs StyleGAN2 of the default widths saves 94 MB a sample at 64 px,
42 MB at 32 px)."""
REAL_SAMPLES = 1024
"""Real samples per size: enough for the held-out split (256) and D's batches."""


@dataclass
class Row:
    family: str
    size: int
    parameters: int
    forward: float
    backward: float
    backward_batch: int
    forward_at_backward_batch: float
    """G's forward pass at the backward pass's batch: their ratio, at one batch, is the
    formulation's (a short pass timed at 16 and scaled to 64 overstates the backward)."""
    d_step: float
    measurement: float
    measurement_level: int
    own_d: float | None
    package: tuple[float, float] | str
    verdict: str = ""
    verdict_seconds: float = 0.0
    plan_level: int = 0
    full_seconds: float | None = None
    floor: float = 0.0


def timed(run: Callable[[], object], repeats: int = 3) -> float:
    """Median seconds of ``repeats`` calls after one untimed call (kernels set up)."""
    run()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def real_samples(size: int, value_range: tuple[float, float]) -> torch.Tensor:
    """Smooth random colour images (gradients plus noise) in ``value_range``: what D's
    steps cost does not depend on what the images show."""
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, size)
    base = torch.outer(ramp, ramp)[None, None] * torch.rand(REAL_SAMPLES, 3, 1, 1, generator=g)
    x = (base + 0.1 * torch.randn(REAL_SAMPLES, 3, size, size, generator=g)).clamp(0, 1)
    low, high = value_range
    return low + (high - low) * x


def backward_batch(family: str) -> int:
    """The batch backward passes are timed at (scaled to 64 in the table): 16 for the
    StyleGAN-class families, whose graphs at 64 took tens of GB in the original packages'
    code (NVlabs': 19.5 GB at 32 px, its per-sample weights), and as a planned probe takes
    its gradients; 64 for DCGAN."""
    return BATCH if family == "dcgan" else 16


def build(family: str, size: int) -> families.Built:
    """A family's build; ``rosinality_tiny``: the speed target's 64x64 StyleGAN2 of about
    1 M parameters (rosinality's layout, style 64, 2 mapping layers, widths 128 to 64)."""
    if family != "rosinality_tiny":
        return families.build(family, size)
    torch.manual_seed(0)
    widths = [128, 128, 128, 64, 64][: int(math.log2(size)) - 1]
    g = RosinalityGenerator(64, 2, widths, 3).eval()
    d = RosinalityDiscriminator(widths[::-1], 3).eval()  # its D, as the rosinality family's
    return families.Built(g, (64,), (-1.0, 1.0), d, {"widths": widths})


def measure_row(family: str, size: int, repos: dict[str, str]) -> Row:
    built = build(family, size)
    g = built.generator
    spec = LatentSpec.of(built.latent_shape)
    z = spec.sample(BATCH, torch.Generator().manual_seed(1), "cpu")
    real = real_samples(size, built.output_range)
    config = ProbeConfig()
    values = int(real[0].numel())
    with frozen(g, train_mode=False) as params, torch.no_grad():
        forward = timed(lambda: generate(g, z, values))  # as the probe makes its fakes
    b = backward_batch(family)
    with frozen(g, train_mode=False), torch.no_grad():
        forward_b = timed(lambda: g(*(t[:b] for t in z)))
    with frozen(g, train_mode=False) as params:
        out, saved = forward_with_graph_bytes(lambda: g(*(t[:b] for t in z)))
        seed = torch.randn_like(out)
        backward = timed(lambda: torch.autograd.grad(out, params, seed, retain_graph=True))
        out = seed = None  # the graph's memory back before the next timings
        drawn = draw(real, spec, config, torch.device("cpu"))
        disc = build_probe_discriminator(tuple(real.shape[1:]))
        optimizer = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=config.betas)
        fresh = TrainingFakes(g, spec, config, drawn.rng, torch.device("cpu"))
        d_step = timed(lambda: train_step(disc, optimizer, drawn.train_real, fresh, config,
                                          drawn.rng))  # fmt: skip
        # The protocol's measurement where a batch of 64 with its graph fits in a few GB;
        # else level 4's (16 samples), as every plan level that fits a budget there.
        level = 0 if saved / b * BATCH <= GRAPH_BYTES else 4
        settings = PLAN_LEVELS[level]
        fakes = HeldoutFakes(g, drawn.heldout_latents, config, None, settings.grad_batches,
                             settings.grad_batch_size)  # fmt: skip
        measurement = timed(lambda: measure(disc, params, fakes, drawn.heldout_real), 1)
        fakes = None
    package = package_costs(family, size, repos, z, b, values)
    return Row(family, size, sum(p.numel() for p in g.parameters()), forward,
               backward * BATCH / b, b, forward_b, d_step, measurement, level, None,
               package)  # fmt: skip


def own_d_seconds(built: families.Built, real: torch.Tensor, config: ProbeConfig,
                  outcome: ProbeOutcome) -> float | None:  # fmt: skip
    """The own D's measurement as the probe makes it after a probe with ``outcome`` (its
    plan's latents and samples: probing.own_discriminator), on the probe's draws."""
    if built.disc is None:
        return None
    spec = LatentSpec.of(built.latent_shape)
    drawn = draw(real, spec, config, torch.device("cpu"))
    with frozen(built.generator, train_mode=False) as params:
        began = time.perf_counter()
        measure_own_discriminator(built.disc, built.generator, params, drawn.heldout_real,
                                  drawn.heldout_latents, drawn.train_real,
                                  architecture="benchmark", source="random weights",
                                  **planned_own_d(outcome))  # fmt: skip
        return time.perf_counter() - began


def package_costs(family: str, size: int, repos: dict[str, str], z: tuple[torch.Tensor, ...],
                  b: int, values: int) -> tuple[float, float] | str:  # fmt: skip
    """The original package's forward (batch 64, in the probe's chunks) and backward
    (scaled to 64) seconds, or why they are not measured."""
    if family == "rosinality_tiny":
        return "not a package's default"
    ref = reference_packages.reference(family, size, repos)
    if isinstance(ref, str):
        return ref
    params = [p.requires_grad_() for p in ref.module.parameters()]
    chunk = BATCH
    while chunk > 1 and chunk * values > GENERATE_CHUNK_VALUES:  # the probe's chunks
        chunk //= 2
    with torch.no_grad():
        forward = timed(lambda: [ref.forward(part) for part in z[0].split(chunk)])
    out = ref.forward(z[0][:b])
    seed = torch.randn_like(out)
    backward = timed(lambda: torch.autograd.grad(out, params, seed, retain_graph=True,
                                                 allow_unused=True))  # fmt: skip
    return forward, backward * BATCH / b


def verdict_at_defaults(row: Row, max_seconds: float | None = None) -> Row:
    """``gandoctor probe``'s defaults (fp32 for a gating run, the CPU budget, early
    stopping), through the library as the command line calls it."""
    built = build(row.family, row.size)
    real = real_samples(row.size, built.output_range)
    config = ProbeConfig(cpu_budget=DEFAULT_CPU_SECONDS, max_seconds=max_seconds)
    began = time.perf_counter()
    report = gandoctor.probe(built.generator, real, latent_shape=built.latent_shape,
                             output_range=built.output_range, config=config)  # fmt: skip
    seconds = time.perf_counter() - began
    c = report.checkpoints[0]
    plan = c.outcome.plan
    own = own_d_seconds(built, real, config, c.outcome)
    codes = ", ".join(f"{f.code}:{f.severity}" for f in c.findings if str(f.severity) != "info")
    partial = "" if c.outcome.complete else " (partial)"
    return replace(row, verdict=f"{c.verdict}{partial} [{codes}]", verdict_seconds=seconds,
                   own_d=own,
                   plan_level=plan.level if plan else 0,
                   full_seconds=plan.full_seconds if plan else None, floor=floor(row))  # fmt: skip


def floor(row: Row) -> float:
    """The full protocol's least cost: its 500 D steps' fakes and its measurements' G
    backward passes (two costs x K = 4 latent batches), nothing else."""
    config = ProbeConfig()
    measurements = len(measurement_steps(config.steps, config.measure_growth,
                                         config.measure_max_interval))  # fmt: skip
    per_measurement = 2 * config.grad_batches * row.backward
    return config.steps * row.forward + measurements * per_measurement


def bwd_over_fwd(row: Row) -> float:
    """G's backward over its forward pass, both at the backward pass's batch."""
    return row.backward * row.backward_batch / BATCH / row.forward_at_backward_batch


def print_costs(rows: list[Row]) -> None:
    print("\nper family and size (seconds; batch 64; random weights; fp32)")
    print("(bwd/fwd: both at the backward pass's batch, 16 for the StyleGAN-class families)")
    print(f"{'family':16} {'px':>4} {'params':>8} {'G fwd':>7} {'G bwd':>7} {'bwd/fwd':>7} "
          f"{'D step':>7} {'measure':>8}  package fwd / bwd: ours/theirs")  # fmt: skip
    for r in rows:
        level = "" if r.measurement_level == 0 else f" (level {r.measurement_level})"
        if isinstance(r.package, str):
            package = r.package
        else:
            pf, pb = r.package
            package = f"{pf:.3f} / {pb:.3f} s: {r.forward / pf:.2f}x / {r.backward / pb:.2f}x"
        print(f"{r.family:16} {r.size:4d} {r.parameters / 1e6:7.2f}M {r.forward:7.3f} "
              f"{r.backward:7.3f} {bwd_over_fwd(r):7.2f} {r.d_step:7.3f} "
              f"{r.measurement:8.2f}{level}  {package}")  # fmt: skip


def print_verdicts(rows: list[Row]) -> None:
    budget = f"{DEFAULT_CPU_SECONDS:.0f} s"
    print(f"\ntime to verdict at the command line's defaults (plan to a {budget} CPU "
          "budget), against the full protocol's floor")  # fmt: skip
    for r in rows:
        full = f"{r.full_seconds:.0f} s" if r.full_seconds else "-"
        own = f", {own_d_share(r)}" if r.own_d is not None else ""
        print(f"  {r.family:16} {r.size:4d} px: {r.verdict_seconds:7.1f} s at level "
              f"{r.plan_level} = {r.verdict_seconds / r.floor:.3f} of the floor "
              f"({r.floor:.0f} s; full protocol predicted {full}){own}; {r.verdict}")  # fmt: skip


def own_d_share(row: Row) -> str:
    """The own D's seconds against the probe's (the library's probe of a module in memory
    measures no own D), and against the run that measures both, as `gandoctor probe` on a
    checkpoint does."""
    own, probe = row.own_d or 0.0, row.verdict_seconds
    run = probe + own
    return f"own D {own:.2f} s = {own / probe:.1%} of the probe, {own / run:.1%} of the run"


def print_growth(rows: list[Row]) -> None:
    print("\ngrowth: G forward against the smallest size of the family, and per M parameters")
    for family in dict.fromkeys(r.family for r in rows):
        mine = [r for r in rows if r.family == family]
        base = mine[0]
        steps = ", ".join(
            f"{r.size}px {r.forward / base.forward:.1f}x ({r.forward / (r.parameters / 1e6):.3f}"
            " s/M)"
            for r in mine
        )
        print(f"  {family:16} {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="32 and 64 px only")
    parser.add_argument("--families", default=",".join(families.FAMILIES))
    parser.add_argument("--sizes", default=None, help="comma-separated, e.g. 32,64")
    parser.add_argument("--no-verdict", action="store_true", help="skip the times to verdict")
    parser.add_argument("--no-targets", action="store_true", help="skip the speed targets")
    parser.add_argument("--no-256", action="store_true", help="skip the 256 px target")
    parser.add_argument("--nvlabs-repo", default=None, help="a clone of stylegan2-ada-pytorch")
    parser.add_argument("--rosinality-repo", default=None, help="a clone of stylegan2-pytorch")
    args = parser.parse_args()
    retain_freed_memory()  # as the command line does (runtime.allocator)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [32, 64] if args.quick else [32, 64, 128, 256])  # fmt: skip
    repos = {k: v for k, v in (("nvlabs", args.nvlabs_repo),
                               ("rosinality", args.rosinality_repo)) if v}  # fmt: skip
    print(
        f"gandoctor {gandoctor.__version__}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    rows = []
    for family in args.families.split(","):
        for size in sizes:
            rows.append(measure_row(family, size, repos))
            release_freed_memory()  # one heap for every size: its gaps back to the system
            print(f"  measured {progress(rows[-1])}", file=sys.stderr, flush=True)
    print_costs(rows)
    print_growth(rows)
    if not args.no_verdict:
        rows = [verdict_at_defaults(r) for r in rows]  # gandoctor.probe trims after each
        print_verdicts(rows)
    if not (args.quick or args.no_targets):
        targets(big=not args.no_256)


def progress(row: Row) -> str:
    """One row's figures as soon as they are measured: a run stopped later keeps them."""
    package = row.package if isinstance(row.package, str) else (
        f"package fwd {row.package[0]:.2f} s, bwd {row.package[1]:.2f} s")  # fmt: skip
    return (f"{row.family} at {row.size} px: G fwd {row.forward:.2f} s, bwd {row.backward:.2f} s"
            f" (bwd/fwd at batch {row.backward_batch}: {bwd_over_fwd(row):.2f}), D step "
            f"{row.d_step:.3f} s, measurement {row.measurement:.1f} s (level "
            f"{row.measurement_level}); {package}")  # fmt: skip


def targets(big: bool = True) -> None:
    """The speed issue's targets that this script measures (the DCGAN ones: bench.py); the
    packages' own passes are not timed again here. ``big``: the 256 px one too (10 minutes,
    about 11 GB)."""
    print("\ntargets")
    tiny = measure_row("rosinality_tiny", 64, {})
    tiny = verdict_at_defaults(tiny)
    print(
        f"  64x64 StyleGAN2 (rosinality layout, {tiny.parameters / 1e6:.2f} M parameters): "
        f"verdict in {tiny.verdict_seconds:.1f} s at defaults (goal <= 90 s); {tiny.verdict}; "
        f"{own_d_share(tiny)}"
    )
    if not big:
        return
    big = measure_row("nvlabs", 256, {})
    big = verdict_at_defaults(big, max_seconds=600)
    print(
        f"  256x256 NVlabs StyleGAN2 ({big.parameters / 1e6:.1f} M parameters), untrained, "
        f"--max-seconds 600: {big.verdict} in {big.verdict_seconds:.0f} s at level "
        f"{big.plan_level} (goal: failing, saturated, within 600 s)"
    )


if __name__ == "__main__":
    main()

"""The reference CPU's prices: what the default CPU budget charges for a probe's work.

    python benchmarks/price.py                  # DCGANs and the StyleGAN families, 32/64 px
    python benchmarks/price.py --sizes 32       # quicker (64 px: about 10 minutes)

The default CPU budget plans by counted work, not by the clock (probing.costs): each pass a
plan costs (a D step, G's forward pass, G's gradient pass at 16 samples and at a batch) is
counted once (FLOPs and operator calls, fp32) and priced as
``flops / REFERENCE_FLOPS_PER_SECOND + ops * REFERENCE_SECONDS_PER_OP``. This script times
the same passes here (fp32, 2 threads, the fastest of three), fits the two prices by least
squares on the relative error, and prints each pass's timed seconds against its price at
the fitted and at the shipped constants. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import families
from matrix import dcgan

from gandoctor.config import ProbeConfig
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing import costs
from gandoctor.probing.loop import fresh_discriminator


def generators(
    sizes: list[int], chosen: list[str]
) -> list[tuple[str, torch.nn.Module, tuple[int, ...], int]]:
    """(name, generator, latent shape, channels): the matrix's DCGANs and the families."""
    made = []
    for size in sizes:
        g, _ = dcgan(size)
        made.append((f"matrix dcgan {size}", g.eval(), (100, 1, 1), 1))
        for family in chosen:
            built = families.build(family, size)
            made.append((f"{family} {size}", built.generator, built.latent_shape, 3))
    return made


def rows(name: str, g: torch.nn.Module, latent: tuple[int, ...], channels: int, size: int):
    config = ProbeConfig(threads=2)
    real = torch.rand(config.batch_size, channels, size, size) * 2 - 1
    disc = fresh_discriminator((channels, size, size), config)
    spec = LatentSpec.of(latent)
    rng = torch.Generator().manual_seed(0)
    latents = [spec.sample(config.batch_size, rng, torch.device("cpu"))]
    with torch.no_grad():
        images = [g(*latents[0])]
    params = [p for p in g.parameters() if p.requires_grad]
    d_pass, g_pass, _ = costs._passes(g, disc, params, real, images, latents, config, "fp32")

    def generate() -> None:
        with torch.no_grad():
            g(*latents[0])

    passes = {"d step": d_pass, "generate": generate,
              "gradient 16": lambda: g_pass(16), "gradient 64": lambda: g_pass(64)}  # fmt: skip
    for kind, run in passes.items():
        work = costs.counted(run)
        seconds = costs.best_of(run)
        yield name, kind, seconds, work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--families", default=",".join(families.FAMILIES))
    args = parser.parse_args()
    torch.set_num_threads(2)
    sizes = [int(s) for s in args.sizes.split(",")]
    table = []
    for size in sizes:
        for name, g, latent, channels in generators([size], args.families.split(",")):
            for p in g.parameters():
                p.requires_grad_(True)
            table += list(rows(name, g, latent, channels, size))
            print(f"  timed {name}", flush=True)
    # Least squares on relative error: each row weighted by 1 / its seconds.
    a = np.array([[w.flops / t, w.ops / t] for _, _, t, w in table])
    coef, *_ = np.linalg.lstsq(a, np.ones(len(table)), rcond=None)
    per_flop, per_op = max(coef[0], 1e-15), max(coef[1], 0.0)
    print(f"\nfitted: {1 / per_flop:.3g} FLOP/s, {per_op:.3g} s per operator call")
    print(f"shipped: {costs.REFERENCE_FLOPS_PER_SECOND:.3g} FLOP/s, "
          f"{costs.REFERENCE_SECONDS_PER_OP:.3g} s per operator call\n")  # fmt: skip
    print(f"{'generator':22} {'pass':12} {'GFLOP':>8} {'ops':>6} {'timed s':>8} "
          f"{'fit/timed':>9} {'shipped/timed':>13}")  # fmt: skip
    logs = []
    for name, kind, seconds, work in table:
        fitted = work.flops * per_flop + work.ops * per_op
        logs.append(math.log(work.seconds / seconds))
        print(f"{name:22} {kind:12} {work.flops / 1e9:8.3f} {work.ops:6d} {seconds:8.4f} "
              f"{fitted / seconds:9.2f} {work.seconds / seconds:13.2f}")  # fmt: skip
    spread = float(np.std(logs))
    print(f"\nshipped prices against the clock: geometric mean {math.exp(np.mean(logs)):.2f}, "
          f"spread x{math.exp(spread):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

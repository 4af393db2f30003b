"""gandoctor's speed and memory figures, each a ratio measured within one run.

    python benchmarks/bench.py                 # every section
    python benchmarks/bench.py overhead budget # some of them
    python benchmarks/bench.py --quick         # smaller sizes, for a smoke run

Sections (goals from the project's issue on speed):
  overhead  probe steps/s, measurement included, against a minimal hand-written loop that
            trains the same D against the same frozen generator (goal >= 0.95)
  verdict   early stopping against a fixed 2000-step probe, on the untrained, 10-epoch
            and 25-epoch example generators (goal >= 5x faster, the same verdict)
  budget    `gandoctor probe` wall time, start-up included, on an untrained 64x64 DCGAN
            against ~2000 real images (goal <= 60 s on 2 CPU cores)
  loading   images/s decoding a folder of 64x64 PNG/JPEG files: one thread against the
            loader (goal >= 1.8x on 2 cores), and the cached second read (goal >= 10x)
  startup   `gandoctor --help` / `--version` wall time; torch must not be imported (<= 0.3 s)
  memory    peak RSS of a probe on a folder of 100k small images against one of 5k
            (goal: bounded by the image cap, not the folder size)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gandoctor.config import DataOptions, ProbeConfig
from gandoctor.data import images, load_real_data, parallel
from gandoctor.loading import load_generator
from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.probing import loop
from gandoctor.probing.loop import run_probe
from gandoctor.runtime.precision import AUTO, autocast, resolve_precision

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GANDOCTOR = [sys.executable, "-m", "gandoctor"]


def untrained_dcgan64(seed: int = 0) -> DCGANGenerator:
    """The PyTorch DCGAN example's generator at 64x64 (nz=100, ngf=64), DCGAN init."""
    torch.manual_seed(seed)
    generator = DCGANGenerator(100, [512, 256, 128, 64], 3)
    for module in generator.modules():
        if isinstance(module, torch.nn.ConvTranspose2d):
            torch.nn.init.normal_(module.weight, 0.0, 0.02)
    return generator.eval()


def write_image_folder(folder: Path, count: int, size: int, jpeg_share: float = 0.5) -> None:
    """Synthetic photos: smooth colour gradients plus noise, so that files compress like
    real images rather than like flat colour. Half PNG, half JPEG by default."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0, 1, size)
    for i in range(count):
        colour = rng.uniform(0, 255, size=3)
        base = np.outer(ramp, ramp)[..., None] * colour
        pixels = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255).astype(np.uint8)
        suffix = "jpg" if i < count * jpeg_share else "png"
        Image.fromarray(pixels).save(folder / f"img{i:06d}.{suffix}")


def minimal_loop(
    generator: torch.nn.Module,
    real: torch.Tensor,
    steps: int,
    batch: int = 64,
    precision: str = "fp32",
) -> float:
    """Steps/s of the loop a person would write: fresh z, G forward without gradient, one
    D step with BCE on logits. Nothing else; with bf16, under the same autocast as the
    probe's."""
    torch.manual_seed(0)
    disc = build_probe_discriminator(tuple(real.shape[1:]))
    optimizer = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    labels = torch.cat([torch.ones(batch), torch.zeros(batch)])
    for p in generator.parameters():
        p.requires_grad_(False)
    start = time.perf_counter()
    for step in range(-3, steps):  # three untimed steps first: kernels set up, as in a probe
        if step == 0:
            start = time.perf_counter()
        x = real[torch.randint(len(real), (batch,))]
        with autocast("cpu", precision):
            with torch.no_grad():
                fake = generator(torch.randn(batch, 100, 1, 1))
            logits = disc(torch.cat([x, fake])).float()
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    for p in generator.parameters():
        p.requires_grad_(True)
    return steps / seconds


def section_overhead(quick: bool) -> None:
    steps = 60 if quick else 300
    generator = untrained_dcgan64()
    real = torch.rand(2000, 3, 64, 64) * 2 - 1
    minimal = minimal_loop(generator, real, steps)
    print(f"  minimal loop, fp32 {minimal:7.2f} steps/s")
    _probe_against(generator, real, steps, "fp32", {"fp32": minimal})
    default = resolve_precision(AUTO, "cpu")
    if default != "fp32":  # the command line's default precision on this machine
        same = minimal_loop(generator, real, steps, precision=default)
        print(f"  minimal loop, {default} {same:7.2f} steps/s")
        _probe_against(generator, real, steps, default, {"fp32": minimal, default: same})


def _probe_against(
    generator: torch.nn.Module,
    real: torch.Tensor,
    steps: int,
    precision: str,
    minimal: dict[str, float],
) -> None:
    spent = {"train_step": 0.0, "measure": 0.0}
    config = ProbeConfig(steps=steps, early_stop=False, precision=precision)
    with _timing(loop, spent):
        outcome = run_probe(generator, (100, 1, 1), real, config)
    probe = steps / outcome.seconds
    training = steps / spent["train_step"]
    ratios = ", ".join(f"{probe / fast:4.2f} of the {name} loop" for name, fast in minimal.items())
    print(f"  probe {precision}, D steps {training:7.2f} steps/s  "
          f"{training / minimal[precision]:4.2f} of the {precision} loop")  # fmt: skip
    print(f"  probe {precision}, all     {probe:7.2f} steps/s  {ratios} (goal >= 0.95)")
    measurements = len(outcome.series)
    print(f"    {measurements} measurements took {spent['measure']:.1f} s of "
          f"{outcome.seconds:.1f} s ({spent['measure'] / measurements:.2f} s each = "
          f"{spent['measure'] / measurements * training:.1f} D steps)")  # fmt: skip


@contextmanager
def _timing(module: object, spent: dict[str, float]) -> Iterator[None]:
    """Adds the time spent in ``module``'s functions named in ``spent`` to it."""
    originals = {name: getattr(module, name) for name in spent}

    def timed(name: str) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return call

    for name in spent:
        setattr(module, name, timed(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


def section_verdict(quick: bool) -> None:
    fixed = 400 if quick else 2000
    data = load_real_data(EXAMPLES / "digits", sample_shape=(1, 32, 32), value_range=(-1.0, 1.0))
    for name in ("dcgan_digits_epoch0", "dcgan_digits_epoch10", "dcgan_digits_epoch25"):
        loaded = load_generator(EXAMPLES / f"{name}.safetensors")
        spec = loaded.info.latent_shape
        # Both at the command line's default precision (auto) on this machine.
        early = run_probe(loaded.module, spec, data.samples, ProbeConfig(precision=AUTO))
        long_probe = ProbeConfig(steps=fixed, early_stop=False, precision=AUTO)
        full = run_probe(loaded.module, spec, data.samples, long_probe)
        same = "same verdict" if early.verdict == full.verdict else "DIFFERENT verdict"
        print(
            f"  {name}: default {early.seconds:6.1f} s ({early.verdict}, "
            f"{early.stop_reason}); fixed {fixed} steps {full.seconds:6.1f} s "
            f"({full.verdict}); {full.seconds / early.seconds:4.1f}x faster, {same}"
        )


def section_budget(quick: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "real"
        write_image_folder(folder, 500 if quick else 2000, 64)
        checkpoint = Path(tmp) / "dcgan64.safetensors"
        from safetensors.torch import save_file

        save_file(untrained_dcgan64().state_dict(), str(checkpoint))
        env = {**os.environ, "GANDOCTOR_CACHE_DIR": str(Path(tmp) / "cache")}
        command = [*GANDOCTOR, "probe", str(checkpoint), "--data", str(folder), "--quiet"]
        command += ["--json", str(Path(tmp) / "report.json")]
        import json

        seconds = {}
        # The default first (it decodes and caches the images), then exact fp32 for comparison.
        for precision in ("auto", "fp32"):
            start = time.perf_counter()
            result = subprocess.run([*command, "--precision", precision], capture_output=True,
                                    text=True, env=env)  # fmt: skip
            seconds[precision] = time.perf_counter() - start
            report = json.loads((Path(tmp) / "report.json").read_text())
            probe = report["checkpoints"][0]["probe"]
            used = report["settings"]["precision"]
            print(f"  {precision} ({used}) wall time {seconds[precision]:6.1f} s, exit "
                  f"{result.returncode} (goal <= 60 s); {report['verdict']}: "
                  f"{probe['stop_reason']}")  # fmt: skip
        print(f"  fp32 / default     {seconds['fp32'] / seconds['auto']:4.2f}x")
        # The yardstick: a minimal fixed 2000-step fp32 loop on the same generator,
        # timed over fewer steps (it is a fixed loop: its time is linear in the steps).
        rate = minimal_loop(untrained_dcgan64(), torch.rand(2000, 3, 64, 64) * 2 - 1, 60 if quick
                            else 200)  # fmt: skip
        fixed = 2000 / rate
        print(
            f"  fp32 verdict against a minimal fixed 2000-step fp32 loop ({fixed:.0f} s): "
            f"{seconds['fp32'] / fixed:.2f}x (goal <= 0.2x)"
        )


def _decode_only(files: list[Path], workers: int) -> None:
    """The decoding phase alone: every file through the loader's decoder and its worker
    processes (0: in this process), pixels handed over and dropped."""
    os.environ[parallel.WORKERS_VARIABLE] = str(workers)
    decode = partial(images._decode_or_reason, str(files[0].parent), "RGB", (64, 64))
    for _ in parallel.decode_all([f.name for f in files], decode, 64 * 64 * 3):
        pass


def section_loading(quick: bool) -> None:
    count = 600 if quick else 3000
    workers = parallel.worker_count(count)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "real"
        write_image_folder(folder, count, 64)
        os.environ["GANDOCTOR_CACHE_DIR"] = str(Path(tmp) / "cache")
        files = sorted(folder.iterdir())
        single_decode, parallel_decode = (
            _timed(lambda w=w: _decode_only(files, w)) for w in (0, workers)
        )

        def load(cache: bool) -> object:
            return load_real_data(folder, sample_shape=(3, 64, 64), value_range=(-1.0, 1.0),
                                  options=DataOptions(max_images=count, cache=cache))  # fmt: skip

        threads = torch.get_num_threads()
        os.environ[parallel.WORKERS_VARIABLE] = "0"
        torch.set_num_threads(1)
        single = _timed(lambda: load(False))  # the loader's whole work in one thread
        torch.set_num_threads(threads)
        del os.environ[parallel.WORKERS_VARIABLE]
        first, second = _timed(lambda: load(True)), _timed(lambda: load(True))
        print(f"  decoding alone     one thread {count / single_decode:6.0f} images/s, "
              f"{workers} workers {count / parallel_decode:6.0f}: "
              f"{single_decode / parallel_decode:4.2f}x")  # fmt: skip
        print(f"  whole loader       one thread {count / single:6.0f} images/s (list, decode, "
              "to float, no cache)")  # fmt: skip
        print(f"  first read         {count / first:8.0f} images/s  {single / first:5.2f}x "
              "(goal >= 1.8x on 2 cores; includes writing the cache)")  # fmt: skip
        print(f"  cached read        {count / second:8.0f} images/s  {first / second:5.1f}x "
              "the first read (goal >= 10x)")  # fmt: skip


def section_startup(quick: bool) -> None:
    for flag in ("--help", "--version"):
        times = [_timed(lambda f=flag: subprocess.run([*GANDOCTOR, f], capture_output=True))
                 for _ in range(3 if quick else 7)]  # fmt: skip
        print(f"  gandoctor {flag:<9} {statistics.median(times):5.2f} s median (goal <= 0.3 s)")
    check = "import sys, gandoctor.cli; print('torch' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    print(f"  torch imported by the CLI module: {imported.stdout.strip()}")


def section_memory(quick: bool) -> None:
    small, large = (1000, 10000) if quick else (5000, 100000)
    with tempfile.TemporaryDirectory() as tmp:
        peaks = {}
        for count in (small, large):
            folder = Path(tmp) / f"real{count}"
            write_image_folder(folder, count, 16, jpeg_share=0.0)
            peaks[count] = _probe_peak_rss(folder, Path(tmp))
        for count, peak in peaks.items():
            print(f"  {count:>6} images      peak RSS {peak / 2**20:7.0f} MiB")
        print(f"  ratio              {peaks[large] / peaks[small]:7.2f}   (goal: about 1; "
              "both capped at 10000 images)")  # fmt: skip


def _probe_peak_rss(folder: Path, tmp: Path) -> int:
    """Peak RSS in bytes of a short probe of an untrained 16x16 generator on ``folder``."""
    checkpoint = tmp / "dcgan16.safetensors"
    if not checkpoint.exists():
        from safetensors.torch import save_file

        torch.manual_seed(0)
        save_file(DCGANGenerator(16, [32, 16], 3).state_dict(), str(checkpoint))
    script = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({[*GANDOCTOR, 'probe', str(checkpoint), '--data', str(folder)]!r}"
        " + ['--steps', '20', '--quiet', '--no-early-stop'], capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = {**os.environ, "GANDOCTOR_CACHE_DIR": str(tmp / "cache-memory")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    return int(out.stdout.strip()) * 1024  # ru_maxrss is in KiB on Linux


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


SECTIONS = {
    "overhead": section_overhead,
    "verdict": section_verdict,
    "budget": section_budget,
    "loading": section_loading,
    "startup": section_startup,
    "memory": section_memory,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", help=f"some of: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    print(f"gandoctor benchmarks: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, default precision "
          f"{resolve_precision(AUTO, 'cpu')}")  # fmt: skip
    for name in args.sections or SECTIONS:
        print(f"[{name}]")
        SECTIONS[name](args.quick)


if __name__ == "__main__":
    main()

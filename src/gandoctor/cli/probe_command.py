"""``gandoctor probe``: probe checkpoint(s) against real data and give a verdict."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gandoctor.cli import parsing
from gandoctor.cli.app import app
from gandoctor.cli.common import progress_bar, user_errors
from gandoctor.cli.interrupted import partial_reports
from gandoctor.cli.options import (
    AdapterOpt,
    ArchKwargsOpt,
    ArchOpt,
    ClassesOpt,
    DiscCheckpointOpt,
    DiscKwargsOpt,
    DiscOpt,
    ForwardKwargsOpt,
    JsonOpt,
    KeyOpt,
    LabelFormatOpt,
    LatentDistOpt,
    LatentOpt,
    OutputIndexOpt,
    PrefixOpt,
    RangeOpt,
    TruncationOpt,
    TrustOpt,
)
from gandoctor.cli.outputs import Outputs
from gandoctor.cli.run_items import expand, run_data, share
from gandoctor.cli.settings_options import (
    BaselineOpt,
    BatchOpt,
    DiscWidthOpt,
    EarlyStopOpt,
    FailOnOpt,
    GradBatchesOpt,
    MarkdownOpt,
    MaxImagesOpt,
    MaxSecondsOpt,
    PlanOpt,
    PrecisionOpt,
    ProbeDeviceOpt,
    SeedOpt,
    StepsOpt,
    ThreadsOpt,
    TrainModeOpt,
)
from gandoctor.config import DataOptions
from gandoctor.enums import LatentDistribution

if TYPE_CHECKING:
    pass

_DATA = DataOptions()


@app.command()
def probe(
    checkpoints: Annotated[list[Path], typer.Argument(help="Generator checkpoint(s).")],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "-d",
            help="Real data: a folder of images (class folders as labels), an NVlabs dataset "
            ".zip, a rosinality LMDB (folder or .mdb), or .npy/.npz. Optional for a training "
            "run folder whose options name a data set that exists here.",
        ),
    ] = None,
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    latent_shape: LatentOpt = None,
    output_range: RangeOpt = None,
    key: KeyOpt = None,
    strip_prefix: PrefixOpt = None,
    trust_pickle: TrustOpt = False,
    latent: LatentDistOpt = LatentDistribution.NORMAL,
    num_classes: ClassesOpt = None,
    label_format: LabelFormatOpt = "index",
    truncation: TruncationOpt = 1.0,
    forward_kwargs: ForwardKwargsOpt = None,
    output_index: OutputIndexOpt = None,
    adapter: AdapterOpt = None,
    disc_checkpoint: DiscCheckpointOpt = None,
    disc: DiscOpt = None,
    disc_kwargs: DiscKwargsOpt = None,
    steps: StepsOpt = None,
    batch_size: BatchOpt = None,
    seed: SeedOpt = None,
    device: ProbeDeviceOpt = None,
    precision: PrecisionOpt = None,
    train_mode: TrainModeOpt = None,
    early_stop: EarlyStopOpt = None,
    max_images: MaxImagesOpt = None,
    max_seconds: MaxSecondsOpt = None,
    plan: PlanOpt = None,
    threads: ThreadsOpt = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse decoded images from the user's cache folder.")
    ] = _DATA.cache,
    grad_batches: GradBatchesOpt = None,
    disc_width: DiscWidthOpt = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(help="Override a threshold, NAME=VALUE (repeatable); see the README."),
    ] = None,
    json_out: JsonOpt = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw Figures 1-3 (accuracy, both gradient norms) to a PNG/SVG/PDF."),
    ] = None,
    fail_on: FailOnOpt = None,
    markdown: MarkdownOpt = None,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Write a self-contained HTML report to PATH: verdict, figures, Figures 1-3 "
            "and the sample grids (nothing loaded from the network)."
        ),
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option(
            help="Save 8x8 grids of generated and held-out real samples as PNG into this "
            "folder (NN_<checkpoint>_generated.png, NN_<checkpoint>_real.png)."
        ),
    ] = None,
    baseline: BaselineOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no warnings.")
    ] = False,
    layers: Annotated[
        bool,
        typer.Option(
            "--layers", help="Also show the gradient norms of each generator layer (both costs)."
        ),
    ] = False,
    own_d: Annotated[
        bool,
        typer.Option(
            "--own-d/--no-own-d",
            help="Also measure the checkpoint's own discriminator, where it holds one.",
        ),
    ] = True,
    val_data: Annotated[
        Path | None,
        typer.Option(
            "--val-data",
            help="Real images the GAN never trained on: the own D's r_v and d_overfit.",
        ),
    ] = None,
    remedies: Annotated[
        bool,
        typer.Option(
            "--remedies",
            help="Also try the paper's remedies: instance noise at a few levels (one more "
            "probe each) and a WGAN-GP critic.",
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Probe a share of the checkpoints: I/N (every N-th from the I-th), or auto "
            "under torchrun (RANK, WORLD_SIZE, and GPU LOCAL_RANK). {rank} in --json or "
            "--markdown becomes I; join the reports with gandoctor merge."
        ),
    ] = None,
    seeds: Annotated[
        int,
        typer.Option(
            help="Probe each checkpoint under N seeds (--seed, --seed + 1, ...); the verdict "
            "and the gate go by the majority."
        ),
    ] = 1,
    rank: Annotated[
        bool,
        typer.Option(
            "--rank",
            help="Rank the checkpoints (a run's snapshots) by a fresh D's held-out accuracy "
            "under one fixed protocol (every step, one plan), with 95 % intervals and ties.",
        ),
    ] = False,
    every: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Of a training run folder, probe every N-th snapshot (and the last).",
        ),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option(metavar="N", help="Of a training run folder, probe the last N snapshots."),
    ] = None,
    noise_levels: Annotated[
        str | None,
        typer.Option(
            help="Instance-noise sigmas for --remedies, as shares of the data range "
            "(default 0.1,0.05,0.02)."
        ),
    ] = None,
) -> None:
    """Probe generator checkpoint(s) against real data and give a verdict.

    Exit 0 when the gate passes; 1 when a finding named by --fail-on was found, or the
    training signal regressed against --baseline; 2 on bad input.

    --fail-on examples: fail (the default: every fail-severity finding); warn (warnings
    too); saturation,vanishing (those codes, at any severity); saturation:fail (a saturated
    D, not a saturation warning); fail,range_mismatch; none.

    Settings shown with a default, --fail-on, --baseline and thresholds can also come from
    a \\[tool.gandoctor] table in the nearest pyproject.toml; the command line wins.
    """
    with user_errors():
        from gandoctor.cli.project_config import load_project_config, resolve

        project = load_project_config()  # [tool.gandoctor]; the command line wins
        settings = resolve(
            project, threshold, steps=steps, batch_size=batch_size, seed=seed, device=device,
            precision=precision, train_mode=train_mode, early_stop=early_stop,
            max_images=max_images, max_seconds=max_seconds, grad_batches=grad_batches,
            disc_width=disc_width, plan=plan, threads=threads,
            fail_on=fail_on, baseline=None if baseline is None else str(baseline),
        )  # fmt: skip
        outputs = Outputs(json_out, markdown, plot, html, samples)
        items, paths, runs = expand(checkpoints, every, last, settings.max_seconds)
        items, outputs, device = share(items, paths, shard, outputs, settings.device)
        data = data if data is not None else run_data(runs, _note if not quiet else None)
        outputs.check([*paths, *([disc_checkpoint] if disc_checkpoint else [])], data, val_data)
        load = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
            label_format=label_format,
            truncation=truncation, forward_kwargs=forward_kwargs, output_index=output_index,
            adapter=adapter, disc_checkpoint=disc_checkpoint, disc=disc, disc_kwargs=disc_kwargs,
        )  # fmt: skip
        from gandoctor.api import probe as run_probe
        from gandoctor.judge.gate import parse_fail_on
        from gandoctor.runtime.allocator import retain_freed_memory

        retain_freed_memory()  # process-wide, so the command line's choice (runtime.allocator)
        with partial_reports(outputs.json, outputs.markdown), _progress(quiet) as on_progress:
            report = run_probe(
                items, data, val_data=val_data, load_options=load,
                data_options=settings.data_options(cache),
                config=settings.probe_config(device, per_layer=layers, own_discriminator=own_d),
                fail_on=parse_fail_on(settings.fail_on), baseline=settings.baseline,
                on_progress=on_progress, on_warning=None if quiet else _warn,
                remedies=parsing.remedy_options(remedies, noise_levels), seeds=seeds,
                on_note=None if quiet else _note, rank=rank,
            )  # fmt: skip
        if project.path is not None:
            report = replace(report, config_file=str(project.path))
        outputs.emit(report)
    raise typer.Exit(report.exit_code)


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """The progress callback: a bar on an interactive stderr, else none."""
    with progress_bar(not quiet and sys.stderr.isatty()) as (bar, callback):
        yield callback if bar else None


def _warn(message: str) -> None:
    typer.echo(f"gandoctor: warning: {message}", err=True)


def _note(message: str) -> None:
    typer.echo(f"gandoctor: {message}", err=True)

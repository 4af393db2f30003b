"""``gandoctor probe``: probe checkpoint(s) against real data and give a verdict."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gandoctor import parsing
from gandoctor.cli.app import app
from gandoctor.cli.common import progress_bar, user_errors, write_text
from gandoctor.cli.options import (
    ArchKwargsOpt,
    ArchOpt,
    ClassesOpt,
    DeviceOpt,
    JsonOpt,
    KeyOpt,
    LatentDistOpt,
    LatentOpt,
    PrefixOpt,
    RangeOpt,
    TrustOpt,
)
from gandoctor.config import DataOptions, LatentDistribution, ProbeConfig
from gandoctor.errors import ConfigError

_PROBE = ProbeConfig()  # the defaults shown in --help come from config.py
_DATA = DataOptions()


@app.command()
def probe(
    checkpoints: Annotated[list[Path], typer.Argument(help="Generator checkpoint(s).")],
    data: Annotated[
        Path, typer.Option("--data", "-d", help="Folder of real images, or .npy/.npz.")
    ],
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    latent_shape: LatentOpt = None,
    output_range: RangeOpt = None,
    key: KeyOpt = None,
    strip_prefix: PrefixOpt = None,
    trust_pickle: TrustOpt = False,
    latent: LatentDistOpt = LatentDistribution.NORMAL,
    num_classes: ClassesOpt = None,
    steps: Annotated[int, typer.Option(help="Maximum discriminator steps.")] = _PROBE.steps,
    batch_size: Annotated[int, typer.Option(help="Batch size of real and of fake samples.")] = (
        _PROBE.batch_size
    ),
    seed: Annotated[int, typer.Option(help="Seed of the split, D's weights and all z.")] = (
        _PROBE.seed
    ),
    device: DeviceOpt = _PROBE.device,
    train_mode: Annotated[
        bool, typer.Option(help="Keep the generator in train mode (BatchNorm batch statistics).")
    ] = False,
    early_stop: Annotated[
        bool, typer.Option(help="Stop once the verdict cannot improve any more.")
    ] = _PROBE.early_stop,
    max_images: Annotated[int, typer.Option(help="Use at most this many real images.")] = (
        _DATA.max_images
    ),
    cache: Annotated[
        bool, typer.Option(help="Reuse decoded images from the user's cache folder.")
    ] = _DATA.cache,
    grad_batches: Annotated[
        int, typer.Option(help="Fixed latent batches per gradient measurement.")
    ] = _PROBE.grad_batches,
    disc_width: Annotated[
        int | None, typer.Option(help="Base channel width of the probe D (default: sized).")
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(help="Override a threshold, NAME=VALUE (repeatable); see the README."),
    ] = None,
    json_out: JsonOpt = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Draw Figures 1-3 (accuracy, both gradient norms) to a PNG/SVG/PDF."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 on these: codes and/or severities, e.g. fail, warn, "
            "saturation,vanishing, or none."
        ),
    ] = "fail",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no warnings.")
    ] = False,
) -> None:
    """Probe generator checkpoint(s) against real data and give a verdict."""
    with user_errors():
        from gandoctor.gate import parse_fail_on

        gate = parse_fail_on(fail_on)
        parsing.check_output_path(json_out)
        if plot is not None:
            from gandoctor.plots import check_plot_path

            check_plot_path(plot)
        load = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
        )  # fmt: skip
        config = ProbeConfig(
            steps=steps,
            batch_size=batch_size,
            seed=seed,
            device=device,
            train_mode=train_mode,
            early_stop=early_stop,
            grad_batches=grad_batches,
            disc_width=disc_width,
            thresholds=parsing.thresholds(threshold or []),
        )
        if max_images < 2:
            raise ConfigError(f"--max-images must be at least 2, got {max_images}")
        data_options = DataOptions(max_images=max_images, seed=seed, cache=cache)

        from rich.console import Console

        from gandoctor.api import probe as run
        from gandoctor.render import render_report
        from gandoctor.report import write_atomically

        warn = (
            None
            if quiet
            else (lambda message: typer.echo(f"gandoctor: warning: {message}", err=True))
        )
        show_progress = not quiet and sys.stderr.isatty()
        with progress_bar(show_progress) as (progress, callback):
            report = run(
                checkpoints, data, load_options=load, data_options=data_options,
                config=config, fail_on=gate, on_progress=callback if progress else None,
                on_warning=warn,
            )  # fmt: skip
        if json_out == "-":
            typer.echo(report.to_json())
        else:
            Console(highlight=False).print(render_report(report))
            if json_out is not None:
                write_text(json_out, report.to_json(), write_atomically)
        if plot is not None:
            from gandoctor.plots import plot_report

            plot_report(report, plot)
    raise typer.Exit(report.exit_code)

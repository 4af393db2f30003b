"""``gandoctor probe``: probe checkpoint(s) against real data and give a verdict."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from gandoctor.cli import parsing
from gandoctor.cli.app import app
from gandoctor.cli.common import progress_bar, user_errors, write_text
from gandoctor.cli.interrupted import partial_reports
from gandoctor.cli.options import (
    ArchKwargsOpt,
    ArchOpt,
    ClassesOpt,
    JsonOpt,
    KeyOpt,
    LatentDistOpt,
    LatentOpt,
    PrefixOpt,
    RangeOpt,
    TrustOpt,
)
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
    PrecisionOpt,
    ProbeDeviceOpt,
    SeedOpt,
    StepsOpt,
    TrainModeOpt,
)
from gandoctor.config import DataOptions, ProbeConfig
from gandoctor.enums import LatentDistribution
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
    steps: StepsOpt = None,
    batch_size: BatchOpt = None,
    seed: SeedOpt = None,
    device: ProbeDeviceOpt = None,
    precision: PrecisionOpt = None,
    train_mode: TrainModeOpt = None,
    early_stop: EarlyStopOpt = None,
    max_images: MaxImagesOpt = None,
    max_seconds: MaxSecondsOpt = None,
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
        from gandoctor.judge.gate import parse_fail_on

        project = load_project_config()  # [tool.gandoctor]; the command line wins
        s = resolve(
            project, threshold, steps=steps, batch_size=batch_size, seed=seed, device=device,
            precision=precision, train_mode=train_mode, early_stop=early_stop,
            max_images=max_images, max_seconds=max_seconds, grad_batches=grad_batches,
            disc_width=disc_width,
            fail_on=fail_on, baseline=None if baseline is None else str(baseline),
        )  # fmt: skip
        gate = parse_fail_on(s.fail_on)
        from gandoctor.paths import expand_checkpoints

        paths: list[str] = expand_checkpoints(checkpoints)
        device = s.device
        if shard is not None:
            from gandoctor.cli.sharding import parse_shard
            from gandoctor.runtime.devices import resolve_device

            share = parse_shard(shard, os.environ)
            paths = share.take(paths)
            json_out, markdown = share.path(json_out), share.path(markdown)
            device = share.device(resolve_device(device))
        parsing.check_output_path(json_out)
        parsing.check_output_path(markdown)
        if json_out == "-" and markdown == "-":
            raise ConfigError("--json - and --markdown - both want stdout; write one to a file")
        if plot is not None:
            from gandoctor.report.plots import check_plot_path

            check_plot_path(plot)
        from gandoctor.paths import check_outputs_are_not_inputs

        outputs = {"--json": json_out, "--markdown": markdown, "--plot": plot}
        check_outputs_are_not_inputs(outputs, paths, data)
        load = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
        )  # fmt: skip
        config = ProbeConfig(
            steps=s.steps,
            batch_size=s.batch_size,
            seed=s.seed,
            device=device,
            precision=s.precision,
            train_mode=s.train_mode,
            early_stop=s.early_stop,
            grad_batches=s.grad_batches,
            disc_width=s.disc_width,
            thresholds=s.thresholds,
            max_seconds=s.max_seconds,
            per_layer=layers,
        )
        if s.max_images < 2:
            raise ConfigError(f"--max-images must be at least 2, got {s.max_images}")
        data_options = DataOptions(max_images=s.max_images, seed=s.seed, cache=cache)
        remedy_options = parsing.remedy_options(remedies, noise_levels)

        from rich.console import Console

        from gandoctor.api import probe as run
        from gandoctor.paths import write_atomically
        from gandoctor.report.markdown import render_markdown
        from gandoctor.report.terminal.tables import render_report

        warn = (
            None
            if quiet
            else (lambda message: typer.echo(f"gandoctor: warning: {message}", err=True))
        )
        show_progress = not quiet and sys.stderr.isatty()
        with partial_reports(json_out, markdown), progress_bar(show_progress) as (progress, cb):
            report = run(
                paths, data, load_options=load, data_options=data_options,
                config=config, fail_on=gate, baseline=s.baseline,
                on_progress=cb if progress else None,
                on_warning=warn, remedies=remedy_options,
            )  # fmt: skip
        if project.path is not None:
            report = replace(report, config_file=str(project.path))
        if json_out == "-":
            typer.echo(report.to_json())
        elif markdown == "-":
            typer.echo(render_markdown(report), nl=False)
        else:
            Console(highlight=False).print(render_report(report))
        if json_out not in (None, "-"):
            write_text(json_out, report.to_json(), write_atomically)
        if markdown not in (None, "-"):
            write_text(markdown, render_markdown(report), write_atomically)
        if plot is not None:
            from gandoctor.report.plots import plot_report

            plot_report(report, plot)
    raise typer.Exit(report.exit_code)

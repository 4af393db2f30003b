"""``gandoctor preflight``: check an untrained architecture (or a checkpoint) and the real
data, in seconds, for what commonly wastes a training run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from gandoctor.cli import parsing
from gandoctor.cli.app import app
from gandoctor.cli.common import user_errors, write_text
from gandoctor.cli.options import (
    AdapterOpt,
    ArchKwargsOpt,
    ArchOpt,
    ClassesOpt,
    DeviceOpt,
    ForwardKwargsOpt,
    JsonOpt,
    KeyOpt,
    LatentDistOpt,
    LatentOpt,
    OutputIndexOpt,
    PrefixOpt,
    TruncationOpt,
    TrustOpt,
)
from gandoctor.config import DataOptions, PreflightConfig
from gandoctor.enums import LatentDistribution
from gandoctor.errors import ConfigError

_PREFLIGHT = PreflightConfig()  # the defaults shown in --help come from config.py


@app.command()
def preflight(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            "-d",
            help="Real data: a folder of images, an NVlabs dataset .zip, a rosinality LMDB, "
            "or .npy/.npz.",
        ),
    ],
    checkpoint: Annotated[
        Path | None,
        typer.Argument(help="A generator checkpoint; leave out to build --arch untrained."),
    ] = None,
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    latent_shape: LatentOpt = None,
    output_range: Annotated[
        str | None,
        typer.Option(
            help="The range the training data are scaled to, e.g. -1,1 (default: "
            "the generator's final layer)."
        ),
    ] = None,
    key: KeyOpt = None,
    strip_prefix: PrefixOpt = None,
    trust_pickle: TrustOpt = False,
    latent: LatentDistOpt = LatentDistribution.NORMAL,
    num_classes: ClassesOpt = None,
    truncation: TruncationOpt = 1.0,
    forward_kwargs: ForwardKwargsOpt = None,
    output_index: OutputIndexOpt = None,
    adapter: AdapterOpt = None,
    disc: Annotated[
        str | None,
        typer.Option(
            help="Your discriminator, module:Class or path/to/file.py:Class, used "
            "for the gradient-flow and batch-of-1 checks instead of the probe D."
        ),
    ] = None,
    disc_kwargs: Annotated[
        str | None, typer.Option(help="Constructor arguments for --disc, as a JSON object.")
    ] = None,
    steps: Annotated[int, typer.Option(help="Steps of the short probe.")] = (
        _PREFLIGHT.probe.steps
    ),
    batch_size: Annotated[int, typer.Option(help="Batch size of real and of fake samples.")] = (
        _PREFLIGHT.probe.batch_size
    ),
    seed: Annotated[int, typer.Option(help="Seed of the weights, D and all z.")] = (
        _PREFLIGHT.probe.seed
    ),
    device: DeviceOpt = "cpu",
    train_mode: Annotated[
        bool,
        typer.Option(
            "--train-mode/--eval-mode",
            help="Run the generator in train mode (the mode it trains in) or eval.",
        ),
    ] = _PREFLIGHT.probe.train_mode,
    max_images: Annotated[int, typer.Option(help="Use at most this many real images.")] = (
        DataOptions().max_images
    ),
    threshold: Annotated[
        list[str] | None,
        typer.Option(help="Override a threshold, NAME=VALUE (repeatable); see the README."),
    ] = None,
    json_out: JsonOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No warnings on stderr.")] = False,
) -> None:
    """Check an untrained generator (--arch) or a checkpoint against the real data before
    training: shapes, value ranges, use of z, gradient flow per layer, train/eval mode,
    batches of one and a short probe. Exit 1 when a check fails."""
    with user_errors():
        parsing.check_output_path(json_out)
        if max_images < 2:
            raise ConfigError(f"--max-images must be at least 2, got {max_images}")
        load = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
            truncation=truncation, forward_kwargs=forward_kwargs, output_index=output_index,
            adapter=adapter,
        )  # fmt: skip
        probe = replace(
            _PREFLIGHT.probe, steps=steps, batch_size=batch_size, seed=seed, device=device,
            train_mode=train_mode, thresholds=parsing.thresholds(threshold or []),
        )  # fmt: skip
        config = replace(_PREFLIGHT, probe=probe)
        kwargs = parsing.json_object(disc_kwargs, "--disc-kwargs")
        if kwargs and disc is None:
            raise ConfigError("--disc-kwargs needs --disc")

        from rich.console import Console

        from gandoctor.paths import write_atomically
        from gandoctor.preflight import run_preflight
        from gandoctor.preflight.render import render_preflight

        warn = None if quiet else (lambda m: typer.echo(f"gandoctor: warning: {m}", err=True))
        report = run_preflight(
            checkpoint, data, load_options=load, config=config, disc=disc, disc_kwargs=kwargs,
            data_options=DataOptions(max_images=max_images, seed=seed), on_warning=warn,
        )  # fmt: skip
        if json_out == "-":
            typer.echo(report.to_json())
        else:
            Console(highlight=False).print(render_preflight(report))
            if json_out is not None:
                write_text(json_out, report.to_json(), write_atomically)
    raise typer.Exit(report.exit_code)

"""The command line: options -> config -> library call -> render -> exit code.

torch is imported only inside the commands, so ``gandoctor --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gandoctor import __version__, parsing
from gandoctor.config import (
    DataOptions,
    LatentDistribution,
    ProbeConfig,
)
from gandoctor.errors import ConfigError, GanDoctorError

if TYPE_CHECKING:
    from rich.progress import Progress

EXIT_USAGE = 2
_PROBE = ProbeConfig()  # the defaults shown in --help come from config.py
_DATA = DataOptions()

app = typer.Typer(
    name="gandoctor",
    help="A doctor for GAN generators: probe a frozen generator with a fresh discriminator "
    "(Arjovsky & Bottou, 2017).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gandoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gandoctor: is your generator's training signal alive?"""


ArchOpt = Annotated[
    str | None,
    typer.Option(
        help="Architecture: package.module:Class or path/to/file.py:Class (runs that code)."
    ),
]
ArchKwargsOpt = Annotated[
    str | None, typer.Option(help="Constructor arguments for --arch, as JSON: '{\"nz\": 100}'.")
]
LatentOpt = Annotated[
    str | None, typer.Option(help="Latent shape without batch axis, e.g. 100,1,1 or 128.")
]
RangeOpt = Annotated[
    str | None, typer.Option(help="Generator output range, e.g. -1,1 or 0,1 (default: detected).")
]
DeviceOpt = Annotated[str, typer.Option(help="torch device, e.g. cpu, cuda, cuda:1, mps.")]
KeyOpt = Annotated[
    str | None, typer.Option(help="Entry of a nested checkpoint holding the generator, e.g. netG.")
]
PrefixOpt = Annotated[
    str | None, typer.Option(help="Prefix to strip from state-dict keys, e.g. module.")
]
TrustOpt = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Load files that run code when read (pickled modules, TorchScript, torch.export). "
        "Only for files you trust.",
    ),
]
LatentDistOpt = Annotated[LatentDistribution, typer.Option("--latent", help="Distribution of z.")]
ClassesOpt = Annotated[
    int | None, typer.Option(help="Conditional generator: pass labels of this many classes.")
]
JsonOpt = Annotated[
    str | None, typer.Option("--json", help="Write the JSON report to PATH, or to stdout with -.")
]


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
    with _user_errors():
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
        data_options = DataOptions(max_images=max_images, seed=seed)

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
        with _progress(show_progress) as (progress, callback):
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
                _write(json_out, report.to_json(), write_atomically)
        if plot is not None:
            from gandoctor.plots import plot_report

            plot_report(report, plot)
    raise typer.Exit(report.exit_code)


@app.command()
def inspect(
    checkpoint: Annotated[Path, typer.Argument(help="Generator checkpoint.")],
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    latent_shape: LatentOpt = None,
    output_range: RangeOpt = None,
    key: KeyOpt = None,
    strip_prefix: PrefixOpt = None,
    trust_pickle: TrustOpt = False,
    latent: LatentDistOpt = LatentDistribution.NORMAL,
    num_classes: ClassesOpt = None,
    device: DeviceOpt = "cpu",
    json_out: JsonOpt = None,
) -> None:
    """Show what was detected in a checkpoint; runs no probe."""
    with _user_errors():
        parsing.check_output_path(json_out)
        from gandoctor.api import inspect as inspect_checkpoint

        options = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
        )  # fmt: skip
        facts = inspect_checkpoint(checkpoint, options)
        if json_out == "-":
            typer.echo(json.dumps(facts, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=f"gandoctor inspect {checkpoint}", title_justify="left", show_header=False
        )
        for key, value in facts.items():
            table.add_row(key, str(value))
        Console(highlight=False).print(table)
        if json_out is not None:
            from gandoctor.report import write_atomically

            _write(json_out, json.dumps(facts, indent=2), write_atomically)


def main() -> None:
    """Console entry point: usage errors become one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except _CLI_ERRORS as error:
        message = error.format_message()  # type: ignore[attr-defined]
        if type(error).__name__ == "NoArgsIsHelpError":
            typer.echo(message, err=True)  # the message is the help text
        else:
            typer.echo(f"gandoctor: error: {_one_line(message)}", err=True)
        sys.exit(getattr(error, "exit_code", EXIT_USAGE))
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("gandoctor: interrupted; no report was written", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _cli_error_types() -> tuple[type[Exception], ...]:
    """Usage errors of the command-line parser: typer >= 0.22 vendors click and raises
    ``typer.TyperException`` subclasses; older typer raises ``click.ClickException``."""
    found: list[type[Exception]] = []
    if hasattr(typer, "TyperException"):
        found.append(typer.TyperException)
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


_CLI_ERRORS = _cli_error_types()


def _one_line(message: str) -> str:
    return " ".join(message.split())


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn gandoctor's own errors into one line on stderr and exit code 2; real bugs keep
    their traceback."""
    try:
        yield
    except GanDoctorError as error:
        typer.echo(f"gandoctor: error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Progress | None, Any]]:
    if not enabled:
        yield None, None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip

        def callback(checkpoint: str, step: int, total: int) -> None:
            if checkpoint not in tasks:
                tasks[checkpoint] = bar.add_task(f"probing {checkpoint}", total=total)
            bar.update(tasks[checkpoint], completed=step)

        yield bar, callback


def _write(path: str, text: str, writer: Any) -> None:
    try:
        writer(path, text)
    except OSError as error:
        raise ConfigError(f"cannot write the report to {path}: {error.strerror}") from None

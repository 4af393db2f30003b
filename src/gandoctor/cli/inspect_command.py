"""``gandoctor inspect``: what was detected in a checkpoint, without probing."""

from __future__ import annotations

import json
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
    DiscCheckpointOpt,
    DiscKwargsOpt,
    DiscOpt,
    ForwardKwargsOpt,
    JsonOpt,
    KeyOpt,
    LatentDistOpt,
    LatentOpt,
    OutputIndexOpt,
    PrefixOpt,
    RangeOpt,
    TruncationOpt,
    TrustOpt,
)
from gandoctor.enums import LatentDistribution


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
    truncation: TruncationOpt = 1.0,
    forward_kwargs: ForwardKwargsOpt = None,
    output_index: OutputIndexOpt = None,
    adapter: AdapterOpt = None,
    disc_checkpoint: DiscCheckpointOpt = None,
    disc: DiscOpt = None,
    disc_kwargs: DiscKwargsOpt = None,
    device: DeviceOpt = "cpu",
    json_out: JsonOpt = None,
) -> None:
    """Show what was detected in a checkpoint; runs no probe."""
    with user_errors():
        parsing.check_output_path(json_out)
        from gandoctor.api import inspect as inspect_checkpoint
        from gandoctor.paths import check_outputs_are_not_inputs

        check_outputs_are_not_inputs({"--json": json_out}, [checkpoint])

        options = parsing.load_options(
            arch=arch, arch_kwargs=arch_kwargs, latent_shape=latent_shape,
            output_range=output_range, device=device, key=key, strip_prefix=strip_prefix,
            trust_pickle=trust_pickle, latent=latent, num_classes=num_classes,
            truncation=truncation, forward_kwargs=forward_kwargs, output_index=output_index,
            adapter=adapter, disc_checkpoint=disc_checkpoint, disc=disc, disc_kwargs=disc_kwargs,
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
            if key in ("details", "own_discriminator") and isinstance(value, dict):
                if key == "own_discriminator":
                    table.add_row(key, "")
                for detail, shown in value.items():  # one row each: a dict wraps unreadably
                    if detail == "notes" and isinstance(shown, list):  # what gandoctor changed
                        for note in shown:
                            table.add_row("  note", str(note))
                    else:
                        table.add_row(f"  {detail}", str(shown))
            else:
                table.add_row(key, str(value))
        Console(highlight=False).print(table)
        if json_out is not None:
            from gandoctor.paths import write_atomically

            write_text(json_out, json.dumps(facts, indent=2), write_atomically)

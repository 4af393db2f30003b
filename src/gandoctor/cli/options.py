"""Options shared by several commands, with their help text."""

from __future__ import annotations

from typing import Annotated

import typer

from gandoctor.enums import LatentDistribution

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
ForwardKwargsOpt = Annotated[
    str | None,
    typer.Option(
        metavar="JSON",
        help="Keyword arguments for every generator call, e.g. '{\"depth\": 3}'.",
    ),
]
LabelFormatOpt = Annotated[
    str,
    typer.Option(
        metavar="index|onehot",
        help="How labels go into a conditional generator (--num-classes): class indices, "
        "or one-hot vectors (BigGAN's class_label).",
    ),
]
OutputIndexOpt = Annotated[
    str | None,
    typer.Option(
        metavar="N|KEY", help="Take this item of a tuple, list or dict the generator returns."
    ),
]
AdapterOpt = Annotated[
    str | None,
    typer.Option(
        metavar="FILE.py|MODULE",
        help="Adapter whose build(state, **arch_kwargs) returns the generator (README).",
    ),
]
DiscCheckpointOpt = Annotated[
    str | None,
    typer.Option(
        metavar="PATH",
        help="The checkpoint's own discriminator, saved in a file of its own (--own-d).",
    ),
]
DiscOpt = Annotated[
    str | None,
    typer.Option(
        metavar="MODULE:CLASS",
        help="The own D's architecture, for a layout not recognised (as --arch for G).",
    ),
]
DiscKwargsOpt = Annotated[
    str | None,
    typer.Option(metavar="JSON", help="Keyword arguments for --disc, as a JSON object."),
]
TruncationOpt = Annotated[
    float,
    typer.Option(
        metavar="PSI",
        help="StyleGAN truncation psi (1 = none, the generator as trained).",
    ),
]
JsonOpt = Annotated[
    str | None, typer.Option("--json", help="Write the JSON report to PATH, or to stdout with -.")
]

"""Options of ``gandoctor probe`` that a ``[tool.gandoctor]`` table can also set, and the
CI outputs (``--markdown``, ``--baseline``).

Their command-line default is None, meaning "not given", so that the file's value applies
(gandoctor.cli.project_config); the real default is named in the help text instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gandoctor.cli.project_config import default_help as _default

StepsOpt = Annotated[
    int | None, typer.Option(help="Maximum discriminator steps." + _default("steps"))
]
BatchOpt = Annotated[
    int | None,
    typer.Option(help="Batch size of real and of fake samples." + _default("batch_size")),
]
SeedOpt = Annotated[
    int | None, typer.Option(help="Seed of the split, D's weights and all z." + _default("seed"))
]
ProbeDeviceOpt = Annotated[
    str | None,
    typer.Option(help="torch device: auto, cpu, cuda, cuda:1, mps." + _default("device")),
]
PrecisionOpt = Annotated[
    str | None,
    typer.Option(
        help="fp32, or bf16 autocast for D's steps and the measurements (about 2x faster "
        "where the hardware has bf16; figures within a few percent)." + _default("precision")
    ),
]
TrainModeOpt = Annotated[
    bool | None,
    typer.Option(
        help="Keep the generator in train mode (BatchNorm batch statistics)."
        + _default("train_mode")
    ),
]
EarlyStopOpt = Annotated[
    bool | None,
    typer.Option(help="Stop once the verdict cannot improve any more." + _default("early_stop")),
]
MaxImagesOpt = Annotated[
    int | None, typer.Option(help="Use at most this many real images." + _default("max_images"))
]
GradBatchesOpt = Annotated[
    int | None,
    typer.Option(help="Fixed latent batches per gradient measurement." + _default("grad_batches")),
]
DiscWidthOpt = Annotated[
    int | None, typer.Option(help="Base channel width of the probe D (default: sized).")
]
MaxSecondsOpt = Annotated[
    float | None,
    typer.Option(
        help="Time budget of the whole run, in seconds: the probe stops in time and marks "
        "its verdict partial; several checkpoints share it equally. (default: none)"
    ),
]
PlanOpt = Annotated[
    str | None,
    typer.Option(
        help="auto: time G and D first and, where the full protocol would not fit "
        "--max-seconds (on a CPU, else a minute), run a planned one (fewer latents for the "
        "gradients, reused fakes, then fewer measurements; stated in the report); full: "
        "the protocol whatever it costs; 1-5: that plan level." + _default("plan")
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        help="CPU threads for torch (default: auto: the CPUs this process may use, less "
        "those busy with other work)."
    ),
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        help="What makes the exit code 1, comma-separated: a severity (fail = every "
        "fail-severity finding; warn = warnings too; info), a finding code at any severity "
        "(saturation,vanishing), CODE:SEVERITY (saturation:fail), or none. (default: fail)"
    ),
]
MarkdownOpt = Annotated[
    str | None,
    typer.Option(
        help='Write the report as GitHub Markdown to PATH (a PR comment, or "$GITHUB_STEP_SUMMARY"'
        " for a job summary), or to stdout with -."
    ),
]
BaselineOpt = Annotated[
    Path | None,
    typer.Option(
        help="An earlier JSON report: exit 1 when the training signal regressed against it "
        "(tolerances: regression_* thresholds)."
    ),
]

"""The comparison of several checkpoints: names that tell them apart, and the trend."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.report.views import short_names


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["r/dcgan_epoch0.safetensors", "r/dcgan_epoch10.safetensors"], ["epoch0", "epoch10"]),
        (["ckpt-0010.pth", "ckpt-0020.pth"], ["0010", "0020"]),
        (["g.pt", "d.safetensors"], ["g.pt", "d.safetensors"]),  # nothing shared
        (["run1/g.pt", "run2/g.pt"], ["run1/g.pt", "run2/g.pt"]),  # same file name
        (["only.pt"], ["only.pt"]),
    ],
)
def test_short_names_drop_what_all_share_without_splitting_words(paths, expected):
    report = SimpleNamespace(checkpoints=[SimpleNamespace(checkpoint=p) for p in paths])
    assert short_names(report) == expected  # type: ignore[arg-type]


def test_comparison_names_every_checkpoint_and_the_trend_even_at_80_columns():
    checkpoints = [f"examples/dcgan_digits_epoch{n}.safetensors" for n in (0, 25)]
    options = ["--data", "examples/digits", "--steps", "5", "--quiet", "--fail-on", "none"]
    result = CliRunner().invoke(app, ["probe", *checkpoints, *options], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│ epoch")]
    assert [row.split()[1] for row in rows] == ["epoch0", "epoch25"] * 2  # both tables
    assert "from epoch0 to epoch25:" in result.output

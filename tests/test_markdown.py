"""``--markdown``: the report as GitHub Markdown, with the same facts as the terminal table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import _digits, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.report.markdown import escape, render_markdown
from gandoctor.report.rows import ROWS

FORCED = Thresholds(saturation_accuracy=0, saturation_fake_prob=1)  # saturated from step 0


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row; escaped pipes stay inside their cell."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_escape_keeps_text_literal() -> None:
    assert escape("g|v_1*.pt") == r"g\|v\_1\*.pt"
    assert escape("a\nb   c") == "a b c"
    assert escape("<script> [x](y) `z` ~~s~~") == r"\<script> \[x\](y) \`z\` \~\~s\~\~"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> gandoctor.Report:
    """An untrained 16x16 DCGAN saved under a name with Markdown characters in it."""
    folder = tmp_path_factory.mktemp("md")
    path = folder / "g|v_1.safetensors"
    save_file(untrained_dcgan().state_dict(), str(path))
    config = ProbeConfig(steps=3, thresholds=FORCED)
    return gandoctor.probe(path, _digits(16)[:300], config=config, fail_on="saturation")


def test_markdown_holds_the_table_findings_and_gate(report: gandoctor.Report) -> None:
    text = render_markdown(report)
    lines = text.splitlines()
    (c,) = report.checkpoints
    assert lines[0] == f"## gandoctor: ❌ {c.verdict} (gate fails, exit 1)"
    table = [line for line in lines if line.startswith("|")]
    header = cells(table[0])
    assert header == ["figure (held-out; final = last tenth of the run)", r"g\|v\_1.safetensors"]
    assert all(len(cells(row)) == 2 for row in table)  # the name's pipe did not add a column
    rows = {cells(row)[0]: cells(row)[1] for row in table[2:]}
    assert len(rows) == len(ROWS) + 1  # every figure of the terminal table, and the verdict
    assert rows["D steps run"] == "3"
    assert rows["steps to saturation"] == "0"
    assert rows["verdict"] == f"**{c.verdict}**"
    for f in c.outcome.findings:
        line = next(x for x in lines if x.startswith("- ") and f"**{f.code}** ({f.severity})" in x)
        assert escape(f.message) in line
        assert lines[lines.index(line) + 1] == f"  → {escape(f.remedy)}"
    assert "**Gate** (`--fail-on saturation`): fails on saturation (exit 1)" in lines
    assert "Partial verdict" not in text  # the probe ran all its steps
    assert text.endswith("\n")


def test_partial_probe_is_flagged() -> None:
    g = untrained_dcgan()
    config = ProbeConfig(steps=100_000, max_seconds=0.5, early_stop=False)
    report = gandoctor.probe(g, _digits(16)[:300], config=config)
    text = render_markdown(report)
    assert "> [!WARNING]\n> Partial verdict:" in text
    assert "the time budget (--max-seconds) ran out" in text
    assert "*(partial: the verdict may change with more steps)*" in text


runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    save_file(untrained_dcgan().state_dict(), str(folder / "g.safetensors"))
    write_pngs(folder / "imgs", _digits(16)[:300])
    return folder / "g.safetensors", folder / "imgs"


def test_cli_writes_markdown_beside_the_table(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, imgs = inputs
    summary = tmp_path / "step_summary"  # what $GITHUB_STEP_SUMMARY names: a file per step
    summary.write_text("left over\n")
    args = ["probe", str(ckpt), "--data", str(imgs), "--steps", "3", "--fail-on", "none"]
    result = runner.invoke(app, [*args, "--markdown", str(summary)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "held-out accuracy" in result.stdout and "## gandoctor" not in result.stdout
    text = summary.read_text()
    assert text.startswith("## gandoctor: ") and "left over" not in text
    assert "**Gate** (`--fail-on none`): passes (exit 0)" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_summary"]  # atomic: no temp file
    to_stdout = runner.invoke(app, [*args, "--markdown", "-"])
    assert to_stdout.exit_code == 0
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert [line for line in to_stdout.stdout.splitlines() if line.startswith("|")] == table


def test_cli_markdown_and_json_cannot_share_stdout(inputs: tuple[Path, Path]) -> None:
    ckpt, imgs = inputs
    result = runner.invoke(
        app, ["probe", str(ckpt), "--data", str(imgs), "--json", "-", "--markdown", "-"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "gandoctor: error: --json - and --markdown - both want stdout; write one to a file"
    )


def test_cli_max_seconds_gives_a_partial_report(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, imgs = inputs
    out = tmp_path / "r.json"
    result = runner.invoke(
        app,
        ["probe", str(ckpt), "--data", str(imgs), "--steps", "100000", "--no-early-stop",
         "--max-seconds", "1", "--fail-on", "none", "--json", str(out)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["complete"] is False and report["settings"]["max_seconds"] == 1.0
    (c,) = report["checkpoints"]
    steps = c["summary"]["steps_run"]
    assert 0 < steps < 100_000 and c["series"]["step"][-1] == steps
    assert c["probe"]["stop_reason"].endswith("the time budget (--max-seconds) ran out")
    assert "(partial: the verdict may change with more steps)" in result.stdout

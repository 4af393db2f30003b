"""``gandoctor merge``: join the JSON reports of a sharded sweep into one."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gandoctor.cli.app import app
from gandoctor.cli.common import user_errors, write_text
from gandoctor.cli.options import JsonOpt

if TYPE_CHECKING:
    from rich.table import Table


@app.command()
def merge(
    reports: Annotated[list[Path], typer.Argument(help="JSON reports of gandoctor probe.")],
    json_out: JsonOpt = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Gate the merged findings with this --fail-on (default: the "
            "reports' own exit codes)."
        ),
    ] = None,
) -> None:
    """Join the reports of a sweep run in several processes (gandoctor probe --shard) into
    one, with the checkpoints in natural order; exit with the strictest exit code."""
    with user_errors():
        from gandoctor.cli import parsing
        from gandoctor.judge.gate import parse_fail_on
        from gandoctor.report.merge import load_report, merge_reports

        parsing.check_output_path(json_out)
        gate = parse_fail_on(fail_on) if fail_on is not None else None
        loaded = [load_report(p) for p in reports]
        merged = merge_reports(loaded, [str(p) for p in reports], gate)
        text = json.dumps(merged, indent=2)
        if json_out == "-":
            typer.echo(text)
        else:
            from rich.console import Console

            Console(highlight=False).print(_table(merged))
            if json_out is not None:
                from gandoctor.paths import write_atomically

                write_text(json_out, text, write_atomically)
    raise typer.Exit(int(merged["exit_code"]))


def _table(merged: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table(
        title=f"gandoctor merge: {len(merged['merged_from'])} reports",
        caption=f"verdict {merged['verdict']}, exit code {merged['exit_code']}",
        title_justify="left",
    )
    table.add_column("checkpoint", no_wrap=True)
    for header in ("steps", "saturated at", "minimax ∇ lost", "findings", "verdict"):
        table.add_column(header)
    checkpoints = merged["checkpoints"]
    names = [PurePath(str(c["checkpoint"])).name for c in checkpoints]
    if len(set(names)) < len(names):  # file names repeat: show the paths
        names = [str(c["checkpoint"]) for c in checkpoints]
    for name, c in zip(names, checkpoints, strict=True):
        summary = c.get("summary") or {}
        lost = summary.get("minimax_decades_lost")
        findings = ", ".join(f"{f['code']}:{f['severity']}" for f in c.get("findings", []))
        table.add_row(
            name,
            str(summary.get("steps_run", 0)),
            str(summary.get("steps_to_saturation") or "-"),
            "—" if lost is None else f"{lost:.2f}",
            findings or "none",
            str(c["verdict"]),
        )
    return table

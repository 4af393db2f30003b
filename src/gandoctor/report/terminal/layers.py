"""Rich tables of the per-layer gradient norms (``gandoctor probe --layers``)."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from gandoctor.report.model import Report
from gandoctor.report.views import number
from gandoctor.results.layers import LayerGradients


def _sci(value: float) -> str:
    return number(value, ".1e")


def _dec(value: float) -> str:
    return number(value, ".2f")


HEADERS = ("minimax ∇\nstart", "\npeak", "\nend", "decades\nlost",
           "-log D ∇\nstart", "\nend", "decades\ngained")  # fmt: skip


def layers_table(layers: LayerGradients, title: str) -> Table:
    """One row per generator layer: both costs' gradient norms at the start, the minimax
    peak and the end, and the decades between them (as in the global figures). Parameter
    counts and the per-measurement series are in the JSON report."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("\nlayer", style="bold", no_wrap=True)
    table.add_column("\ntype", no_wrap=True)
    for header in HEADERS:
        table.add_column(header, justify="right", no_wrap=True)
    for layer in layers.layers:
        # A dead layer has no ratio to show: its decades columns say so instead.
        dead = Text("dead", style="bold red")
        table.add_row(
            layer.name,
            layer.kind,
            _sci(layer.minimax_start),
            _sci(layer.minimax_peak),
            _sci(layer.minimax_end),
            dead if layer.dead else _dec(layer.minimax_decades_lost),
            _sci(layer.nonsat_start),
            _sci(layer.nonsat_end),
            dead if layer.dead else _dec(layer.nonsat_decades_gained),
        )
    return table


def layers_tables(report: Report) -> list[Table]:
    """A per-layer table for each checkpoint probed with per-layer figures."""
    many = len(report.checkpoints) > 1
    tables = []
    for c in report.checkpoints:
        layers = c.outcome.layers
        if layers is None:
            continue
        steps = f"steps {layers.steps[0]} / {layers.peak_step} / {layers.steps[-1]}"
        name = f" — {c.checkpoint}" if many else ""
        title = f"gradient norm per generator layer{name} (start / minimax peak / end: {steps})"
        tables.append(layers_table(layers, title))
    return tables

"""The ranking of ``--rank`` (report.ranked): best first, with intervals and tie groups."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.report.model import Report
from gandoctor.report.ranked import RANKING_HEADER, ranking_lines, ranking_rows


def ranking_block(report: Report) -> list[RenderableType]:
    if report.ranking is None:
        return []
    table = Table(title="gandoctor probe: ranking (lower held-out accuracy is better)",
                  title_justify="left")  # fmt: skip
    for index, name in enumerate(RANKING_HEADER):
        table.add_column(name, justify="left" if index == 1 else "right")
    for row in ranking_rows(report):
        table.add_row(*row)
    return [Group(table, *(Text(line) for line in ranking_lines(report)))]

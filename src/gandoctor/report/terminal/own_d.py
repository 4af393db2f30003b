"""The checkpoint's own discriminator beside the probe's (``own_discriminator``): one table
per checkpoint that holds a D, the probe D's end figures in one column, the own D's in the
next."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table

from gandoctor.report.model import Report
from gandoctor.report.rows import own_d_rows, own_d_title


def own_d_tables(report: Report) -> list[RenderableType]:
    tables: list[RenderableType] = []
    for c in report.checkpoints:
        own = c.own_discriminator
        if own is None:
            continue
        table = Table(title=own_d_title(c, own), title_justify="left")
        table.add_column("figure", style="bold")
        table.add_column("probe D (fresh, end)", justify="right")
        table.add_column("own D (as saved)", justify="right")
        for row in own_d_rows(c, own):
            table.add_row(*row)
        tables.append(table)
    return tables

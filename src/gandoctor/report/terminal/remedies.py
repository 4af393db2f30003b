"""Rich table of the remedy checks (``gandoctor probe --remedies``)."""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.report.model import Report
from gandoctor.report.views import MISSING, number
from gandoctor.results.remedies import NoiseCheck, RemedyResult


def _fixed(value: float, digits: int = 3) -> str:
    return number(value, f".{digits}f")


def _signal(alive: bool) -> Text:
    return Text("alive", style="green") if alive else Text("lost", style="red")


def _grads(peak: float, end: float) -> str:
    return f"{peak:.1e} / {end:.1e}" if math.isfinite(peak + end) else MISSING


def _noise_row(check: NoiseCheck, recommended: bool) -> list[str | Text]:
    s = check.summary
    if check.share == 0:
        label = Text("none (the probe)")
    else:
        label = Text(f"noise {check.share:g} (σ {check.sigma:.3g})")  # noqa: RUF001
    if recommended:
        label.append(" ← start here", style="bold green")
    return [
        label,
        str(s.steps_run) + ("" if check.complete else " (partial)"),
        MISSING if s.steps_to_saturation is None else str(s.steps_to_saturation),
        _fixed(s.final_accuracy),
        f"JS ≥ {_fixed(s.final_js_lower_bound)}",
        _grads(s.minimax_grad_peak, s.minimax_grad_end),
        _fixed(s.minimax_decades_lost, 2),
        _signal(check.keeps_signal),
    ]


def remedies_table(result: RemedyResult, title: str) -> RenderableType:
    """One row per remedy run: the probe itself, each noise level (sigma as a share of the
    data range, and its value), the WGAN-GP critic; then the annealing recommendation. Start
    values and the series are in the JSON. Signal "alive": D not saturated and the
    gradient not vanishing."""
    table = Table(title=title, title_justify="left")
    table.add_column("remedy", style="bold", no_wrap=True)
    table.add_column("steps", justify="right", no_wrap=True)
    table.add_column("sat. at", justify="right", no_wrap=True)
    table.add_column("acc.", justify="right", no_wrap=True)
    table.add_column("JS / W1", justify="right", no_wrap=True)
    table.add_column("∇ peak / final", justify="right", no_wrap=True)
    table.add_column("∇ lost", justify="right", no_wrap=True)
    table.add_column("signal", no_wrap=True)
    table.add_row(*_noise_row(result.baseline, False))
    for check in result.noise:
        table.add_row(*_noise_row(check, check is result.recommended))
    c = result.critic
    if c is not None:
        table.add_row(
            "WGAN-GP critic",
            str(c.steps_run),
            MISSING,
            MISSING,
            f"W1 ≈ {c.w1_estimate:.3g}",
            _grads(c.grad_peak, c.grad_end),
            _fixed(c.decades_lost, 2),
            _signal(not result.critic_vanishes),
        )
    note = Text(
        "  noise: the probe with N(0, σ²) added to D's real and fake inputs "
        "(σ as a share of the data range); "  # noqa: RUF001
        "its JS bound is on the noised distributions, ∇ the minimax one. Critic: "
        "W1 = held-out gap E[C(x)] - E[C(G(z))] over C's slope, ∇ of -E[C(G(z))].",
        style="dim",
    )
    advice = Text("  instance noise: ", style="bold")
    advice.append(result.recommendation)
    return Group(table, note, advice)


def remedies_tables(report: Report) -> list[RenderableType]:
    """A remedies table for each checkpoint probed with ``--remedies``."""
    many = len(report.checkpoints) > 1
    single = "remedies (same seed, split and held-out data as the probe; ∇ lost in decades)"
    return [
        remedies_table(
            c.remedies, f"remedies: {c.checkpoint} (∇ lost in decades)" if many else single
        )
        for c in report.checkpoints
        if c.remedies is not None
    ]

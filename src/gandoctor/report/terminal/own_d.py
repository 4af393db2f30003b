"""The checkpoint's own discriminator beside the probe's (``own_discriminator``): one table
per checkpoint that holds a D, the probe D's end figures in one column, the own D's in the
next."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table

from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.views import MISSING, number
from gandoctor.results.own_discriminator import OwnDiscriminator, Spread


def _spread(s: Spread, fmt: str = ".2e") -> str:
    return f"{number(s.mean, fmt)} ± {number(s.std, fmt)}"


def own_d_rows(c: CheckpointReport, own: OwnDiscriminator) -> list[tuple[str, str, str]]:
    """(figure, probe D, own D) rows."""
    s = c.outcome.summary

    def probe(name: str, fmt: str) -> str:
        return number(getattr(s, name), fmt) if s is not None else MISSING

    return [
        ("held-out accuracy", probe("final_accuracy", ".3f"), number(own.heldout_accuracy, ".3f")),
        ("mean D(x)", probe("final_d_real", ".3f"), number(own.mean_d_real, ".3f")),
        ("mean D(G(z))", probe("final_d_fake", ".2e"), number(own.mean_d_fake, ".2e")),
        ("JS lower bound (nats)", probe("final_js_lower_bound", ".3f"),
         number(own.js_lower_bound, ".3f")),
        ("minimax ∇ (end; own: ± over latent batches)", probe("minimax_grad_end", ".2e"),
         _spread(own.minimax_grad_norm)),
        ("-log D ∇", probe("nonsat_grad_end", ".2e"), _spread(own.nonsat_grad_norm)),
        ("R1 = E|∇ₓD(x)|² (reals) / R2 (fakes)", MISSING,
         f"{_spread(own.r1)} / {_spread(own.r2)}"),
        ("|∇ₓD| on interpolates (WGAN-GP)", MISSING, _spread(own.gp_norm)),
        ("r_t / r_v", f"{probe('final_overfit_rt', '.2f')} / {probe('final_overfit_rv', '.2f')}",
         f"{number(own.r_t, '.2f')} / {number(own.r_v, '.2f')}"),
        ("ADA augment p / R1 gamma", MISSING,
         f"{number(own.augment_p, '.3f')} / {number(own.r1_gamma, 'g')}"),
    ]  # fmt: skip


def own_d_tables(report: Report) -> list[RenderableType]:
    tables: list[RenderableType] = []
    for c in report.checkpoints:
        own = c.own_discriminator
        if own is None:
            continue
        title = (f"own discriminator of {c.checkpoint}: {own.architecture}, entry {own.source}; "
                 f"{own.loss}; no training, the probe's held-out data")  # fmt: skip
        table = Table(title=title, title_justify="left")
        table.add_column("figure", style="bold")
        table.add_column("probe D (fresh, end)", justify="right")
        table.add_column("own D (as saved)", justify="right")
        for row in own_d_rows(c, own):
            table.add_row(*row)
        tables.append(table)
    return tables

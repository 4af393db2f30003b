"""The figure rows and columns of a report, format-neutral: each is a label and a function
from a checkpoint's report to the text of its cell. The terminal (Rich) and the Markdown
report show the same rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gandoctor.report.model import CheckpointReport
from gandoctor.report.views import MISSING, number
from gandoctor.results.own_discriminator import OwnDiscriminator, Spread

Cell = Callable[[CheckpointReport], str]
"""The text of one checkpoint's cell in a row."""
Row = tuple[str, Cell]


def _sci(value: float | None) -> str:
    return number(value, ".2e")


def _fixed(value: float | None, digits: int = 3) -> str:
    return number(value, f".{digits}f")


def _steps_or(value: int | None, missing: str) -> str:
    return missing if value is None else str(value)


def _summary(c: CheckpointReport) -> dict[str, Any]:
    return c.outcome.summary.to_dict() if c.outcome.summary else {}


def _decades(value: float | None) -> str:
    return "all" if value == float("inf") else _fixed(value, 2)


def _growth(c: CheckpointReport) -> str:
    """The -log D growth after the minimax peak, marked where it does not count (no
    minimax decline: judge.summarise)."""
    s = _summary(c)
    text = _fixed(s.get("nonsat_growth_after_peak"), 2)
    return text if s.get("minimax_declined", True) else f"{text} (not counted)"


def _collapse(spec: str, *names: str, suffix: str = "") -> Cell:
    """Figures of the checkpoint's CollapseStats, or MISSING where it was not measured."""

    def cell(c: CheckpointReport) -> str:
        stats = c.outcome.collapse
        if stats is None:
            return MISSING
        return " / ".join(number(getattr(stats, name), spec, suffix) for name in names)

    return cell


def _overfit(*names: str) -> Cell:
    def cell(c: CheckpointReport) -> str:
        s = c.outcome.summary
        return " / ".join(number(getattr(s, n), ".2f") if s else MISSING for n in names)

    return cell


SAMPLE_ROWS: list[Row] = [
    ("sample diversity (generated / real)", _collapse(".2f", "diversity_ratio")),
    (
        "near-duplicate pairs (generated / real)",
        _collapse(".1%", "duplicate_rate", "real_duplicate_rate"),
    ),
    ("precision / coverage (k-NN, k = 5)", _collapse(".3f", "precision", "coverage")),
    ("D overfitting r_t / r_v", _overfit("final_overfit_rt", "final_overfit_rv")),
]
"""Rows of the single-checkpoint table."""

SAMPLE_COLUMNS: list[Row] = [
    ("diversity", _collapse(".2f", "diversity_ratio")),
    ("dups", _collapse(".1f", "duplicate_ratio", suffix="x")),  # times the real rate
    ("coverage", _collapse(".2f", "coverage")),
    ("r_v", _overfit("final_overfit_rv")),
]
"""Columns of the comparison table."""


def _architecture(c: CheckpointReport) -> str:
    """The architecture, and where it came from in the file: the entry of a multi-model
    checkpoint, the stripped key prefix, a StyleGAN snapshot's ADA augment p."""
    g = c.generator
    parts = [str(g.get("architecture", "?"))]
    if g.get("key"):
        parts.append(f"entry {g['key']}")
    if g.get("stripped_prefix"):
        parts.append(f"prefix {g['stripped_prefix']!r} stripped")
    details = g.get("details") or {}
    if details.get("augment_p") is not None:
        parts.append(f"ADA p {details['augment_p']:.3f}")
    if details.get("truncation_psi", 1) != 1:
        parts.append(f"truncation psi {details['truncation_psi']:g}")
    return ", ".join(parts)


ROWS: list[Row] = [
    ("architecture", _architecture),
    (
        "latent → output",
        lambda c: f"{tuple(c.generator['latent_shape'])} → {tuple(c.generator['output_shape'])}",
    ),
    ("parameters", lambda c: f"{c.generator.get('parameters', 0):,}"),
    (
        "real samples (train / held-out)",
        lambda c: f"{c.outcome.train_samples} / {c.outcome.heldout_samples}",
    ),
    ("D steps run", lambda c: str(_summary(c).get("steps_run", 0))),
    (
        "steps to saturation",
        lambda c: _steps_or(_summary(c).get("steps_to_saturation"), "not saturated"),
    ),
    ("held-out accuracy", lambda c: _fixed(_summary(c).get("final_accuracy"))),
    ("mean D(x)", lambda c: _fixed(_summary(c).get("final_d_real"))),
    ("mean D(G(z))", lambda c: _sci(_summary(c).get("final_d_fake"))),
    ("JS lower bound (nats, max log 2)", lambda c: _fixed(_summary(c).get("final_js_lower_bound"))),
    (
        "minimax ∇ start / peak / final",
        lambda c: " / ".join(
            _sci(_summary(c).get(k))
            for k in ("minimax_grad_start", "minimax_grad_peak", "minimax_grad_end")
        ),
    ),
    ("minimax ∇ decades lost", lambda c: _decades(_summary(c).get("minimax_decades_lost"))),
    (
        "-log D ∇ start / final",
        lambda c: " / ".join(
            _sci(_summary(c).get(k)) for k in ("nonsat_grad_start", "nonsat_grad_end")
        ),
    ),
    (
        "-log D ∇ decades gained (total / after peak)",
        lambda c: f"{_fixed(_summary(c).get('nonsat_decades_gained'), 2)} / {_growth(c)}",
    ),
    (
        "-log D ∇ variation (steps / latents)",
        lambda c: " / ".join(
            number(_summary(c).get(k), ".1%") for k in ("nonsat_cv_steps", "nonsat_cv_latent")
        ),
    ),
    *SAMPLE_ROWS,
]


def _plan(c: CheckpointReport) -> str:
    plan = c.outcome.plan
    return "full" if plan is None or not plan.planned else f"planned, level {plan.level}"


PLAN_ROW: Row = ("protocol (full, or planned to fit the time)", _plan)


def figure_rows(checkpoints: list[CheckpointReport]) -> list[Row]:
    """ROWS, with the protocol's row after "D steps run" where any probe was planned (the
    plan itself is stated below the table: report.views.plan_line), and what the run logged
    at each snapshot after them where any checkpoint has a run log."""
    logged = run_log_rows(checkpoints)
    if not any(c.outcome.plan is not None and c.outcome.plan.planned for c in checkpoints):
        return [*ROWS, *logged]
    at = [label for label, _ in ROWS].index("D steps run") + 1
    return [*ROWS[:at], PLAN_ROW, *ROWS[at:], *logged]


def _logged(*names: str, spec: str = ".3f") -> Cell:
    """Figures the run logged at the snapshot (``run_log``), or MISSING."""

    def cell(c: CheckpointReport) -> str:
        log = c.run_log
        return " / ".join(number(log.get(n) if log else None, spec) for n in names)

    return cell


def _logged_at(c: CheckpointReport) -> str:
    """Where in the run's log the figures were read: its kimg or step, and NVlabs' tick."""
    log = c.run_log or {}
    if log.get("kimg") is not None:
        where = f"kimg {log['kimg']:g}"
    elif log.get("step") is not None:
        where = f"step {log['step']}"
    else:
        return MISSING
    return where + (f", tick {log['tick']}" if log.get("tick") is not None else "")


def _logged_fid(c: CheckpointReport) -> str:
    log = c.run_log or {}
    if log.get("fid") is None:
        return MISSING
    return f"{log['fid']:.2f}" + (f" ({log['fid_metric']})" if log.get("fid_metric") else "")


def _agreement(c: CheckpointReport) -> str:
    """A logged d_loss_collapse: whether the probe's fresh D and the own D see it too."""
    agreement = (c.run_log or {}).get("agreement")
    if not agreement:
        return MISSING
    own = {True: "yes", False: "no", None: "not measured"}[agreement.get("own_d")]
    return f"fresh D {'yes' if agreement.get('fresh_d') else 'no'}, own D {own}"


RUN_LOG_ROWS: list[Row] = [
    ("logged by the run at (kimg or step)", _logged_at),
    ("logged D loss / G loss (NVlabs' chance: 2 ln 2 = 1.386)", _logged("d_loss", "g_loss")),
    ("logged r_t / ADA p", _logged("r_t", "augment_p")),
    ("logged R1 penalty", _logged("r1_penalty", spec=".3g")),
    ("logged FID", _logged_fid),
    ("logged D collapse seen by the probe's D too", _agreement),
]
"""Rows of what the run logged at each snapshot (``run_log``), after the measured ones."""

RUN_LOG_COLUMNS: list[Row] = [
    ("logged at", _logged_at),
    ("D loss", _logged("d_loss")),
    ("G loss", _logged("g_loss")),
    ("r_t", _logged("r_t", spec=".2f")),
    ("p", _logged("augment_p")),
    ("R1", _logged("r1_penalty", spec=".3g")),
    ("FID", _logged("fid", spec=".2f")),
]
"""Columns of the comparison table of what the run logged at each snapshot."""


def run_log_rows(checkpoints: list[CheckpointReport]) -> list[Row]:
    """RUN_LOG_ROWS where any checkpoint has a run log, else none."""
    return RUN_LOG_ROWS if any(c.run_log is not None for c in checkpoints) else []


def run_log_columns(checkpoints: list[CheckpointReport]) -> list[Row]:
    """RUN_LOG_COLUMNS where any checkpoint has a run log, else none."""
    return RUN_LOG_COLUMNS if any(c.run_log is not None for c in checkpoints) else []


# Columns of the comparison table: short headers, the same figures as the single table.
COMPARISON: list[Row] = [
    ("steps", lambda c: str(_summary(c).get("steps_run", 0))),
    ("saturated at", lambda c: _steps_or(_summary(c).get("steps_to_saturation"), "-")),
    ("accuracy", lambda c: _fixed(_summary(c).get("final_accuracy"))),
    ("D(G(z))", lambda c: _sci(_summary(c).get("final_d_fake"))),
    ("JS bound", lambda c: _fixed(_summary(c).get("final_js_lower_bound"))),
    ("minimax ∇ lost", lambda c: _decades(_summary(c).get("minimax_decades_lost"))),
    ("-log D ∇ growth", _growth),
]


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
        (f"R1 = E|∇ₓD(x)|² (reals) / R2 (fakes), {own.r1_samples} each", MISSING,
         f"{_spread(own.r1)} / {_spread(own.r2)}"),
        (f"|∇ₓD| on {own.r1_samples} interpolates (WGAN-GP)", MISSING, _spread(own.gp_norm)),
        ("r_t / r_v" + ("" if own.unseen else " (r_v: two splits of the GAN's data)"),
         f"{probe('final_overfit_rt', '.2f')} / {probe('final_overfit_rv', '.2f')}",
         f"{number(own.r_t, '.2f')} / {number(own.r_v, '.2f')}"),
        *([("P(training real > unseen real)", MISSING,
            f"{number(own.unseen_auc, '.3f')} ± {own.unseen_auc_uncertainty:.3f}")]
          if own.unseen_auc is not None else []),
        ("ADA augment p / R1 gamma", MISSING,
         f"{number(own.augment_p, '.3f')} / {number(own.r1_gamma, 'g')}"),
        *([("R1 penalty gamma/2 · R1 (constant D's loss: ln 4 = 1.39)", MISSING,
            number(own.r1_gamma / 2 * own.r1.mean, '.3g'))] if own.r1_gamma else []),
    ]  # fmt: skip


def own_d_title(c: CheckpointReport, own: OwnDiscriminator) -> str:
    unseen = f"; unseen reals: {own.unseen}" if own.unseen else ""
    return (f"own discriminator of {c.checkpoint}: {own.architecture}, entry {own.source}; "
            f"{own.loss}; no training, the probe's held-out data{unseen}")  # fmt: skip

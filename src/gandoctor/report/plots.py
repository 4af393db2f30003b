"""Figures of a report in the layout of Arjovsky & Bottou (2017), Figures 1-3.

matplotlib is an optional extra (``pip install 'gandoctor[plots]'``); it is imported only
when a plot is asked for.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from gandoctor.errors import ConfigError
from gandoctor.paths import atomic_output
from gandoctor.report.model import Report
from gandoctor.results.own_discriminator import OwnDiscriminator

FORMATS = (".png", ".svg", ".pdf")


def check_plot_path(path: str | os.PathLike[str]) -> None:
    """Fail before a long probe when the plot cannot be made or written."""
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        raise ConfigError(f"{{opt:plot}} writes {', '.join(FORMATS)} files, not {target.name}")
    if not target.resolve().parent.is_dir():
        raise ConfigError(f"cannot write the plot to {path}: its folder does not exist")
    _pyplot()


def plot_report(report: Report, path: str | os.PathLike[str]) -> None:
    """Three panels, one curve per checkpoint, against D's training steps: held-out
    accuracy (Figure 1), the minimax gradient norm (Figure 2) and the -log D gradient norm
    (Figure 3), both on a log scale with their spread over the latent batches shaded. The
    checkpoint's own D, measured once and never trained, is a star at the last step, with
    its spread over the latent batches as an error bar. Where the report holds a training
    run's own log (runs.attach), a second row shows it against kimg or the step, with the
    probed snapshots marked."""
    plt = _pyplot()
    fig = _draw(plt, report)
    _save(fig, Path(path))
    plt.close(fig)


def panels_svg(report: Report) -> str | None:
    """The same three panels as an SVG document (for the HTML report), text drawn as
    paths so that it needs no font; None where matplotlib is not installed."""
    try:
        plt = _pyplot()
    except ConfigError:
        return None
    import io

    fig = _draw(plt, report)
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "gandoctor"}):
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()


def _draw(plt: Any, report: Report) -> Any:
    logged = bool(report.run_curves) or any(c.run_log for c in report.checkpoints)
    if logged:  # a second row: what the run logged, on its own axis
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.4), constrained_layout=True)
        (acc_ax, mm_ax, ns_ax), logged_axes = axes
        _run_log_panels(report, logged_axes)
    else:
        fig, (acc_ax, mm_ax, ns_ax) = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    for checkpoint in report.checkpoints:
        series = checkpoint.outcome.series
        if not series.step:
            continue
        name = Path(checkpoint.checkpoint).name
        line = acc_ax.plot(series.step, series.heldout_accuracy, label=name)[0]
        acc_ax.plot(series.step, series.d_fake, color=line.get_color(), linestyle=":")
        for ax, mean, std in (
            (mm_ax, series.minimax_grad_mean, series.minimax_grad_std),
            (ns_ax, series.nonsat_grad_mean, series.nonsat_grad_std),
        ):
            ax.plot(series.step, mean, color=line.get_color(), label=name)
            low = [max(m - s, m * 1e-3) for m, s in zip(mean, std, strict=True)]
            high = [m + s for m, s in zip(mean, std, strict=True)]
            ax.fill_between(series.step, low, high, color=line.get_color(), alpha=0.25)
        if (own := checkpoint.own_discriminator) is not None:
            _own_d_markers((acc_ax, mm_ax, ns_ax), own, series.step[-1], line.get_color())
    acc_ax.set(
        title="Fig. 1: D on held-out data",
        xlabel="discriminator steps",
        ylabel="accuracy (solid), mean D(G(z)) (dotted)",
        ylim=(-0.02, 1.02),
    )
    mm_ax.set(
        title="Fig. 2: minimax cost  E[log(1 - D(G(z)))]",
        xlabel="discriminator steps",
        ylabel="generator gradient norm",
        yscale="log",
    )
    ns_ax.set(
        title="Fig. 3: -log D cost  E[-log D(G(z))]",
        xlabel="discriminator steps",
        ylabel="generator gradient norm",
        yscale="log",
    )
    acc_ax.legend(fontsize="small")
    return fig


def _run_log_panels(report: Report, axes: Any) -> None:
    """The run's own log against kimg (NVlabs) or the step: D and G loss and the R1
    penalty with NVlabs' chance level; r_t and ADA's p with ADA's target and the 0.8 where
    its augmentations start to leak; the logged FID. The probed snapshots are dotted
    vertical lines, their logged values dots (from ``run_log``, so a report read back from
    JSON, which has no curves, still shows them)."""
    loss_ax, ada_ax, fid_ax = axes
    panels = {"d_loss": loss_ax, "g_loss": loss_ax, "r1_penalty": loss_ax, "r_t": ada_ax,
              "augment_p": ada_ax, "fid": fid_ax}  # fmt: skip
    labels = {"d_loss": "D loss", "g_loss": "G loss", "r1_penalty": "R1 penalty",
              "r_t": "r_t", "augment_p": "ADA p", "fid": "FID"}  # fmt: skip
    colors = {name: f"C{i}" for i, name in enumerate(panels)}
    losses: list[float] = []  # the loss panel's values, for its scale
    axis_names: set[str] = set()
    for curves in report.run_curves:
        axis_names.add(curves["axis"])
        prefix = f"{Path(curves['root']).name}: " if len(report.run_curves) > 1 else ""
        drawn = {**curves["series"], "fid": curves["fid"]}
        for name, ax in panels.items():
            line = drawn.get(name)
            if line and line["x"]:
                ax.plot(line["x"], line["y"], color=colors[name], label=prefix + labels[name],
                        marker="o" if name == "fid" else None, markersize=3)  # fmt: skip
                losses += line["y"] if ax is loss_ax else []
        for x in curves["probed"]:
            for ax in axes:
                ax.axvline(x, color="grey", linestyle=":", linewidth=0.8)
        if curves.get("d_loss_chance"):
            loss_ax.axhline(curves["d_loss_chance"], color="grey", linestyle="--",
                            linewidth=0.8, label="chance (2 ln 2)")  # fmt: skip
    for c in report.checkpoints:
        log = c.run_log or {}
        x = log.get("kimg") if log.get("kimg") is not None else log.get("step")
        if x is None:
            continue
        axis_names.add(str(log.get("axis")))
        for name, ax in panels.items():
            y, at = log.get(name), log.get("fid_at") if name == "fid" else x
            if y is not None and at is not None:
                ax.plot([at], [y], "o", color=colors[name], markeredgecolor="black")
                losses += [y] if ax is loss_ax else []
    ada_ax.axhline(0.6, color="grey", linestyle="--", linewidth=0.8, label="ADA target 0.6")
    ada_ax.axhline(0.8, color="red", linestyle=":", linewidth=0.8, label="p leaks above ~0.8")
    xlabel = " / ".join(sorted(axis_names)) or "kimg"
    # A log scale shows a D loss falling toward 0 (it leaves out zeros, an R1 penalty not
    # yet applied); a loss of the user's own that goes negative (a WGAN critic's) keeps a
    # linear one.
    finite = [y for y in losses if math.isfinite(y)]
    scale = "log" if finite and min(finite) >= 0 and max(finite) > 0 else "linear"
    loss_ax.set(title="the run's own log: losses", xlabel=xlabel, ylabel="logged value",
                yscale=scale)  # fmt: skip
    ada_ax.set(title="the run's own log: ADA", xlabel=xlabel, ylabel="r_t, p")
    fid_ax.set(title="the run's own log: FID", xlabel=xlabel, ylabel="FID")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")


def _own_d_markers(axes: tuple[Any, Any, Any], own: OwnDiscriminator, step: int, color: str
                   ) -> None:  # fmt: skip
    acc_ax, mm_ax, ns_ax = axes
    style = {"marker": "*", "markersize": 12, "color": color, "linestyle": "none"}
    acc_ax.plot([step], [own.heldout_accuracy], **style, label="own D (as saved)")
    acc_ax.plot([step], [own.mean_d_fake], **{**style, "markerfacecolor": "none"})
    for ax, spread in ((mm_ax, own.minimax_grad_norm), (ns_ax, own.nonsat_grad_norm)):
        # A log axis: the lower bar stops short of zero.
        below = min(spread.std, spread.mean * (1 - 1e-3))
        ax.errorbar([step], [spread.mean], yerr=[[below], [spread.std]], capsize=3, **style)


def _save(fig: Any, target: Path) -> None:
    with atomic_output(target) as tmp:
        # The temporary file's name ends in .tmp: the format comes from the target's suffix.
        fig.savefig(tmp, dpi=120, format=target.suffix.lstrip(".").lower() or "png")


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("{opt:plot} needs matplotlib: pip install 'gandoctor[plots]'") from None
    return plt

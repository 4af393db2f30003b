"""The report as one self-contained HTML page (``--html FILE``): nothing is loaded from the
network, so it opens offline, as a CI artifact, or attached to an issue.

It shows what a GAN researcher looks at first, the samples, beside what gandoctor measured:
the verdict and findings with their margins, the figures (report.rows, as in the terminal
and the Markdown), the three panels of Arjovsky & Bottou's Figures 1-3 as inline SVG, the
generated and held-out real sample grids as inline PNG at the data's resolution, and the
own D's table. For several checkpoints (a run's snapshots) the samples are one row per
checkpoint, so a run can be watched. All text from files and messages is escaped.
"""

from __future__ import annotations

import base64
from html import escape

import numpy as np

from gandoctor.enums import Verdict
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.pictures import checkpoint_grids, png_bytes
from gandoctor.report.ranked import RANKING_HEADER, ranking_lines, ranking_rows
from gandoctor.report.rows import figure_rows, own_d_rows, own_d_title
from gandoctor.report.views import (
    NO_FINDINGS,
    PARTIAL,
    findings_view,
    gate_outcome,
    run_lines,
    short_names,
)
from gandoctor.results.outcome import Finding

MIN_SHOWN_PIXELS = 256
"""Grids narrower than this are shown scaled up by a whole factor, pixels kept sharp
(``image-rendering: pixelated``): an 8 x 8 grid of 32 px digits is 270 px wide, legible;
one of 8 px images would not be. Larger grids are shown 1:1."""

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
.verdict { font-weight: 700; padding: .1rem .5rem; border-radius: .3rem; color: #fff; }
.healthy { background: #1a7f37; } .warning { background: #9a6700; }
.failing { background: #cf222e; } .broken { background: #6e40c9; }
.fail { color: #cf222e; } .warn { color: #9a6700; } .info { color: #57606a; }
.margin, .note { color: #57606a; font-size: .9em; }
.grids { display: flex; gap: 1.5rem; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: .9em; color: #57606a; }
.scroll { overflow-x: auto; }
img.grid { image-rendering: pixelated; display: block; }
svg { max-width: 100%; height: auto; }
"""


def render_html(report: Report, panels_svg: str | None = None) -> str:
    """The whole page. ``panels_svg``: Figures 1-3 as an SVG document (report.plots), or
    None where matplotlib is not installed (the page then says so)."""
    title = f"gandoctor: {report.verdict}"
    body = [
        f"<h1>gandoctor: {_verdict(report.verdict)}</h1>",
        f"<p>Gate (<code>--fail-on {escape(str(report.fail_on))}</code>): "
        f"{escape(gate_outcome(report))}.</p>",
    ]
    if not report.complete:
        body.append(f"<p class='warn'>Partial verdict: {escape(PARTIAL)}.</p>")
    body += [f"<p class='note'>{escape(line)}</p>" for line in run_lines(report)]
    # The samples first: a GAN is judged by its samples before its figures.
    body += ["<h2>Samples</h2>", _samples(report)]
    body += ["<h2>Findings</h2>", *(_findings(c, report) for c in report.checkpoints)]
    body += ["<h2>Figures</h2>", _figures(report)]
    if report.ranking is not None:
        lines = "".join(f"<p>{escape(line)}</p>" for line in ranking_lines(report))
        body += ["<h2>Ranking</h2>", _table(RANKING_HEADER, ranking_rows(report)) + lines]
    body += ["<h2>Figures 1-3: the fresh D's training</h2>", _panels(panels_svg)]
    own = [c for c in report.checkpoints if c.own_discriminator is not None]
    if own:
        body += ["<h2>The checkpoint's own D</h2>", *(_own_d(c) for c in own)]
    footer = f"gandoctor {report.version}"
    if report.config_file:
        footer += f"; settings from [tool.gandoctor] in {report.config_file}"
    body.append(f"<footer class='note'><p>{escape(footer)}</p></footer>")
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _verdict(verdict: Verdict) -> str:
    return f"<span class='verdict {escape(str(verdict))}'>{escape(str(verdict))}</span>"


def _findings(c: CheckpointReport, report: Report) -> str:
    view = findings_view(c, with_name=len(report.checkpoints) > 1)
    head = f"<strong>{escape(view.name)}</strong>: " if view.name is not None else ""
    head += f"{_verdict(view.verdict)} {escape(view.stopped)}"
    if not view.complete:
        head += f" <em>({escape(PARTIAL)})</em>"
    items = [
        f"<li><span class='{escape(str(line.severity))}'><strong>{escape(str(line.code))}"
        f"</strong> ({escape(str(line.severity))})</span>: {escape(line.message)}"
        + _margin(finding)
        + (f"<br><em class='warn'>{escape(line.borderline)}</em>" if line.borderline else "")
        + f"<br>&rarr; {escape(line.remedy)}</li>"
        for line, finding in zip(view.findings, c.outcome.findings, strict=True)
    ]
    if not items:
        items.append(f"<li>{escape(NO_FINDINGS)}</li>")
    items += [f"<li class='note'>{escape(note)}</li>" for note in view.notes]
    return f"<p>{head}</p>\n<ul>\n" + "\n".join(items) + "\n</ul>"


def _margin(finding: Finding) -> str:
    """What decided the finding: its figure against the threshold, with the figure's own
    uncertainty (results.outcome.Margin)."""
    m = finding.margin
    if m is None:
        return ""
    return (
        f"<br><span class='margin'>margin: {escape(m.figure)} = {m.value:.4g} against "
        f"threshold {m.threshold:.4g}, uncertain by &plusmn;{m.uncertainty:.2g}</span>"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = ["".join(f"<td>{escape(cell)}</td>" for cell in row) for row in rows]
    return (
        f"<div class='scroll'><table>\n<tr>{head}</tr>\n"
        + "\n".join(f"<tr>{line}</tr>" for line in lines)
        + "\n</table></div>"
    )


def _figures(report: Report) -> str:
    header = ["figure (held-out; final = last tenth of the run)", *short_names(report)]
    rows = [
        [label, *(cell(c) for c in report.checkpoints)]
        for label, cell in figure_rows(report.checkpoints)
    ]
    rows.append(["verdict", *(str(c.verdict) for c in report.checkpoints)])
    return _table(header, rows)


def _samples(report: Report) -> str:
    """One checkpoint: its samples beside held-out real ones. Several: the real samples
    once, then a row per checkpoint in report order."""
    grids = [checkpoint_grids(c) for c in report.checkpoints]
    shown = [(c, g) for c, g in zip(report.checkpoints, grids, strict=True) if g]
    if not shown:
        return "<p class='note'>The samples are not images (vectors): no grid to show.</p>"
    first, first_grids = shown[0]
    samples = first.outcome.samples
    assert samples is not None  # it has grids
    real = _image(first_grids["real"], "held-out real samples")
    if len(report.checkpoints) == 1:
        generated = _image(first_grids["generated"], "generated samples")
        return (
            "<div class='grids'>"
            + _figure(generated, f"{samples.count} generated samples (held-out latents)")
            + _figure(real, f"{len(samples.real)} held-out real samples")
            + "</div>"
        )
    names = short_names(report)
    rows = [_figure(real, "held-out real samples")]
    for name, (c, g) in zip(names, zip(report.checkpoints, grids, strict=True), strict=True):
        if not g:
            rows.append(f"<p class='note'>{escape(name)}: the samples are not images</p>")
            continue
        caption = f"{name}: {c.verdict}"
        rows.append(_figure(_image(g["generated"], f"samples of {name}"), caption))
    return "<div class='grids'>" + "\n".join(rows) + "</div>"


def _figure(content: str, caption: str) -> str:
    return f"<figure>{content}<figcaption>{escape(caption)}</figcaption></figure>"


def _image(image: np.ndarray, alt: str) -> str:
    height, width = image.shape[:2]
    scale = max(1, -(-MIN_SHOWN_PIXELS // width))
    data = base64.b64encode(png_bytes(image)).decode("ascii")
    return (
        f"<div class='scroll'><img class='grid' alt='{escape(alt)}' width='{width * scale}' "
        f"height='{height * scale}' src='data:image/png;base64,{data}'></div>"
    )


def _panels(svg: str | None) -> str:
    if svg is None:
        return (
            "<p class='note'>The panels need matplotlib: "
            "<code>pip install 'gandoctor[plots]'</code>.</p>"
        )
    start = svg.find("<svg")  # inline: without the XML declaration and DOCTYPE
    return f"<div class='scroll'>{svg[start:]}</div>"


def _own_d(c: CheckpointReport) -> str:
    own = c.own_discriminator
    assert own is not None
    rows = [list(row) for row in own_d_rows(c, own)]
    return f"<p><strong>{escape(own_d_title(c, own))}</strong></p>" + _table(
        ["figure", "probe D (fresh, end)", "own D (as saved)"], rows
    )

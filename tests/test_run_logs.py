"""A training run's own logs beside the probe's figures (runs.logs, runs.tensorboard,
runs.attach, judge.run_log): what is read at each snapshot, the run-log findings at and
around their thresholds, and the report's rows, JSON and plot.

The logs are made in NVlabs' and Lightning's formats by tests/runs_made.py."""

from __future__ import annotations

import builtins
import math
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import _digits, untrained_dcgan
from runs_made import (
    KIMG_PER_TICK,
    stats_line,
    tick_kimg,
    write_events,
    write_lightning_checkpoints,
    write_metric,
    write_options,
    write_snapshots,
    write_stats,
)

import gandoctor
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import CheckpointError
from gandoctor.judge.run_log import Logged, LoggedAt, collapse_agreement, logged_findings
from gandoctor.report.markdown import render_markdown
from gandoctor.report.rows import RUN_LOG_ROWS, figure_rows
from gandoctor.results.outcome import Finding, Margin
from gandoctor.runs.attach import attach_run_logs, read_run_log
from gandoctor.runs.folders import find_run
from gandoctor.runs.nvlabs_logs import read_nvlabs
from gandoctor.runs.tensorboard import choose_tags, read_tensorboard

T = Thresholds()
CODES = {FindingCode.D_LOSS_COLLAPSE, FindingCode.AUGMENT_CEILING, FindingCode.FID_REGRESSED}


def d_loss_at(tick: int) -> float:
    return 1.3 - 0.004 * tick  # a different value at every tick


def healthy_lines(ticks: int = 101, **overrides: float) -> list[dict]:
    """A run whose D loss drifts down from chance, r_t near ADA's target, p rising slowly."""
    return [
        stats_line(t, tick_kimg(t), d_loss=d_loss_at(t), r_t=0.55 + 0.0005 * t,
                   p=0.002 * t, g_loss=1.0 + 0.01 * t, r1=None if t == 50 else 0.01 * t,
                   **overrides)
        for t in range(ticks)
    ]  # fmt: skip


def nvlabs_run(tmp_path: Path, lines: list[dict], fids=(), ada: bool = True, cut: bool = False):
    run = tmp_path / "00012-digits-auto1"
    run.mkdir(parents=True)
    write_options(run, ada=ada)
    # Snapshots every 50 ticks, as network_snapshot_ticks = 50: kimg 0, 200, 400.
    write_snapshots(run, [tick_kimg(t) for t in range(0, len(lines), 50)])
    write_stats(run, lines, cut_last=cut)
    if fids:
        write_metric(run, fids)
    found = find_run(run)
    assert found is not None and found.kind == "nvlabs"
    return found


# --- reading ---------------------------------------------------------------------------


def test_around_reads_the_tick_that_wrote_the_snapshot_and_its_fid(tmp_path: Path) -> None:
    run = nvlabs_run(tmp_path, healthy_lines(), fids=[(0.032, 80.0), (200.032, 41.5)])
    log = read_run_log(run)
    assert log is not None and log.axis == "kimg" and log.notes == ()
    first, middle, last = run.snapshots
    assert [s.kimg for s in run.snapshots] == [0, 200, 400]
    at = log.around(middle)
    # Tick 50 ended at kimg 200.032 and wrote network-snapshot-000200.pkl.
    assert at["kimg"] == pytest.approx(200.032) and at["tick"] == 50
    assert at["d_loss"] == pytest.approx(d_loss_at(50))
    assert at["g_loss"] == pytest.approx(1.5) and at["r_t"] == pytest.approx(0.575)
    assert at["augment_p"] == pytest.approx(0.1)
    assert at["r1_penalty"] is None  # tick 50 reported no R1 scalars: NaN, read as missing
    assert at["fid"] == 41.5 and at["fid_metric"] == "fid50k_full" and at["fid_at"] == 200
    assert log.around(first)["tick"] == 0 and log.around(first)["fid"] == 80.0
    assert log.around(last)["tick"] == 100 and log.around(last)["fid"] is None  # not evaluated
    assert log.around(last)["r1_penalty"] == pytest.approx(1.0)


def test_a_cut_last_line_is_skipped_with_a_note(tmp_path: Path) -> None:
    run = nvlabs_run(tmp_path, healthy_lines(), cut=True)
    log = read_run_log(run)
    assert log is not None
    assert len(log.series["d_loss"].position) == 100  # ticks 0-99; tick 100 was cut
    (note,) = log.notes
    assert "stats.jsonl" in note and "line 101" in note and "cut short" in note
    at = log.around(run.snapshots[-1])  # snapshot 400 was written at the cut tick
    assert at["tick"] == 99 and at["d_loss"] == pytest.approx(d_loss_at(99))


def test_broken_middle_lines_and_missing_keys_are_skipped_or_missing(tmp_path: Path) -> None:
    lines = healthy_lines(ticks=4)
    del lines[2]["Loss/signs/real"]
    run = nvlabs_run(tmp_path, lines)
    text = (Path(run.root) / "stats.jsonl").read_text().splitlines()
    text.insert(1, '{"Progress/kimg": ')
    text.insert(3, "[1, 2]")
    (Path(run.root) / "stats.jsonl").write_text("\n".join(text) + "\n")
    log = read_nvlabs(run.root)
    assert log.notes == ("stats.jsonl: 2 line(s) not a JSON object (line 2 and more); skipped",)
    r_t = log.series["r_t"].readings
    assert len(r_t) == 4 and math.isnan(r_t[2].mean) and r_t[3].num == 4000


# --- the findings, on the log and at their thresholds ----------------------------------


def collapsing_lines(d_loss: float = 0.05, r_t: float = 0.95, p: float = 0.85) -> list[dict]:
    """Healthy up to tick 40, then D wins: its loss falls, r_t rises, ADA's p climbs to
    its ceiling; at the snapshot's tick (50) the given values."""
    lines = healthy_lines()
    for t in range(41, 101):
        lines[t] = stats_line(t, tick_kimg(t), d_loss=d_loss, r_t=r_t, p=p)
    return lines


def codes(run, snapshot_index: int = 1) -> set[FindingCode]:
    log = read_run_log(run)
    at = log.logged_at(run.snapshots[snapshot_index])
    return {f.code for f in logged_findings(at, T)}


def test_d_loss_collapse_fires_on_a_collapsed_run_and_not_on_a_healthy_one(tmp_path) -> None:
    assert codes(nvlabs_run(tmp_path / "a", collapsing_lines())) == {
        FindingCode.D_LOSS_COLLAPSE, FindingCode.AUGMENT_CEILING}  # fmt: skip
    assert codes(nvlabs_run(tmp_path / "b", healthy_lines())) == set()
    run = nvlabs_run(tmp_path / "c", collapsing_lines())
    (collapse, _) = logged_findings(read_run_log(run).logged_at(run.snapshots[1]), T)
    assert collapse.severity == Severity.WARN
    assert "D loss of 0.050" in collapse.message and "r_t = 0.95" in collapse.message
    # The margin is the least secure condition: p is exact (no uncertainty), the D loss
    # 15 half-widths (1.96 * 0.3 / sqrt(4000)) below its threshold, r_t 5 above its own.
    assert collapse.margin.figure == "logged_r_t"
    assert collapse.margin.uncertainty == pytest.approx(1.96 * math.sqrt(1 - 0.95**2) / 63.246,
                                                        rel=1e-3)  # fmt: skip


def at_snapshot(d_loss=0.05, r_t=0.95, p=(0.85,) * 12, ada=True, fids=()) -> LoggedAt:
    return LoggedAt("kimg 200", Logged(d_loss, 0.0, 4000), Logged(r_t, 0.0, 4000), tuple(p),
                    tuple(fids), "fid50k_full", 2 * math.log(2), ada)  # fmt: skip


def found(at: LoggedAt) -> set[FindingCode]:
    return {f.code for f in logged_findings(at, T)}


def test_the_d_loss_threshold_is_2_ln_1_1_against_chance_2_ln_2() -> None:
    assert T.logged_d_loss_collapse == pytest.approx(2 * math.log(1.1), abs=5e-4)
    # At logits +-ln 10 the per-sample loss is softplus(-ln 10) twice: the threshold.
    softplus = math.log1p(math.exp(-math.log(10)))
    assert 2 * softplus == pytest.approx(T.logged_d_loss_collapse, abs=5e-4)


@pytest.mark.parametrize(
    ("d_loss", "r_t", "p", "ada", "fires"),
    [
        (0.191, 0.95, 0.85, True, True),  # the D loss at its threshold: at or below
        (0.192, 0.95, 0.85, True, False),
        (0.05, 0.9, 0.85, True, True),  # r_t at its threshold
        (0.05, 0.899, 0.85, True, False),
        (0.05, 0.95, 0.8, True, True),  # p at the ceiling
        (0.05, 0.95, 0.79, True, False),  # ADA still has room: not (yet) collapsed
        (0.05, 0.95, 0.0, False, True),  # no ADA: p is not a condition
    ],
)
def test_d_loss_collapse_at_its_thresholds(d_loss, r_t, p, ada, fires) -> None:
    at = at_snapshot(d_loss=d_loss, r_t=r_t, p=(p,), ada=ada)
    assert (FindingCode.D_LOSS_COLLAPSE in found(at)) is fires


def test_d_loss_collapse_needs_a_known_chance_level() -> None:
    at = replace(at_snapshot(), d_loss_chance=None)  # a TensorBoard loss of the user's own
    assert FindingCode.D_LOSS_COLLAPSE not in found(at)


@pytest.mark.parametrize(
    ("p", "fires"),
    [
        ((0.3,) * 5 + (0.8,) * 10, True),  # ten ticks at the ceiling
        ((0.3,) * 6 + (0.8,) * 9, False),  # nine
        ((0.9,) * 5 + (0.79,) + (0.9,) * 9, False),  # a dip below within the last ten
        ((0.95,) * 40, True),
        ((), False),
    ],
)
def test_augment_ceiling_counts_consecutive_ticks_up_to_the_snapshot(p, fires) -> None:
    at = at_snapshot(d_loss=1.0, r_t=0.6, p=p)
    assert found(at) == ({FindingCode.AUGMENT_CEILING} if fires else set())


def test_augment_ceiling_on_the_log_and_its_message(tmp_path: Path) -> None:
    lines = healthy_lines()
    for t in range(41, 51):  # ticks 41-50: ten ticks at p >= 0.8, r_t still near target
        lines[t] = stats_line(t, tick_kimg(t), d_loss=0.9, r_t=0.62, p=0.8 + 0.01 * (t - 41))
    run = nvlabs_run(tmp_path, lines)
    log = read_run_log(run)
    (finding,) = logged_findings(log.logged_at(run.snapshots[1]), T)
    assert finding.code == FindingCode.AUGMENT_CEILING
    assert finding.evidence["ticks"] == 10 and finding.evidence["lowest"] == pytest.approx(0.8)
    assert "last 10 logged ticks up to kimg 200.032" in finding.message
    lines[41] = stats_line(41, tick_kimg(41), d_loss=0.9, r_t=0.62, p=0.79)
    assert codes(nvlabs_run(tmp_path / "b", lines)) == set()


def fids(*values: float) -> list[tuple[str, float]]:
    return [(f"kimg {200 * i}", v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "fires"),
    [
        ((30, 20, 21, 22.5, 24), True),  # three rises, +20 %
        ((30, 20, 22.5, 24), False),  # two rises
        ((20, 20.5, 21, 21.9), False),  # three rises, +9.5 %
        ((20, 20.5, 21, 22.0), True),  # +10 %: the threshold
        ((20, 24, 22, 23, 24), False),  # a fall breaks the run
        ((20, 21, 22, 23, float("nan")), True),  # an evaluation that failed is left out
    ],
)
def test_fid_regressed_needs_three_rises_by_a_tenth(values, fires) -> None:
    at = at_snapshot(d_loss=1.0, r_t=0.6, p=(0.2,), fids=fids(*values))
    assert found(at) == ({FindingCode.FID_REGRESSED} if fires else set())


def test_fid_regressed_on_the_metric_file_reads_the_snapshots_up_to_this_one(tmp_path) -> None:
    lines = healthy_lines(ticks=201)  # snapshots at ticks 0, 50, 100, 150, 200
    metric = [
        (tick_kimg(t), fid) for t, fid in zip(range(0, 201, 50), (60, 30, 33, 36, 40), strict=True)
    ]
    run = nvlabs_run(tmp_path, lines, fids=metric)
    log = read_run_log(run)
    assert [len(log.logged_at(s).fids) for s in run.snapshots] == [1, 2, 3, 4, 5]
    assert [FindingCode.FID_REGRESSED in codes(run, i) for i in range(5)] == [
        False, False, False, False, True]  # fmt: skip
    (finding,) = logged_findings(log.logged_at(run.snapshots[4]), T)
    assert finding.evidence["rise"] == pytest.approx(40 / 30 - 1)
    assert "from 30.00 at kimg 200 to 40.00 at kimg 800 (+33%)" in finding.message
    # Each reading's 2 % in quadrature: the rise's 95 % half-width.
    assert finding.margin.uncertainty == pytest.approx(1.96 * math.sqrt(2) * 0.02 * 40 / 30, 1e-4)


# --- whether the probe agrees with a logged collapse ----------------------------------


def finding(code: FindingCode, severity: Severity = Severity.WARN) -> Finding:
    return Finding(code, severity, "m", "r", {}, Margin("x", 1.0, 0.5, 0.1))


def test_collapse_agreement_says_which_ds_agree() -> None:
    (collapse,) = [f for f in logged_findings(at_snapshot(p=(0.85,)), T)
                   if f.code == FindingCode.D_LOSS_COLLAPSE]  # fmt: skip
    saturation = finding(FindingCode.SATURATION, Severity.FAIL)
    dominant = finding(FindingCode.D_DOMINANT)
    both = collapse_agreement(collapse, [saturation, dominant], own_d_measured=True)
    assert (both.fresh_d, both.own_d) == (True, True)
    assert "saturation, fail" in both.text and "agree: D has won" in both.text
    neither = collapse_agreement(collapse, [], own_d_measured=True)
    assert (neither.fresh_d, neither.own_d) == (False, False)
    assert "memorised its training reals" in neither.text
    unmeasured = collapse_agreement(collapse, [saturation], own_d_measured=False)
    assert unmeasured.own_d is None and "own D was not measured" in unmeasured.text
    with pytest.raises(ValueError):
        collapse_agreement(saturation, [], own_d_measured=False)


# --- TensorBoard (Lightning) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "figure"),
    [("Loss/D/loss", "d_loss"), ("train/d_loss", "d_loss"), ("loss_D", "d_loss"),
     ("D_loss", "d_loss"), ("discriminator_loss", "d_loss"), ("errD", "d_loss"),
     ("g_loss_step", "g_loss"), ("val/fid", "fid"), ("Metrics/fid50k_full", "fid"),
     ("Loss/signs/real", "r_t"), ("Progress/augment", "augment_p")],
)  # fmt: skip
def test_common_tag_names_are_mapped(tag: str, figure: str) -> None:
    assert choose_tags([tag, "lr", "grad_norm"]) == {figure: tag}


def test_the_step_value_is_read_before_the_epoch_mean() -> None:
    assert choose_tags(["d_loss_epoch", "d_loss_step"]) == {"d_loss": "d_loss_step"}


def lightning_run(tmp_path: Path) -> Path:
    version = tmp_path / "lightning_logs" / "version_0"
    steps = range(0, 401, 20)
    write_events(version, {
        "d_loss_step": [(s, 0.7 - s / 1000) for s in steps],
        "d_loss_epoch": [(s, 9.0) for s in (199, 399)],
        "g_loss_step": [(s, 0.8 + s / 1000) for s in steps],
        "val/fid": [(199, 50.0), (399, 35.0)],
        "epoch": [(s, float(s // 200)) for s in steps],
    })  # fmt: skip
    write_lightning_checkpoints(version, [(0, 200), (1, 400)])
    return tmp_path


def test_lightning_events_are_read_on_the_global_step(tmp_path: Path) -> None:
    run = find_run(lightning_run(tmp_path))
    assert run is not None and run.kind == "lightning"
    log = read_run_log(run)
    assert log is not None and log.format == "tensorboard" and log.axis == "step"
    assert log.series["d_loss"].tag == "d_loss_step" and log.d_loss_chance is None
    at = log.around(run.snapshots[0])  # epoch=0-step=200.ckpt
    assert at["step"] == 200 and at["kimg"] is None
    assert at["d_loss"] == pytest.approx(0.5) and at["g_loss"] == pytest.approx(1.0)
    assert at["fid"] == 50.0 and at["fid_at"] == 199 and at["r_t"] is None
    # A checkpoint named by its epoch alone lies at the last step of that epoch.
    epoch_only = replace(run.snapshots[0], step=None, epoch=0)
    assert log.position_of(epoch_only) == 180
    assert log.logged_at(run.snapshots[1]).d_loss_chance is None  # never d_loss_collapse


def test_tensorboard_without_tbparse_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    root = lightning_run(tmp_path) / "lightning_logs" / "version_0"
    real_import = builtins.__import__

    def no_tbparse(name, *args, **kwargs):
        if name.startswith("tbparse"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tbparse)
    with pytest.raises(CheckpointError, match=r'pip install "gandoctor\[runs\]"') as error:
        read_tensorboard(root)
    assert "\n" not in str(error.value)
    assert read_tensorboard(tmp_path) is None  # no event files: no log, no error


# --- in the report ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def probed() -> gandoctor.Report:
    return gandoctor.probe(untrained_dcgan(), _digits(16)[:300], config=ProbeConfig(steps=3))


def run_report(probed: gandoctor.Report, run) -> gandoctor.Report:
    """The probe's report, its one checkpoint standing for each of the run's snapshots."""
    (c,) = probed.checkpoints
    checkpoints = [replace(c, checkpoint=s.path) for s in run.snapshots]
    return replace(probed, checkpoints=checkpoints)


def test_attach_puts_the_log_beside_each_snapshot(probed, tmp_path: Path) -> None:
    run = nvlabs_run(tmp_path, collapsing_lines(), fids=[(0.032, 80.0), (200.032, 41.5)])
    report = attach_run_logs(run_report(probed, run), run, read_run_log(run))
    first, middle, _ = report.checkpoints
    assert first.run_log["tick"] == 0 and first.run_log["findings"] == []
    assert middle.run_log["d_loss"] == pytest.approx(0.05) and middle.run_log["fid"] == 41.5
    assert middle.run_log["findings"] == ["d_loss_collapse", "augment_ceiling"]
    agreement = middle.run_log["agreement"]
    assert agreement["own_d"] is None and agreement["text"] in middle.outcome.findings[-2].message
    assert {f.code for f in middle.findings} >= {FindingCode.D_LOSS_COLLAPSE}
    assert middle.verdict.rank >= Verdict.WARNING.rank
    assert report.run_curves[0]["probed"] == pytest.approx([0, 200, 400])
    unrelated = attach_run_logs(probed, run, read_run_log(run)).checkpoints[0]
    assert unrelated.run_log is None and unrelated == probed.checkpoints[0]
    data = report.to_dict()["checkpoints"][1]["run_log"]
    assert data["kimg"] == pytest.approx(200.032) and data["augment_p"] == pytest.approx(0.85)


def test_the_cut_line_note_lands_on_the_last_snapshot(probed, tmp_path: Path) -> None:
    run = nvlabs_run(tmp_path, healthy_lines(), cut=True)
    report = attach_run_logs(run_report(probed, run), run, read_run_log(run))
    notes = [c.outcome.notes for c in report.checkpoints]
    assert not any("cut short" in n for n in notes[0] + notes[1])
    assert any("cut short" in n and run.root in n for n in notes[2])


def test_rows_and_markdown_show_the_logged_values_only_with_a_log(probed, tmp_path) -> None:
    assert figure_rows(probed.checkpoints)[-1][0] != RUN_LOG_ROWS[-1][0]
    run = nvlabs_run(tmp_path, collapsing_lines(), fids=[(200.032, 41.5)])
    report = attach_run_logs(run_report(probed, run), run, read_run_log(run))
    rows = dict(figure_rows(report.checkpoints))
    middle = report.checkpoints[1]
    assert rows["logged by the run at (kimg or step)"](middle) == "kimg 200.032, tick 50"
    assert rows["logged D loss / G loss (NVlabs' chance: 2 ln 2 = 1.386)"](middle) == (
        "0.050 / 1.000")  # fmt: skip
    assert rows["logged r_t / ADA p"](middle) == "0.950 / 0.850"
    assert rows["logged FID"](middle) == "41.50 (fid50k_full)"
    assert rows["logged D collapse seen by the probe's D too"](middle).endswith("not measured")
    assert rows["logged FID"](report.checkpoints[0]) == "—"
    text = render_markdown(report)
    assert "| logged r\\_t / ADA p | 0.550 / 0.000 | 0.950 / 0.850 | 0.950 / 0.850 |" in text
    assert "**d_loss_collapse** (warn)" in text


def test_the_plot_has_the_logged_row_with_the_snapshots_marked(probed, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from gandoctor.report.plots import _draw, _pyplot

    plt = _pyplot()
    fig = _draw(plt, probed)
    assert len(fig.axes) == 3  # no run log: the paper's three panels only
    plt.close(fig)
    run = nvlabs_run(tmp_path, collapsing_lines(), fids=[(0.032, 80.0), (200.032, 41.5)])
    report = attach_run_logs(run_report(probed, run), run, read_run_log(run))
    fig = _draw(plt, report)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[3:] == ["the run's own log: losses", "the run's own log: ADA",
                          "the run's own log: FID"]  # fmt: skip
    loss_ax, ada_ax, fid_ax = fig.axes[3:]
    assert loss_ax.get_xlabel() == "kimg" and loss_ax.get_yscale() == "log"
    d_curve = next(line for line in loss_ax.get_lines() if line.get_label() == "D loss")
    assert len(d_curve.get_xdata()) == 101
    assert d_curve.get_ydata()[50] == pytest.approx(0.05)
    assert {line.get_label() for line in ada_ax.get_lines()} >= {"r_t", "ADA p",
                                                                  "p leaks above ~0.8"}  # fmt: skip
    marked = sorted(line.get_xdata()[0] for line in fid_ax.get_lines()
                    if line.get_linestyle() == ":")  # fmt: skip
    assert marked == pytest.approx([0, 200, 400])  # the probed snapshots
    assert list(fid_ax.get_lines()[0].get_ydata()) == [80.0, 41.5]
    plt.close(fig)
    path = tmp_path / "fig.png"
    from gandoctor.report.plots import plot_report

    plot_report(report, path)
    from PIL import Image

    with Image.open(path) as image:
        assert image.width < 2 * image.height  # two rows of panels


def test_kimg_per_tick_is_nvlabs_default() -> None:
    assert KIMG_PER_TICK == 4 and tick_kimg(50) == pytest.approx(200.032)


def test_the_terminal_compares_the_logged_values_across_snapshots(probed, tmp_path) -> None:
    from rich.console import Console

    from gandoctor.report.terminal.tables import comparison_tables

    assert len(comparison_tables(run_report(probed, find_run_or_make(tmp_path)))) == 2
    run = nvlabs_run(tmp_path / "b", collapsing_lines(), fids=[(200.032, 41.5)])
    report = attach_run_logs(run_report(probed, run), run, read_run_log(run))
    *_, logged = comparison_tables(report)
    console = Console(width=200, record=True)
    console.print(logged)
    text = console.export_text()
    assert "logged by the run at each snapshot" in text
    assert "kimg 200.032, tick 50" in text and "41.50" in text and "0.850" in text


def find_run_or_make(tmp_path: Path):
    return nvlabs_run(tmp_path / "a", healthy_lines())

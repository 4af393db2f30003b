"""``--baseline``: regressions against an earlier report, on synthetic summaries with known
answers and on the shipped example (the DCGAN trained 25 epochs against its untrained self)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gandoctor import __version__
from gandoctor.cli import app
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.judge.baseline import compare, match
from gandoctor.judge.gate import parse_fail_on
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.saved import load_baseline
from gandoctor.results.baseline import Baseline, BaselineComparison
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.results.series import GeneratorHealth, ProbeSeries, Summary

# --- synthetic reports --------------------------------------------------------------------


def summary(**values: Any) -> Summary:
    base: dict[str, Any] = {f.name: 0.0 for f in fields(Summary)}
    base.update(steps_run=500, measurements=30, steps_to_saturation=None,
                minimax_grad_peak_step=0)  # fmt: skip
    return Summary(**{**base, **values})


def checkpoint(
    name: str, verdict: Verdict, findings: list[Finding], **figures: Any
) -> CheckpointReport:
    outcome = ProbeOutcome(
        series=ProbeSeries(), summary=summary(**figures),
        health=GeneratorHealth(nonfinite_parameters=0, nonfinite_output_share=0.0,
                               output_spread=0.3, real_spread=0.4, train_eval_difference=None),
        findings=findings, verdict=verdict,
        stopped_early=False, stop_reason="ran all 500 steps", seconds=1.0, train_samples=100,
        heldout_samples=100, heldout_latents=256,
    )  # fmt: skip
    return CheckpointReport(name, {}, {}, outcome)


def report(*checkpoints: CheckpointReport, **settings: Any) -> Report:
    return Report(list(checkpoints), ProbeConfig(**settings), parse_fail_on("none"), __version__)


def fail(code: str) -> Finding:
    return Finding(FindingCode(code), Severity.FAIL, "m", "r")


def compared(now: Report, base: Baseline) -> BaselineComparison:
    """judge.baseline.compare on the report's plain records, as gandoctor.probe calls it."""
    return compare([(c.checkpoint, c.outcome) for c in now.checkpoints], now.settings, base)


def saved(rep: Report, path: Path) -> Baseline:
    path.write_text(rep.to_json(), encoding="utf-8")
    return load_baseline(path)


def regressions(now: Report, then: Report, tmp_path: Path) -> dict[str, Any]:
    comparison = compared(now, saved(then, tmp_path / "base.json"))
    # Each regression and comparison is named by its checkpoint, whatever the figure.
    assert [c.checkpoint for c in comparison.checkpoints] == [c.checkpoint for c in now.checkpoints]
    assert {name for name, _ in comparison.regressions} <= {c.checkpoint for c in now.checkpoints}
    return {r.figure: (r.baseline, r.current) for _, r in comparison.regressions}


HEALTHY = checkpoint("g.pt", Verdict.HEALTHY, [], steps_to_saturation=200,
                     minimax_decades_lost=0.5, nonsat_growth_after_peak=0.1)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {}),  # the same report: nothing regressed
        ({"steps_to_saturation": 160}, {}),  # 20 % sooner: one measurement, tolerated
        ({"steps_to_saturation": 140}, {"steps_to_saturation": (200, 140)}),  # 30 % sooner
        ({"steps_to_saturation": None}, {}),  # no longer saturates: better
        ({"minimax_decades_lost": 0.99}, {}),  # +0.49 decades, within 0.5
        ({"minimax_decades_lost": 1.1}, {"minimax_decades_lost": (0.5, 1.1)}),
        ({"nonsat_growth_after_peak": 1.05}, {}),  # +0.95, within 1 (a noisier figure)
        ({"nonsat_growth_after_peak": 1.2}, {"nonsat_growth_after_peak": (0.1, 1.2)}),
    ],
)
def test_figures_regress_beyond_their_tolerance(
    changes: dict[str, Any], expected: dict[str, Any], tmp_path: Path
) -> None:
    now = checkpoint("g.pt", Verdict.HEALTHY, [], **{**_figures(HEALTHY), **changes})
    assert regressions(report(now), report(HEALTHY), tmp_path) == expected


def _figures(c: CheckpointReport) -> dict[str, Any]:
    s = c.outcome.summary
    assert s is not None
    names = ("steps_to_saturation", "minimax_decades_lost", "nonsat_growth_after_peak")
    return {name: getattr(s, name) for name in names}


def test_tolerances_are_thresholds(tmp_path: Path) -> None:
    now = report(
        checkpoint(
            "g.pt", Verdict.HEALTHY, [], **{**_figures(HEALTHY), "steps_to_saturation": 160}
        ),
        thresholds=Thresholds(regression_saturation_share=0.1),
    )
    assert regressions(now, report(HEALTHY), tmp_path) == {"steps_to_saturation": (200, 160)}


def test_saturating_where_the_baseline_did_not(tmp_path: Path) -> None:
    never = checkpoint("g.pt", Verdict.WARNING, [], steps_run=300)
    soon = checkpoint("g.pt", Verdict.WARNING, [], steps_to_saturation=250)
    late = checkpoint("g.pt", Verdict.WARNING, [], steps_to_saturation=350)
    assert regressions(report(soon), report(never), tmp_path) == {
        "steps_to_saturation": (None, 250)
    }
    # The baseline ran 300 steps: saturating at step 350 says nothing against it.
    assert regressions(report(late), report(never), tmp_path) == {}


def test_worse_verdict_and_new_fail_finding(tmp_path: Path) -> None:
    then = checkpoint("g.pt", Verdict.FAILING, [fail("saturation")], **_figures(HEALTHY))
    now = checkpoint(
        "g.pt", Verdict.FAILING, [fail("saturation"), fail("exploding")], **_figures(HEALTHY)
    )
    assert regressions(report(now), report(then), tmp_path) == {"finding": (None, "exploding")}
    broken = checkpoint("g.pt", Verdict.BROKEN, [fail("broken")], **_figures(HEALTHY))
    assert regressions(report(broken), report(then), tmp_path) == {
        "verdict": ("failing", "broken"),
        "finding": (None, "broken"),
    }
    # Better is not a regression.
    assert regressions(report(then), report(broken), tmp_path) == {}


def test_checkpoints_match_by_name_then_alone_by_position(tmp_path: Path) -> None:
    a, b = (checkpoint(f"runs/{n}.pt", Verdict.HEALTHY, []) for n in "ab")
    base = saved(report(b, a), tmp_path / "base.json")
    assert match(["other/a.pt", "other/b.pt"], base) == [(0, 1), (1, 0)]
    assert match(["other/a.pt", "c.pt"], base) == [(0, 1)]
    with pytest.raises(ConfigError, match=r"none of its checkpoints \(b.pt, a.pt\) matches"):
        match(["c.pt", "d.pt"], base)
    single = saved(report(a), tmp_path / "single.json")
    assert match(["anything.safetensors"], single) == [(0, 0)]
    comparison = compared(report(a, checkpoint("c.pt", Verdict.HEALTHY, [])), base)
    assert comparison.unmatched == ["c.pt"] and comparison.missing == ["runs/b.pt"]


def test_differing_settings_are_listed(tmp_path: Path) -> None:
    then = report(HEALTHY, steps=200, thresholds=Thresholds(regression_decades=0.1))
    now = report(HEALTHY, steps=500, thresholds=Thresholds(noisy_cv=0.7))
    comparison = compared(now, saved(then, tmp_path / "base.json"))
    assert comparison.settings_differ == {"steps": (200, 500), "thresholds.noisy_cv": (0.5, 0.7)}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "file not found"),
        ("{not json", "not a JSON report"),
        ('{"schema": "other/1"}', "schema is 'other/1'"),
        ('{"schema": "gandoctor.report/1", "checkpoints": []}', "lists no checkpoints"),
        ('{"schema": "gandoctor.report/1", "checkpoints": [{"verdict": "ok"}]}', "malformed"),
    ],
)
def test_bad_baseline_file(tmp_path: Path, content: str | None, needle: str) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle) as error:
        load_baseline(path)
    assert str(error.value).startswith(f"`baseline` {path}")


# --- the shipped example, through the command line ------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EPOCH0 = EXAMPLES / "dcgan_digits_epoch0.safetensors"
EPOCH25 = EXAMPLES / "dcgan_digits_epoch25.safetensors"
# 30 D steps on 600 digits, one latent batch per measurement: the trained generator keeps
# held-out accuracy near 0.55 (healthy), the untrained one is separated (accuracy 1.0, a
# saturation warning).
QUICK = ["--data", str(EXAMPLES / "digits"), "--steps", "30", "--max-images", "600",
         "--grad-batches", "1"]  # fmt: skip
runner = CliRunner()


@pytest.fixture(scope="module")
def epoch25_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baseline") / "epoch25.json"
    result = runner.invoke(app, ["probe", str(EPOCH25), *QUICK, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_example_against_itself_passes(epoch25_report: Path) -> None:
    result = runner.invoke(
        app, ["probe", str(EPOCH25), *QUICK, "--baseline", str(epoch25_report), "--json", "-"]
    )
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)["baseline"]
    assert comparison["regressed"] is False
    (c,) = comparison["checkpoints"]
    assert c["regressions"] == []
    for figure, pair in c["figures"].items():  # same inputs and seed: the same figures
        assert pair["baseline"] == pair["now"], figure
    assert c["figures"]["verdict"]["now"] == "healthy"


def test_untrained_generator_regresses_against_the_trained_baseline(
    epoch25_report: Path, tmp_path: Path
) -> None:
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    result = runner.invoke(
        app,
        ["probe", str(EPOCH0), *QUICK, "--baseline", str(epoch25_report), "--fail-on", "none",
         "--json", str(out), "--markdown", str(md)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # only the baseline fails the gate
    report = json.loads(out.read_text())
    assert report["exit_code"] == 1
    (c,) = report["baseline"]["checkpoints"]
    assert c["baseline_checkpoint"] == str(EPOCH25)  # one on each side: matched by position
    figures = {r["figure"]: r for r in c["regressions"]}
    assert figures["verdict"]["baseline"] == "healthy"
    assert figures["verdict"]["current"] in ("warning", "failing")
    accuracy = c["figures"]["final_accuracy"]
    assert accuracy["baseline"] < 0.9 <= accuracy["now"]
    assert "✗ regression" in result.stdout and "verdict healthy -> " in result.stdout
    assert "1 baseline regression" in result.stdout or "baseline regressions" in result.stdout
    markdown = md.read_text()
    assert "### Baseline" in markdown and "❌ regression" in markdown


def test_missing_baseline_fails_before_probing(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["probe", str(EPOCH0), *QUICK, "--baseline", str(tmp_path / "none.json")]
    )
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"gandoctor: error: --baseline {tmp_path / 'none.json'}: file not found"]
    assert result.stdout == ""

"""Replay today's readings, margins and stopping rule on the series `matrix.py --full` kept.

    python benchmarks/matrix.py --full      # once: every run to its last step (about 40 min)
    python benchmarks/replay.py             # seconds: the matrix as the code now reads it

Without a run of its own in benchmarks/.matrix/ it replays the one recorded in
benchmarks/records/ (the run benchmarks/README.md reports).

A probe's series up to a step does not depend on whether it stops there, so the findings a
probe with early stopping would have reported can be had from the full series: summarise
and judge it measurement by measurement, as the probe loop does, and stop where the loop
would. The findings that do not come from the series (collapse, from the samples) are
taken from the full run. This lets a change to a reading or a margin be tried on the whole
matrix in seconds; `matrix.py` without `--full` is still the check of the probe itself.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from matrix import WORK, summarise

from gandoctor.config import ProbeConfig
from gandoctor.judge.paper import paper_findings
from gandoctor.judge.samples import sample_drafts
from gandoctor.judge.summarise import summarize
from gandoctor.judge.verdict import is_settled, overall
from gandoctor.results.outcome import Finding
from gandoctor.results.series import ProbeSeries

RECORDED = Path(__file__).resolve().parent / "records"
"""The matrix's series as benchmarks/README.md reports them (matrix.py --full, gzipped)."""
FROM_SERIES = {"saturation", "vanishing", "exploding", "overfitting"}


def replay(run: dict, config: ProbeConfig) -> dict:
    """The run as a probe at ``config`` (early stopping on) would have ended it."""
    t, full = config.thresholds, ProbeSeries(**run["series"])
    heldout = tuple(run["heldout"])
    findings: list[Finding] = []
    count = len(full.step)
    for i in range(count):
        part = ProbeSeries(**{name: values[: i + 1] for name, values in run["series"].items()})
        summary = summarize(part, t.saturation_accuracy, t.saturation_fake_prob, heldout,
                            t.growth_needs_decline_decades)  # fmt: skip
        findings = paper_findings(summary, t) + [
            Finding(*draft) for draft in sample_drafts(summary, None, t)
        ]
        step = part.step[-1]
        if step < config.steps and is_settled(summary, findings, config.settle_steps):
            break
    kept = [f for f in run["findings"] if f["code"] not in FROM_SERIES]
    shown = [_saved(f) for f in findings if str(f.severity) != "info"]
    severities = {f["severity"] for f in shown + kept}
    verdict = next((v for s, v in _VERDICTS if s in severities), str(overall([])))
    return {
        "verdict": verdict,
        "steps_run": summary.steps_run,
        "findings": shown + kept,
        "plan": run.get("plan"),
        "summary": summary.to_dict(),
    }


_VERDICTS = [("fail", "failing"), ("warn", "warning")]


def _saved(f: Finding) -> dict:
    m = f.margin
    return {
        "code": str(f.code),
        "severity": str(f.severity),
        "borderline": f.borderline,
        "margin": None if m is None else {"figure": m.figure, "value": m.value,
                                          "threshold": m.threshold, "uncertainty": m.uncertainty},
    }  # fmt: skip


def main() -> int:
    # One record per process (--sizes, --epochs); else the run recorded in the repository.
    records = sorted(WORK.glob("results_full*.json")) or sorted(RECORDED.glob("*.json.gz"))
    if not records:
        print(f"nothing in {WORK}: run `python benchmarks/matrix.py --full` first",
              file=sys.stderr)  # fmt: skip
        return 2
    results: dict[str, dict] = {}
    for record in records:
        raw = record.read_bytes()
        results.update(json.loads(gzip.decompress(raw) if record.suffix == ".gz" else raw))
    config = ProbeConfig()
    replayed = {
        name: {label: replay(run, config) for label, run in runs.items()}
        for name, runs in results.items()
    }
    summarise(replayed)
    WORK.mkdir(exist_ok=True)
    (WORK / "replayed.json").write_text(json.dumps(replayed, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

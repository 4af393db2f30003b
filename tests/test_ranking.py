"""``--rank``: a run's snapshots ranked by a fresh D's held-out accuracy under one fixed
protocol, with 95 % intervals, ties where they overlap, and a best one only where it is
separated; validated on runs whose order is known."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import accuracy_interval
from gandoctor.judge.ranking import Candidate, rank, ranking_config
from gandoctor.report.merge import merge_reports
from gandoctor.results.outcome import Finding

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EPOCHS = [EXAMPLES / f"dcgan_digits_epoch{n}.safetensors" for n in (0, 1, 10, 25)]


def candidate(name: str, accuracy: float, n: int = 256, **extra) -> Candidate:
    low, high = accuracy_interval(accuracy, n, n)
    problems = frozenset(str(f.code) for f in extra.pop("findings", []))
    return Candidate(name, accuracy, low, high, problems, extra.pop("complete", True),
                     extra.pop("has_own_d", False), **extra)  # fmt: skip


def test_overlapping_intervals_tie_and_only_a_separated_best_is_named() -> None:
    ranking = rank([candidate("a", 0.95), candidate("b", 0.70), candidate("c", 0.72),
                    candidate("d", 1.0)])  # fmt: skip
    order = [(s.checkpoint, s.rank, s.group) for s in ranking.snapshots]
    # b and c overlap (0.70 and 0.72 on 256 + 256 samples); a and d are each apart.
    assert order == [("b", 1, 1), ("c", 1, 1), ("a", 3, 2), ("d", 4, 3)]
    assert ranking.best is None and "2 snapshots tie for first (b, c)" in ranking.summary
    separated = rank([candidate("a", 0.95), candidate("b", 0.60)])
    assert separated.best == "b" and separated.snapshots[0].group == 1


def test_ties_chain_through_a_snapshot_between_them() -> None:
    # 0.60 and 0.70 do not overlap, but each overlaps 0.65: one group of three.
    ranking = rank([candidate("x", 0.60), candidate("y", 0.65), candidate("z", 0.70)])
    assert {s.group for s in ranking.snapshots} == {1}


def test_second_keys_order_a_tie_but_do_not_break_it() -> None:
    dominant = Finding(FindingCode.D_DOMINANT, Severity.WARN, "", "")
    ranking = rank([
        candidate("sick", 0.70, has_own_d=True, findings=[dominant], fid=20.0),
        candidate("well", 0.71, has_own_d=True, fid=30.0),
    ])  # fmt: skip
    assert [s.checkpoint for s in ranking.snapshots] == ["well", "sick"]  # own D's health first
    assert {s.group for s in ranking.snapshots} == {1} and ranking.best is None
    by_fid = rank([candidate("p", 0.70, fid=30.0), candidate("q", 0.71, fid=20.0)])
    assert [s.checkpoint for s in by_fid.snapshots] == ["q", "p"]


def test_fid_agreement_counts_the_separated_pairs_it_orders_alike() -> None:
    agree = rank([candidate("a", 0.6, fid=10.0), candidate("b", 0.9, fid=40.0)])
    assert agree.fid_agreement == 1.0
    disagree = rank([candidate("a", 0.6, fid=50.0), candidate("b", 0.9, fid=40.0)])
    assert disagree.fid_agreement == 0.0
    assert rank([candidate("a", 0.6, fid=10.0), candidate("b", 0.9)]).fid_agreement is None


def test_cut_short_or_broken_probes_are_not_ranked() -> None:
    broken = Candidate.of("nan", None, [], True, False)
    cut = candidate("cut", 0.6, complete=False)
    ranking = rank([candidate("a", 0.8), broken, cut])
    assert [s.checkpoint for s in ranking.snapshots] == ["a"]
    assert ranking.unranked == ["nan", "cut"]


def test_the_protocol_is_fixed() -> None:
    assert ranking_config(ProbeConfig()) == ProbeConfig(early_stop=False, plan="full")
    assert ranking_config(ProbeConfig(plan="3")).plan == "3"  # a level chosen by hand stays


def _never_inverted(ranking, known: list[str]) -> None:
    """Ties allowed: no snapshot known to be worse is ranked in a better group."""
    group = {s.checkpoint: s.group for s in ranking.snapshots}
    for better, worse in itertools.pairwise(known):
        assert group[better] <= group[worse], (better, worse, group)


@pytest.mark.long  # 4 probes of 200 steps: about 40 s
def test_the_shipped_epochs_rank_in_training_order() -> None:
    """The example DCGAN after 0, 1, 10 and 25 epochs: later is better (its samples)."""
    report = gandoctor.probe(EPOCHS, EXAMPLES / "digits", config=ProbeConfig(steps=200),
                             fail_on="none", rank=True)  # fmt: skip
    ranking = report.ranking
    assert ranking is not None and ranking.unranked == []
    _never_inverted(ranking, [str(p) for p in reversed(EPOCHS)])
    assert ranking.best == str(EPOCHS[-1])  # the 25-epoch generator, separated from the rest
    assert all(c.outcome.summary.steps_run == 200 for c in report.checkpoints)  # no early stop
    for s in ranking.snapshots:
        assert s.low <= s.accuracy <= s.high and math.isfinite(s.accuracy)


COLLAPSING = Path(__file__).resolve().parent / "fixtures" / "collapsing_run"
"""A DCGAN trained well to step 1500, then pushed into collapse (tests/fixtures/
make_collapsing_run.py; its README has the figures under two seeds)."""


@pytest.mark.long  # 7 probes of 300 steps: about 50 s
def test_a_run_trained_into_collapse_ranks_its_late_snapshots_worse(tmp_path: Path) -> None:
    out = tmp_path / "rank.json"
    args = ["probe", str(COLLAPSING), "--data", str(EXAMPLES / "digits"), "--rank",
            "--steps", "300", "--fail-on", "none", "-q", "--json", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    ranking = json.loads(out.read_text())["ranking"]
    group = {Path(s["checkpoint"]).stem: s["group"] for s in ranking["snapshots"]}
    assert ranking["best"] == str(COLLAPSING / "snapshot-1500.safetensors")
    # the best, mid-run, above every snapshot after it (all collapsed) and above the first
    for later in ("snapshot-1700", "snapshot-1900", "snapshot-2300", "snapshot-0500"):
        assert group["snapshot-1500"] < group[later], group
    assert group["snapshot-1000"] < group["snapshot-2300"]


def test_merged_shards_are_ranked_together() -> None:
    """Under --shard each process ranks its own checkpoints; gandoctor merge ranks all of
    them again, from the saved figures, as one probe would have."""
    config = ProbeConfig(steps=60)
    shards = [
        gandoctor.probe(path, EXAMPLES / "digits", config=config, fail_on="none", rank=True)
        for path in (EPOCHS[0], EPOCHS[-1])
    ]
    merged = merge_reports([json.loads(s.to_json()) for s in shards], ["a.json", "b.json"])
    together = gandoctor.probe([EPOCHS[0], EPOCHS[-1]], EXAMPLES / "digits", config=config,
                               fail_on="none", rank=True)  # fmt: skip
    assert together.ranking is not None
    assert merged["ranking"] == json.loads(together.to_json())["ranking"]
    assert len(merged["ranking"]["snapshots"]) == 2

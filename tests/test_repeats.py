"""``--seeds N``: N probes of one checkpoint, the verdict and the gate by majority."""

from __future__ import annotations

import json

import pytest
from conftest import untrained_dcgan

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.results.repeats import Repeats
from gandoctor.results.series import GeneratorHealth, ProbeSeries

HEALTH = GeneratorHealth(0, 0.0, 0.3, 0.4, None)
WARN = Finding(FindingCode.EXPLODING, Severity.WARN, "m", "r")
FAIL = Finding(FindingCode.SATURATION, Severity.FAIL, "m", "r")


def outcome(verdict: Verdict, *findings: Finding) -> ProbeOutcome:
    return ProbeOutcome(ProbeSeries(), None, HEALTH, list(findings), verdict, False, "", 1.0,
                        100, 100, 256)  # fmt: skip


def test_the_majority_decides_and_a_tie_goes_to_the_worse_verdict() -> None:
    r = Repeats([0, 1, 2], [outcome(Verdict.FAILING, FAIL), outcome(Verdict.WARNING, WARN),
                            outcome(Verdict.FAILING, FAIL, WARN)])  # fmt: skip
    assert r.verdict == Verdict.FAILING and r.votes[Verdict.FAILING] == 2
    assert r.finding_counts == {"exploding:warn": 2, "saturation:fail": 2}
    assert r.findings == [FAIL, WARN]  # each in 2 of 3 runs
    tie = Repeats([0, 1], [outcome(Verdict.HEALTHY), outcome(Verdict.WARNING, WARN)])
    assert tie.verdict == Verdict.WARNING and tie.findings == []  # WARN in 1 of 2: no majority


def test_probe_under_three_seeds_reuses_the_data_and_reports_each(digits) -> None:
    report = gandoctor.probe(untrained_dcgan(), digits[:400], config=ProbeConfig(steps=20),
                             latent_shape=(16, 1, 1), seeds=3)  # fmt: skip
    c = report.checkpoints[0]
    assert c.repeats is not None and c.repeats.seeds == [0, 1, 2]
    document = json.loads(report.to_json())["checkpoints"][0]
    per_seed = document["repeats"]["per_seed"]
    assert [p["seed"] for p in per_seed] == [0, 1, 2]
    # Another seed is another split, other latents and another D: other figures.
    assert per_seed[0]["series"]["d_loss"] != per_seed[1]["series"]["d_loss"]
    assert per_seed[0]["series"] == document["series"]  # the first is the report's own
    assert document["verdict"] == str(c.repeats.verdict)
    assert report.gate_failures == [
        (c.checkpoint, str(f.code)) for f in c.repeats.findings if f.severity == Severity.FAIL
    ]
    with pytest.raises(ConfigError, match="seeds"):
        gandoctor.probe(untrained_dcgan(), digits[:400], latent_shape=(16, 1, 1), seeds=0)

"""Readings that do not flip: plateau-aware peaks, end windows, a gradient that falls to 0,
the accuracy as a two-sample test, margins and borderline findings. Known answers."""

from __future__ import annotations

import math

import pytest

from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.judge.baseline import compare
from gandoctor.judge.c2st import Z95, accuracy_interval, accuracy_sd, c2st_p_value
from gandoctor.judge.gate import parse_fail_on
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.results.baseline import Baseline, BaselineCheckpoint
from gandoctor.results.outcome import Finding, Margin, ProbeOutcome
from gandoctor.results.readings import decades, end_indexes, plateau_peak
from gandoctor.results.series import GeneratorHealth, ProbeSeries

T = Thresholds()
HEALTH = GeneratorHealth(0, 0.0, 0.3, 0.4, None)


def series(steps: list[int], mm: list[float], ns: list[float], acc: float = 1.0) -> ProbeSeries:
    s = ProbeSeries()
    for step, m, n in zip(steps, mm, ns, strict=True):
        s.append(step=step, heldout_accuracy=acc, d_loss=0.01, d_real=0.99, d_fake=0.001,
                 fake_saturated_share=1.0, js_lower_bound=0.69, minimax_grad_mean=m,
                 minimax_grad_std=0.0, nonsat_grad_mean=n, nonsat_grad_std=0.0)  # fmt: skip
    return s


STEPS = [0, 10, 25, *range(50, 501, 25)]


def test_a_plateau_with_near_equal_maxima_has_one_peak_whichever_is_larger() -> None:
    """The 25-epoch example's case: two maxima 0.03 decades apart, 150 steps apart. A 1 %
    change of either (what a thread count or bf16 does) moved the first-argmax reading by
    150 steps; the last measurement within 0.1 decades of the maximum does not move."""
    base = [1.0] * len(STEPS)
    early, late = STEPS.index(343 // 25 * 25), STEPS.index(475)
    for first, second in ((23.19, 24.88), (24.88, 23.19), (24.0, 24.2)):
        values = list(base)
        values[early - 1 : early + 2] = [first] * 3
        values[late - 1 : late + 2] = [second] * 3
        assert STEPS[plateau_peak(values) or 0] == 500


def test_end_values_span_the_last_tenth_of_the_run() -> None:
    assert [STEPS[i] for i in end_indexes(STEPS)] == [450, 475, 500]
    # Where the run ends between measurements, the window still spans 50 steps.
    steps = [*range(0, 476, 25), 493, 500]
    assert [steps[i] for i in end_indexes(steps)] == [450, 475, 493, 500]
    assert len(end_indexes([0, 1, 2, 3])) == 3  # never fewer than three


def test_a_gradient_that_falls_to_zero_lost_every_decade() -> None:
    assert decades(0.1, 0.0) == math.inf
    assert decades(0.0, 0.0) == 0.0 and decades(math.nan, 1.0) == 0.0
    mm = [0.1 if s <= 50 else (0.0 if s >= 400 else 1e-4) for s in STEPS]
    s = summarize(series(STEPS, mm, [1.0] * len(STEPS)), 0.99, 0.01)
    assert s.minimax_decades_lost == math.inf and s.minimax_declined
    (vanishing,) = [f for f in find(s, HEALTH, T) if f.code == FindingCode.VANISHING]
    assert vanishing.severity == Severity.FAIL and "fell all decades" in vanishing.message
    assert vanishing.evidence["fell_to_zero"] and not vanishing.borderline


def test_growth_without_a_minimax_decline_is_not_exploding() -> None:
    """D's weights growing against a generator it cannot separate: the -log D gradient
    grows 0.5 decades over the run while the minimax one loses 0.2, too little for a
    near-optimal D (Theorem 2.6): it never turns down, so no growth is read, or counted."""
    ns = [10 ** (0.5 * s / 500) for s in STEPS]
    mm = [10 ** (-0.2 * s / 500) for s in STEPS]
    s = summarize(series(STEPS, mm, ns, acc=0.6), 0.99, 0.01)
    # The last step whose running median (which lags one measurement) is within 0.1
    # decades of the top: 275.
    assert s.minimax_grad_peak_step == 275
    assert s.minimax_decline_step is None and s.nonsat_growth_after_peak == 0.0
    assert not s.minimax_declined
    assert FindingCode.EXPLODING not in {f.code for f in find(s, HEALTH, T)}


def plateau_then_decline(bump_at: int) -> tuple[list[float], list[float]]:
    """The stability matrix's 1-epoch DCGAN, drawn: the minimax gradient on a plateau
    (steps 50-200) with its highest bump at ``bump_at``, then falling a decade per 200
    steps; the -log D gradient rising tenfold across the plateau, then slowly."""
    mm = [(1.0 if 50 <= s <= 200 else 0.3) if s <= 200 else 10 ** (-(s - 200) / 200)
          for s in STEPS]  # fmt: skip
    mm[STEPS.index(bump_at)] = 1.2
    ns = [10 ** min(s / 200, 1.0 + (s - 200) / 1000) for s in STEPS]
    return mm, ns


def test_growth_is_read_from_where_the_minimax_gradient_turned_down() -> None:
    """Wherever on the plateau the highest bump falls (the seeds of one generator put it 36
    steps apart, and the -log D gradient rose a decade in between), the growth is read from
    the same place: the first measurement after it a factor 2 below, on the decline."""
    readings = set()
    for bump in (75, 125, 175):
        mm, ns = plateau_then_decline(bump)
        s = summarize(series(STEPS, mm, ns), 0.99, 0.01)
        # The running median (over three, trailing) falls below 10 ** -0.3 of the plateau's
        # 1.0 first at step 300: median(0.56, 0.42, 0.32).
        assert s.minimax_decline_step == 300 and s.minimax_declined
        readings.add(round(s.nonsat_growth_after_peak, 9))
    assert len(readings) == 1
    # ... from the median of -log D around step 300 (275-325) to the end window's (475).
    (growth,) = readings
    assert growth == pytest.approx((475 - 300) / 1000)


def test_margins_include_how_far_the_figures_moved_over_the_run_s_last_part() -> None:
    """Another run's D ahead or behind reads the figures where this run read them a little
    earlier or later: each margin includes |now - at steps_run / 1.25|."""
    mm, ns = plateau_then_decline(125)
    s = summarize(series(STEPS, mm, ns), 0.99, 0.01)
    upto = STEPS.index(400) + 1
    then = summarize(series(STEPS[:upto], mm[:upto], ns[:upto]), 0.99, 0.01)
    lost_shift, growth_shift, accuracy_shift = s.horizon_shifts
    assert lost_shift == pytest.approx(s.minimax_decades_lost - then.minimax_decades_lost)
    assert growth_shift == pytest.approx(s.nonsat_growth_after_peak - then.nonsat_growth_after_peak)
    assert accuracy_shift == 0.0  # a constant accuracy did not move
    assert lost_shift == pytest.approx(0.5, abs=0.01)  # a decade per 200 steps, 100 steps on
    assert s.minimax_decades_uncertainty >= lost_shift
    assert s.nonsat_growth_uncertainty >= growth_shift > 0
    (vanishing,) = [f for f in find(s, HEALTH, T) if f.code == FindingCode.VANISHING]
    assert vanishing.margin is not None and vanishing.margin.uncertainty >= lost_shift


def test_the_accuracy_is_a_two_sample_test() -> None:
    # Balanced accuracy on 256 + 256: variance p(1 - p) (1/256 + 1/256) / 4.
    assert accuracy_sd(0.9, 256, 256) == pytest.approx(math.sqrt(0.09 / 512))
    assert c2st_p_value(0.5, 256, 256) == pytest.approx(0.5)
    # 0.55 is 0.05 / (sqrt(2/256)/4) = 2.26 null standard errors above chance.
    assert c2st_p_value(0.55, 256, 256) == pytest.approx(0.5 * math.erfc(2.2627 / 2**0.5), 1e-3)
    low, high = accuracy_interval(1.0, 256, 256)
    assert high == 1.0 and 0.99 < low < 0.995  # Wilson does not collapse at 1; it holds 1
    assert accuracy_interval(0.0, 256, 256)[0] == 0.0
    low, high = accuracy_interval(0.9, 256, 256)
    assert low < 0.9 < high and high - low == pytest.approx(2 * 1.96 * 0.01326, rel=0.05)


def test_a_saturation_warning_near_its_threshold_is_borderline() -> None:
    s = summarize(series(STEPS, [1.0] * len(STEPS), [1.0] * len(STEPS), acc=0.91), 0.99, 0.01,
                  heldout=(256, 256))  # fmt: skip
    (warning,) = [f for f in find(s, HEALTH, T) if f.code == FindingCode.SATURATION]
    assert warning.severity == Severity.WARN and warning.borderline
    assert warning.margin == Margin("final_accuracy", 0.91, 0.9, pytest.approx(0.025, abs=0.001))
    assert warning.to_dict()["borderline"] is True
    far = summarize(series(STEPS, [1.0] * len(STEPS), [1.0] * len(STEPS), acc=0.98), 0.99, 0.01,
                    heldout=(256, 256))  # fmt: skip
    assert not any(f.borderline for f in find(far, HEALTH, T))


BORDERLINE_FAIL = Finding(FindingCode.VANISHING, Severity.FAIL, "m", "r", {},
                          Margin("minimax_decades_lost", 2.05, 2.0, 0.2))  # fmt: skip
FIRM_FAIL = Finding(FindingCode.SATURATION, Severity.FAIL, "m", "r", {},
                    Margin("final_accuracy", 1.0, 0.99, 0.0))  # fmt: skip


def test_borderline_findings_fail_the_gate_only_when_asked() -> None:
    assert not parse_fail_on("fail").matches(BORDERLINE_FAIL)
    assert parse_fail_on("fail").matches(FIRM_FAIL)
    widened = parse_fail_on("fail,borderline")
    assert widened.matches(BORDERLINE_FAIL) and str(widened) == "fail,borderline"
    assert parse_fail_on(str(widened)) == widened


def test_a_verdict_worse_only_through_borderline_findings_is_no_regression() -> None:
    then = BaselineCheckpoint("g.pt", Verdict.WARNING, 500, None, 0.95, 0.1, 1.5, 0.2, (), True)
    baseline = Baseline("base.json", [then], {})

    def outcome(findings: list[Finding]) -> ProbeOutcome:
        return ProbeOutcome(ProbeSeries(), None, HEALTH, findings, Verdict.FAILING, False, "",
                            1.0, 100, 100, 256)  # fmt: skip

    from gandoctor.config import ProbeConfig

    soft = compare([("g.pt", outcome([BORDERLINE_FAIL]))], ProbeConfig(), baseline)
    assert not soft.regressed
    firm = compare([("g.pt", outcome([FIRM_FAIL]))], ProbeConfig(), baseline)
    assert {r.figure for _, r in firm.regressions} == {"verdict", "finding"}


def test_firm_flips_ignore_borderline_findings_only() -> None:
    from gandoctor.judge.verdict import firm_flips

    assert firm_flips([FIRM_FAIL], []) == ["saturation"]
    assert firm_flips([FIRM_FAIL, BORDERLINE_FAIL], [FIRM_FAIL]) == []
    warned = Finding(FindingCode.SATURATION, Severity.WARN, "m", "r")
    assert firm_flips([FIRM_FAIL], [warned]) == ["saturation"]


def test_a_collapse_decided_by_the_duplicate_ratio_states_its_margin() -> None:
    from gandoctor.judge.samples import collapse_drafts
    from gandoctor.results.samples import CollapseStats

    def stats(rate: float) -> CollapseStats:
        return CollapseStats(samples=256, features=64, diversity_ratio=0.9,
                             duplicate_threshold=1.0, duplicate_rate=rate,
                             real_duplicate_rate=0.011, precision=0.5, coverage=0.9)  # fmt: skip

    (near,) = [Finding(*d) for d in collapse_drafts(stats(0.12), T)]
    # 10.9 times the real rate against 10; the real rate rests on 0.011 * 32640 = 359 pairs.
    assert near.severity == Severity.FAIL and near.margin is not None
    assert near.margin.threshold == T.collapse_fail_duplicates
    assert near.margin.uncertainty == pytest.approx(
        Z95 * math.sqrt(1 / (0.12 * 32640) + 1 / (0.011 * 32640)) * 0.12 / 0.011
    )
    assert near.borderline
    (far,) = [Finding(*d) for d in collapse_drafts(stats(0.9), T)]
    assert far.severity == Severity.FAIL and not far.borderline


def test_the_growth_s_margin_includes_where_the_turn_down_could_have_been_read() -> None:
    """Another run crosses the decline's level a measurement sooner or later and reads the
    growth from there: the margin holds the larger of the two moves. The -log D gradient
    rises 0.001 decades per step after step 200 and the measurements around the onset (300)
    are 25 steps apart, so either neighbour moves the growth by 0.025."""
    mm, ns = plateau_then_decline(125)
    s = summarize(series(STEPS, mm, ns), 0.99, 0.01)
    assert s.minimax_decline_step == 300
    assert s.onset_shift == pytest.approx(0.025)
    assert s.nonsat_growth_uncertainty >= math.hypot(s.horizon_shifts[1], s.onset_shift)
    # Where the -log D gradient rises four times as fast across the onset, so does the term.
    steep = [
        n * 10 ** (0.003 * min(max(step - 250, 0), 100)) for n, step in zip(ns, STEPS, strict=True)
    ]
    assert summarize(series(STEPS, mm, steep), 0.99, 0.01).onset_shift == pytest.approx(0.1)

"""Summaries and findings from synthetic series: pure Python, known answers."""

import math

import pytest

from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.judge.gate import parse_fail_on
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.judge.verdict import is_settled, overall
from gandoctor.results.series import GeneratorHealth, ProbeSeries

T = Thresholds()


def healthy_health(**changes):
    values = dict(
        nonfinite_parameters=0,
        nonfinite_output_share=0.0,
        output_spread=0.3,
        real_spread=0.4,
        train_eval_difference=None,
    )
    values.update(changes)
    return GeneratorHealth(**values)


def series(steps, acc, fake, mm, ns):
    s = ProbeSeries()
    for i, step in enumerate(steps):
        s.append(
            step=step,
            heldout_accuracy=acc[i],
            d_loss=1.0,
            d_real=0.5,
            d_fake=fake[i],
            fake_saturated_share=0.0,
            js_lower_bound=0.1,
            minimax_grad_mean=mm[i],
            minimax_grad_std=0.0,
            nonsat_grad_mean=ns[i],
            nonsat_grad_std=ns[i] * 0.01,
        )
    return s


STEPS = [0, 10, 50, 100, 200, 300, 400, 500]
DENSE = [0, 10, 25, *range(50, 501, 25)]


def saturated_series(fall: float = 3.0):
    """Like an untrained generator: D saturates at step 50; the minimax gradient climbs two
    decades to its peak at step 50, then loses ``fall`` by step 500; the -log D gradient
    keeps growing, 6.5-fold after step 50."""
    acc = [0.5 if s < 50 else 1.0 for s in DENSE]
    fake = [0.5 if s < 50 else 0.005 * 50 / s for s in DENSE]
    mm = [1e-3 * 100 ** (s / 50) if s <= 50 else 0.1 * 10 ** (-fall * (s - 50) / 450)
          for s in DENSE]  # fmt: skip
    ns = [1e-3 * 200 ** (s / 50) if s <= 50 else 0.2 * 6.5 ** ((s - 50) / 450) for s in DENSE]
    return series(DENSE, acc, fake, mm, ns)


def test_summary_of_a_saturating_probe():
    s = summarize(saturated_series(), T.saturation_accuracy, T.saturation_fake_prob)
    assert s.steps_run == 500
    assert s.steps_to_saturation == 50
    # The peak's value is the maximum of the running median over three measurements: the
    # value at step 75 (the running median at 75 and 100 alike). Its step is the last
    # measurement within 0.1 decades of that maximum: 100 (at 125 it is 0.17 decades down).
    # The end is the median over the last tenth of the steps (450, 475, 500): the value at
    # step 475, so 3 * 400 / 450 decades below the peak.
    assert s.minimax_grad_peak_step == 100
    assert s.minimax_decades_lost == pytest.approx(3 * 400 / 450)
    # A clean exponential has no noise around its trend: the uncertainty is all horizon
    # shift, the decades lost read at step 400 (= 500 / 1.25; end value at 375) being 100
    # steps of the 3-decade fall fewer.
    assert s.minimax_declined
    assert s.minimax_decades_uncertainty == pytest.approx(3 * 100 / 450)
    assert s.nonsat_decades_gained == pytest.approx(math.log10(0.2 * 6.5 ** (425 / 450) / 1e-3))
    # The minimax gradient turned down (its running median 0.3 decades below the maximum,
    # the value at 75) first at step 150; -log D read there is the median of steps
    # 125-175 (its value at 150), and at the end its value at 475: 325 of the 450 steps of
    # 6.5-fold growth.
    assert s.minimax_decline_step == 150
    assert s.nonsat_growth_after_peak == pytest.approx(math.log10(6.5) * 325 / 450)
    assert s.nonsat_cv_latent == pytest.approx(0.01)


def test_final_figures_are_medians_of_the_last_three_measurements():
    acc = [0.5, 0.6, 0.7, 0.9, 0.95, 0.99, 0.5, 0.98]  # one swing at step 400
    flat = [1.0] * 8
    s = summarize(series(STEPS, acc, [0.5] * 8, flat, flat), 0.99, 0.01)
    assert s.final_accuracy == 0.98


def test_saturation_must_hold_until_the_end():
    acc = [0.5, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 1.0]
    fake = [0.5, 0.001, 0.001, 0.2, 0.001, 0.001, 0.001, 0.001]
    flat = [1.0] * 8
    s = summarize(series(STEPS, acc, fake, flat, flat), 0.99, 0.01)
    assert s.steps_to_saturation == 200  # the relapse at step 100 resets it
    acc[-1] = 0.9
    assert summarize(series(STEPS, acc, fake, flat, flat), 0.99, 0.01).steps_to_saturation is None


def test_detrended_variation_ignores_steady_growth_and_sees_jumps():
    steps = list(range(0, 1001, 100))
    steady = [10 ** (i / 4) for i in range(11)]
    jumpy = [1.0] * 5 + [1.0, 3.0, 0.5, 4.0, 0.7, 2.0]
    flat = [1.0] * 11
    s_steady = summarize(series(steps, flat, flat, flat, steady), 0.99, 0.01)
    s_jumpy = summarize(series(steps, flat, flat, flat, jumpy), 0.99, 0.01)
    assert s_steady.nonsat_cv_steps < 0.01
    assert s_jumpy.nonsat_cv_steps > 0.5


def test_findings_of_a_saturating_probe():
    s = summarize(saturated_series(), T.saturation_accuracy, T.saturation_fake_prob)
    findings = find(s, healthy_health(), T)
    by_code = {f.code: f for f in findings}
    assert by_code[FindingCode.SATURATION].severity == Severity.FAIL
    assert by_code[FindingCode.VANISHING].severity == Severity.FAIL
    assert "2.7 decades" in by_code[FindingCode.VANISHING].message
    assert overall(findings) == Verdict.FAILING
    assert all(f.remedy for f in findings)


def test_a_flat_probe_has_no_findings():
    flat = [1.0] * 8
    s = summarize(series(STEPS, [0.5] * 8, [0.5] * 8, flat, flat), 0.99, 0.01)
    assert find(s, healthy_health(), T) == []
    assert overall([]) == Verdict.HEALTHY


def test_thresholds_move_the_verdict():
    s = summarize(saturated_series(), T.saturation_accuracy, T.saturation_fake_prob)
    strict = Thresholds(vanishing_fail_decades=4.0, vanishing_warn_decades=2.0)
    vanishing = [f for f in find(s, healthy_health(), strict) if f.code == FindingCode.VANISHING]
    assert [f.severity for f in vanishing] == [Severity.WARN]


@pytest.mark.parametrize(
    ("health", "words"),
    [
        (healthy_health(nonfinite_parameters=3), "3 NaN/Inf values"),
        (healthy_health(nonfinite_output_share=0.25), "25.0% of generated values"),
        (healthy_health(output_spread=0.0), "ignores z"),
        (healthy_health(nonfinite_measurement_step=40), "step 40"),
    ],
)
def test_broken_generators(health, words):
    findings = find(None, health, T)
    assert [f.code for f in findings] == [FindingCode.BROKEN]
    assert words in findings[0].message
    assert overall(findings) == Verdict.BROKEN


def test_no_gradient_is_broken():
    zero = [0.0] * 8
    s = summarize(series(STEPS, [0.5] * 8, [0.5] * 8, zero, zero), 0.99, 0.01)
    assert [f.code for f in find(s, healthy_health(), T)] == [FindingCode.BROKEN]


def test_mode_mismatch_is_information_only():
    findings = find(None, healthy_health(train_eval_difference=2.0), T)
    assert [(f.code, f.severity) for f in findings] == [(FindingCode.MODE_MISMATCH, Severity.INFO)]
    assert overall(findings) == Verdict.HEALTHY


def test_settled_only_when_all_signs_hold():
    # A 3-decade fall reads 2.67 decades lost, 2.0 at step 400: within its horizon shift of
    # the fail threshold, so borderline, and a borderline finding does not settle a run.
    borderline = summarize(saturated_series(), T.saturation_accuracy, T.saturation_fake_prob)
    findings = find(borderline, healthy_health(), T)
    assert any(f.code == FindingCode.VANISHING and f.borderline for f in findings)
    assert not is_settled(borderline, findings, settle_steps=50)
    s = summarize(saturated_series(4.0), T.saturation_accuracy, T.saturation_fake_prob)
    findings = find(s, healthy_health(), T)
    assert is_settled(s, findings, settle_steps=50)
    assert not is_settled(s, findings, settle_steps=1000)  # saturated for only 450 steps
    without_exploding = [f for f in findings if f.code != FindingCode.EXPLODING]
    assert not is_settled(s, without_exploding, settle_steps=50)


def test_fail_on_parsing_and_matching():
    s = summarize(saturated_series(), T.saturation_accuracy, T.saturation_fake_prob)
    findings = find(s, healthy_health(train_eval_difference=2.0), T)
    info = next(f for f in findings if f.severity == Severity.INFO)
    fail = next(f for f in findings if f.code == FindingCode.SATURATION)
    assert parse_fail_on("fail").matches(fail) and not parse_fail_on("fail").matches(info)
    assert parse_fail_on("info").matches(info)
    assert not parse_fail_on("none").matches(fail)
    only_vanishing = parse_fail_on("vanishing")
    assert not only_vanishing.matches(fail)
    assert str(parse_fail_on("saturation, warn")) == "saturation,warn"
    with pytest.raises(ConfigError, match="unknown entry 'bogus'"):
        parse_fail_on("bogus")
    with pytest.raises(ConfigError, match="empty"):
        parse_fail_on(" , ")


def test_worst_verdict():
    assert Verdict.worst([Verdict.HEALTHY, Verdict.BROKEN, Verdict.FAILING]) == Verdict.BROKEN
    assert Verdict.worst([]) == Verdict.HEALTHY

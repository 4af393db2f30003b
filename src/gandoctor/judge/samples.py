"""The ``collapse`` finding (analyses.collapse) and D's overfitting note (analyses.overfitting), as
drafts that verdict.find turns into findings. Pure Python: no torch here."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.results.outcome import Margin

if TYPE_CHECKING:
    from gandoctor.results.samples import CollapseStats
    from gandoctor.results.series import Summary

REMEDY_COLLAPSE = (
    "the -log D(G(z)) cost rewards dropping modes (at the optimal D it is KL(Pg||Pr) - "
    "2 JS, a reverse KL that barely penalises missing modes; Arjovsky & Bottou 2017): give "
    "D a view of the whole batch (minibatch discrimination or minibatch std), train with a "
    "WGAN-GP critic, or give D more capacity"
)
REMEDY_OVERFIT = (
    "D tells training images from unseen ones: more real data, augmentation on both of D's "
    "inputs (ADA, DiffAugment), or a smaller or regularised D (R1, dropout)"
)


class Draft(NamedTuple):
    """A finding's fields, in the order of ``results.outcome.Finding``."""

    code: FindingCode
    severity: Severity
    message: str
    remedy: str
    evidence: dict[str, Any]
    margin: Margin | None = None


def sample_drafts(
    summary: Summary | None, collapse: CollapseStats | None, t: Thresholds
) -> list[Draft]:
    """Collapse and overfitting drafts for a generator that is not broken."""
    drafts = []
    if collapse is not None:
        drafts += collapse_drafts(collapse, t)
    if summary is not None:
        drafts += overfitting_drafts(summary, t)
    return drafts


def collapse_drafts(c: CollapseStats, t: Thresholds) -> list[Draft]:
    """Fail on many more near-duplicate pairs than real data hold (few distinct outputs);
    warn on fewer, on a low diversity ratio, or on realistic samples that leave much of the
    real data uncovered (dropped modes).

    Each reason has its margin. The finding's margin is that of the most secure reason at
    the finding's severity (farthest beyond its threshold in units of its uncertainty): the
    finding is borderline only where every reason for it is."""
    reasons: list[tuple[Severity, str, Margin]] = []
    dup = c.duplicate_ratio
    if dup >= min(t.collapse_fail_duplicates, t.collapse_warn_duplicates):
        severity = Severity.FAIL if dup >= t.collapse_fail_duplicates else Severity.WARN
        text = (
            f"{c.duplicate_rate:.1%} of generated pairs are near-duplicates against "
            f"{c.real_duplicate_rate:.1%} of real pairs ({_times(dup)})"
        )
        reasons.append((severity, text, _duplicate_margin(c, t)))
    if c.diversity_ratio < t.collapse_warn_diversity:
        text = f"generated samples lie {c.diversity_ratio:.2f} times as far apart as real ones"
        margin = Margin(
            "diversity_ratio", c.diversity_ratio, t.collapse_warn_diversity,
            c.diversity_uncertainty,
        )  # fmt: skip
        reasons.append((Severity.WARN, text, margin))
    if c.precision >= t.collapse_coverage_precision and c.coverage < t.collapse_warn_coverage:
        text = (
            f"generated samples cover {c.coverage:.0%} of the real ones though "
            f"{c.precision:.0%} of them look real (precision)"
        )
        margin = Margin(
            "coverage", c.coverage, t.collapse_warn_coverage, _binomial(c.coverage, c.samples)
        )
        reasons.append((Severity.WARN, text, margin))
    if not reasons:
        return []
    severity = max((r[0] for r in reasons), key=lambda s: s.rank)
    margin = max((r[2] for r in reasons if r[0] == severity), key=security)
    message = "; ".join(r[1] for r in reasons) + f" ({c.samples} samples each)"
    return [Draft(FindingCode.COLLAPSE, severity, message, REMEDY_COLLAPSE, c.to_dict(), margin)]


def _duplicate_margin(c: CollapseStats, t: Thresholds) -> Margin:
    """The near-duplicate ratio against the threshold nearest to it, with a 95 % half-width
    from the pair counts behind both rates (as Poisson counts: relative error
    sqrt(1/k_generated + 1/k_real); pairs share samples, so this is a lower bound)."""
    pairs = c.samples * (c.samples - 1) / 2
    counts = [rate * pairs for rate in (c.duplicate_rate, c.real_duplicate_rate)]
    relative = math.sqrt(sum(1 / k for k in counts)) if min(counts) > 0 else math.inf
    threshold = min(
        (t.collapse_warn_duplicates, t.collapse_fail_duplicates),
        key=lambda x: abs(c.duplicate_ratio - x),
    )
    uncertainty = Z95 * relative * c.duplicate_ratio if math.isfinite(relative) else 0.0
    return Margin("duplicate_ratio", c.duplicate_ratio, threshold, uncertainty)


def security(m: Margin) -> float:
    """How many uncertainties the figure lies from its threshold (inf with none)."""
    distance = abs(m.value - m.threshold)
    return distance / m.uncertainty if m.uncertainty > 0 else math.inf


def _binomial(share: float, n: int) -> float:
    """95 % half-width of a share of n samples, as a binomial proportion (k-NN balls
    overlap, so neighbouring samples are not independent: a lower bound)."""
    return Z95 * math.sqrt(share * (1 - share) / n) if n > 0 else 0.0


def overfitting_drafts(s: Summary, t: Thresholds) -> list[Draft]:
    """An info note when D is sure of its training samples (r_t high) but scores unseen
    real samples like generated ones (r_v high): it memorised a small data set, and its
    separation says more about the data set than about the generator."""
    r_t, r_v = s.final_overfit_rt, s.final_overfit_rv
    if not (math.isfinite(r_v) and r_v >= t.overfit_rv and r_t >= t.overfit_rt):
        return []
    message = (
        f"the probe D memorises its training samples: it scores {(1 + r_t) / 2:.0%} of them "
        f"as real (r_t = {r_t:.2f}), but unseen real samples {r_v:.2f} of the way from them "
        "to generated ones (r_v)"
    )
    evidence = {"r_t": r_t, "r_v": r_v}
    # Both must hold: the finding stands or falls with the less secure of the two.
    margin = min(
        Margin("overfit_rt", r_t, t.overfit_rt, s.overfit_rt_uncertainty),
        Margin("overfit_rv", r_v, t.overfit_rv, s.overfit_rv_uncertainty),
        key=security,
    )
    return [
        Draft(FindingCode.OVERFITTING, Severity.INFO, message, REMEDY_OVERFIT, evidence, margin)
    ]


def _times(ratio: float) -> str:
    return "every pair" if math.isinf(ratio) else f"{ratio:.1f} times as many"

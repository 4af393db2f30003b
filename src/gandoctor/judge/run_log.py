"""Findings from a training run's own log (runs.logs): ``d_loss_collapse``,
``augment_ceiling`` and ``fid_regressed``, each at one snapshot from what the run logged up
to it; and whether the probe's fresh D and the checkpoint's own D agree with a logged
collapse. Pure Python: the figures come in as numbers. The thresholds and their reasons
are in thresholds.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.judge.samples import security
from gandoctor.results.outcome import Finding, Margin
from gandoctor.thresholds import Thresholds

NVLABS_D_LOSS_CHANCE = 2 * math.log(2)
"""NVlabs' ``Loss/D/loss`` of a D at chance (logit 0 everywhere): softplus(0) + softplus(0)."""
FID_CV = 0.02
"""Coefficient of variation of one FID reading: the spread between training runs of one
recipe, a few per cent of the FID (thresholds.logged_fid_rise)."""

REMEDY_COLLAPSE = (
    "the run's own D told its reals from its fakes almost perfectly at this point, the "
    "logged form of saturation: the minimax gradient through it is a tenth of the -log D one "
    "or less, and r_t says D is sure of its training reals. Pick a snapshot from before the "
    "collapse; give D more to do: more data, ADA with a lower target, a larger R1 gamma, or "
    "start from a pretrained network (transfer learning, as Karras et al. 2020 do)"
)
REMEDY_CEILING = (
    "ADA needed nearly all the augmentation it has to hold D back: the data set is too small "
    "for this D, and above p = 0.8 the augmentations start to leak into the fakes (rotated, "
    "recoloured or cut-out images). Look at the samples for leaked augmentations; use more "
    "data, x-flips (which do not leak), transfer learning, or a stronger R1 penalty"
)
REMEDY_FID = (
    "training has gone past its best snapshot by the run's own FID: use the snapshot with the "
    "lowest FID, and look at this run's D (d_loss_collapse, augment_ceiling, d_dominant) for "
    "why the generator got worse"
)


@dataclass(frozen=True)
class Logged:
    """One figure over one logged tick: NVlabs' ``{"num", "mean", "std"}`` over the tick's
    samples (torch_utils/training_stats.py); a TensorBoard scalar has only the mean."""

    mean: float
    std: float = math.nan
    num: int = 0

    @property
    def half_width(self) -> float:
        """95 % half-width of the mean over the tick's samples; 0 where unknown."""
        if self.num > 1 and math.isfinite(self.std):
            return Z95 * self.std / math.sqrt(self.num)
        return 0.0


@dataclass(frozen=True)
class LoggedAt:
    """What a run logged up to one snapshot, as the findings read it."""

    at: str
    """Where, in the log's words: ``kimg 4000.1`` or ``step 1200``."""
    d_loss: Logged | None
    r_t: Logged | None
    augment_p: tuple[float, ...] = ()
    """ADA's p at each tick up to the snapshot, in training order."""
    fids: tuple[tuple[str, float], ...] = ()
    """(where, FID) for each evaluation up to the snapshot, in training order."""
    fid_metric: str | None = None
    d_loss_chance: float | None = None
    """The logged D loss of a D at chance; None where the loss's definition is unknown."""
    ada: bool = False
    """Whether ADA adjusted p (training_options.json has an ``ada_target``)."""


def logged_findings(logged: LoggedAt, t: Thresholds) -> list[Finding]:
    """The run-log findings at one snapshot."""
    return [*_collapse(logged, t), *_ceiling(logged, t), *_fid(logged, t)]


def _finite(value: Logged | None) -> bool:
    return value is not None and math.isfinite(value.mean)


def _collapse(x: LoggedAt, t: Thresholds) -> list[Finding]:
    """``d_loss_collapse`` where the logged D loss is at most ``logged_d_loss_collapse``, r_t
    at least ``logged_rt_collapse`` and, where ADA adjusts p, p at ``logged_augment_ceiling``
    or more: ADA has nothing left to hold D back with. Only a loss whose chance level is
    known is judged: the threshold is NVlabs' (chance 2 ln 2)."""
    if x.d_loss_chance is None or not (_finite(x.d_loss) and _finite(x.r_t)):
        return []
    d, r = x.d_loss, x.r_t
    assert d is not None and r is not None
    limit = t.logged_d_loss_collapse
    p = x.augment_p[-1] if x.augment_p else math.nan
    if d.mean > limit or r.mean < t.logged_rt_collapse:
        return []
    if x.ada and not p >= t.logged_augment_ceiling:
        return []  # ADA is still raising p: it has room left to hold D back
    margins = [
        Margin("logged_d_loss", d.mean, limit, d.half_width),
        Margin("logged_r_t", r.mean, t.logged_rt_collapse, r.half_width),
    ]
    if x.ada:
        margins.append(Margin("logged_augment_p", p, t.logged_augment_ceiling, 0.0))
    ada = f" and ADA's p at {p:.2f}, its ceiling" if x.ada else " (ADA off: p not adjusted)"
    message = (
        f"at {x.at} the run logged a D loss of {d.mean:.3f} (chance {x.d_loss_chance:.3f}; "
        f"collapsed at or below {limit:.3f}) with r_t = {r.mean:.2f}{ada}"
    )
    evidence = {"d_loss": d.mean, "r_t": r.mean, "augment_p": p if x.ada else None,
                "at": x.at}  # fmt: skip
    # All must hold: the finding stands or falls with the least secure.
    return [Finding(FindingCode.D_LOSS_COLLAPSE, Severity.WARN, message, REMEDY_COLLAPSE,
                    evidence, min(margins, key=security))]  # fmt: skip


def _ceiling(x: LoggedAt, t: Thresholds) -> list[Finding]:
    """``augment_ceiling`` where p stood at ``logged_augment_ceiling`` or above at each of
    the last ``logged_augment_ceiling_ticks`` ticks up to the snapshot."""
    held = 0
    for p in reversed(x.augment_p):
        if not p >= t.logged_augment_ceiling:
            break
        held += 1
    need = max(math.ceil(t.logged_augment_ceiling_ticks), 1)
    if held < need:
        return []
    lowest = min(x.augment_p[-held:])
    now = x.augment_p[-1]
    always = " (at 1 or more every augmentation is applied to every image)" if now >= 1 else ""
    message = (
        f"ADA's augmentation probability p stood at {t.logged_augment_ceiling:.2f} or above "
        f"for the last {held} logged ticks up to {x.at} (lowest {lowest:.3f}, now "
        f"{now:.3f}){always}"
    )
    margin = Margin("logged_augment_p_lowest", lowest, t.logged_augment_ceiling, 0.0)
    evidence = {"ticks": held, "lowest": lowest, "augment_p": now, "at": x.at}
    return [Finding(FindingCode.AUGMENT_CEILING, Severity.WARN, message, REMEDY_CEILING,
                    evidence, margin)]  # fmt: skip


def _fid(x: LoggedAt, t: Thresholds) -> list[Finding]:
    """``fid_regressed`` where the logged FID rose at each of the last
    ``logged_fid_rises`` evaluations or more, by ``logged_fid_rise`` or more in all."""
    fids = [(where, v) for where, v in x.fids if math.isfinite(v) and v > 0]
    rises = 0
    while rises + 1 < len(fids) and fids[-rises - 1][1] > fids[-rises - 2][1]:
        rises += 1
    if rises < max(math.ceil(t.logged_fid_rises), 1):
        return []
    (start_at, start), (end_at, end) = fids[-rises - 1], fids[-1]
    rise = end / start - 1
    if rise < t.logged_fid_rise:
        return []
    # Each reading with relative sd FID_CV: their ratio's, in quadrature, scaled to it.
    uncertainty = Z95 * math.sqrt(2) * FID_CV * (1 + rise)
    margin = Margin("logged_fid_rise", rise, t.logged_fid_rise, uncertainty)
    metric = f" ({x.fid_metric})" if x.fid_metric else ""
    message = (
        f"the logged FID{metric} rose at each of the last {rises} evaluations, from "
        f"{start:.2f} at {start_at} to {end:.2f} at {end_at} (+{rise:.0%})"
    )
    evidence = {"rises": rises, "from": start, "to": end, "rise": rise, "at": x.at}
    return [Finding(FindingCode.FID_REGRESSED, Severity.WARN, message, REMEDY_FID, evidence,
                    margin)]  # fmt: skip


@dataclass(frozen=True)
class Agreement:
    """Whether the probe's fresh D and the checkpoint's own D see what the log shows."""

    fresh_d: bool
    """The probe's fresh D separates this snapshot's fakes (a saturation finding)."""
    own_d: bool | None
    """The checkpoint's own D dominates its G (d_dominant); None where it was not measured."""
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"fresh_d": self.fresh_d, "own_d": self.own_d, "text": self.text}


def collapse_agreement(
    logged: Finding, findings: Sequence[Finding], own_d_measured: bool
) -> Agreement:
    """What the probe says about a logged ``d_loss_collapse``: the fresh D's saturation
    finding, the own D's ``d_dominant``, and what follows from the two."""
    if logged.code != FindingCode.D_LOSS_COLLAPSE:
        raise ValueError(f"expected a d_loss_collapse finding, got {logged.code}")
    saturation = next((f for f in findings if f.code == FindingCode.SATURATION), None)
    fresh = saturation is not None
    own = any(f.code == FindingCode.D_DOMINANT for f in findings) if own_d_measured else None
    parts = [
        (
            f"the probe's fresh D separates this snapshot's fakes from held-out reals too "
            f"(saturation, {saturation.severity})"
            if saturation is not None
            else "the probe's fresh D does not separate this snapshot's fakes from held-out "
            "reals (no saturation finding)"
        ),
        {
            True: "the checkpoint's own D dominates its generator on held-out data (d_dominant)",
            False: "the checkpoint's own D does not dominate its generator on held-out data",
            None: "the checkpoint's own D was not measured",
        }[own],
    ]
    if fresh and own:
        verdict = "the log, the fresh D and the own D agree: D has won against this generator"
    elif fresh:
        verdict = (
            "the fakes are easy to tell apart, as the log says"
            + ("; the saved D scores held-out data less surely than its training batches"
               if own is False else "")
        )  # fmt: skip
    elif own:
        verdict = (
            "the saved D wins, but a fresh one cannot: the own D's win is its own (reals it "
            "memorised, or this generator's quirks it learned), not fakes that are easy to tell"
        )
    else:
        verdict = (
            "the collapse is not the fakes being easy to tell apart: the run's D memorised its "
            "training reals (D overfitting), which more data or augmentation addresses"
        )
    return Agreement(fresh, own, "; ".join(parts) + ": " + verdict)

"""Does a discriminator score the reals it trained on above reals it never saw? ADA's
heuristics r_t and r_v (Karras et al., 2020) on raw logits, and the AUC of training reals
over unseen ones, each with a 95 % half-width so a finding built on them states its margin.

"Training reals" are the samples of ``--data`` (the data the GAN trained on); "unseen" are
``--val-data`` where given, else the probe's held-out split, which the GAN also trained on:
then r_v and the AUC measure nothing about the GAN's D and are reported as such."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gandoctor.analyses.overfitting import heuristics
from gandoctor.judge.c2st import Z95


@dataclass(frozen=True)
class Memorisation:
    r_t: float
    r_t_uncertainty: float
    r_v: float
    """NaN where D does not score training reals significantly above fakes."""
    r_v_uncertainty: float
    auc: float
    """P(D(training real) > D(unseen real)), ties counting half: 0.5 where D cannot tell
    them apart, 1 where every training real outscores every unseen one."""
    auc_uncertainty: float


def memorisation(train: torch.Tensor, unseen: torch.Tensor, fake: torch.Tensor) -> Memorisation:
    """The figures from D's logits on training reals, unseen reals and fakes."""
    train, unseen, fake = (t.detach().double().flatten().cpu() for t in (train, unseen, fake))
    r_t, r_v = heuristics(train, unseen, fake)
    signs = torch.sign(train)
    r_t_half = Z95 * float(signs.std()) / math.sqrt(len(train)) if len(train) > 1 else math.inf
    auc = _auc(train, unseen)
    return Memorisation(r_t, r_t_half, r_v, _r_v_half(train, unseen, fake), auc,
                        Z95 * _auc_se(auc, len(train), len(unseen)))  # fmt: skip


def _auc(a: torch.Tensor, b: torch.Tensor) -> float:
    """The Mann-Whitney statistic U / (n_a n_b) from the ranks of the pooled samples."""
    pooled = torch.cat([a, b])
    ranks = _average_ranks(pooled)
    u = float(ranks[: len(a)].sum()) - len(a) * (len(a) + 1) / 2
    return u / (len(a) * len(b))


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n, tied values sharing their mean rank."""
    order = torch.argsort(x, stable=True)
    ranks = torch.empty_like(x)
    ranks[order] = torch.arange(1, len(x) + 1, dtype=x.dtype)
    values, inverse = torch.unique(x, return_inverse=True)
    sums = torch.zeros(len(values), dtype=x.dtype).index_add_(0, inverse, ranks)
    counts = torch.zeros(len(values), dtype=x.dtype).index_add_(0, inverse, torch.ones_like(x))
    return (sums / counts)[inverse]


def _auc_se(auc: float, n_a: int, n_b: int) -> float:
    """Hanley & McNeil's (1982) standard error of an AUC from n_a and n_b samples."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = auc * (1 - auc) + (n_a - 1) * (q1 - auc * auc) + (n_b - 1) * (q2 - auc * auc)
    return math.sqrt(max(variance, 0.0) / (n_a * n_b))


def _r_v_half(train: torch.Tensor, unseen: torch.Tensor, fake: torch.Tensor) -> float:
    """95 % half-width of r_v = (a - b) / (a - c) of three independent means a, b, c, to first
    order (the delta method); inf where r_v is undefined."""
    a, b, c = (float(t.mean()) for t in (train, unseen, fake))
    if a - c <= 0:
        return math.inf
    var_a, var_b, var_c = (float(t.var()) / len(t) if len(t) > 1 else math.inf
                           for t in (train, unseen, fake))  # fmt: skip
    d_a, d_b, d_c = (b - c) / (a - c) ** 2, -1 / (a - c), (a - b) / (a - c) ** 2
    return Z95 * math.sqrt(d_a**2 * var_a + d_b**2 * var_b + d_c**2 * var_c)

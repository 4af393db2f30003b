"""Sample figures: diversity of generated samples against held-out real ones
(computed by analyses.collapse; judged by judge.samples)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

K_NEIGHBOURS = 5
"""k of the k-NN balls, as recommended by Naeem et al. 2020: with k = 5, two samples of the
same distribution give an expected coverage of 1 - 1/2^5 = 0.97."""


@dataclass(frozen=True)
class CollapseStats:
    """Diversity of generated samples against real ones (see the module docstring)."""

    samples: int
    """n: real and generated samples compared, each."""
    features: int
    """Dimensions of the feature space (pooled pixels)."""
    diversity_ratio: float
    duplicate_threshold: float
    """tau: the distance below which a pair counts as a near-duplicate."""
    duplicate_rate: float
    """Share of generated pairs closer than tau."""
    real_duplicate_rate: float
    """Share of held-out real pairs closer than tau (about 1 %)."""
    precision: float
    coverage: float
    k: int = K_NEIGHBOURS
    diversity_uncertainty: float = 0.0
    """95 % half-width of diversity_ratio (analyses.collapse.diversity_ratio)."""

    @property
    def duplicate_ratio(self) -> float:
        """How many times more near-duplicate pairs generated samples hold than real ones."""
        if self.real_duplicate_rate > 0:
            return self.duplicate_rate / self.real_duplicate_rate
        return math.inf if self.duplicate_rate > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "duplicate_ratio": self.duplicate_ratio}

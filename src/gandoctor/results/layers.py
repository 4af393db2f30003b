"""Per-layer gradient norms (``--layers``), as records: recorded by analyses.layers, read
like the global figures (results.readings)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gandoctor.results.readings import decades, median_at, trailing_median

COSTS = ("minimax", "nonsat")
"""The two generator costs: E[log(1 - D(G(z)))] and E[-log D(G(z))]."""


ROOT = "(root)"
"""Name shown for parameters registered on the generator itself rather than a submodule."""


@dataclass(frozen=True)
class LayerGradient:
    """One layer's gradient norms under both costs over the probe."""

    name: str
    """The owning module's name, as in ``named_modules()``: ``main.0``."""
    kind: str
    """The owning module's class: ``ConvTranspose2d``."""
    parameters: int
    """Parameter elements the layer owns."""
    minimax: list[float]
    """Minimax gradient norm at each measurement (mean over the K latent batches)."""
    nonsat: list[float]
    """-log D gradient norm at each measurement."""
    peak_index: int
    """Measurement at which the global minimax gradient peaked (smoothed)."""
    end: tuple[int, ...] = ()
    """Measurements the end values are the median of: the global end window
    (results.readings.end_indexes of the run's steps); the last one when empty."""

    # Read as the global figures are (judge.summarise): the running median at the global
    # peak's measurement, and the median over the end window. The peak is the global one,
    # so that a layer's "lost" says how much of the global fall happened in that layer.

    @property
    def minimax_start(self) -> float:
        return self.minimax[0]

    @property
    def minimax_peak(self) -> float:
        return trailing_median(self.minimax)[self.peak_index]

    @property
    def minimax_end(self) -> float:
        return median_at(self.minimax, self._end)

    @property
    def minimax_decades_lost(self) -> float:
        """log10(peak / end), as the global figure; NaN where either is 0 (a dead layer)."""
        return _decades_or_nan(self.minimax_peak, self.minimax_end)

    @property
    def nonsat_start(self) -> float:
        return self.nonsat[0]

    @property
    def nonsat_end(self) -> float:
        return median_at(self.nonsat, self._end)

    @property
    def _end(self) -> list[int]:
        return list(self.end) or [len(self.minimax) - 1]

    @property
    def nonsat_decades_gained(self) -> float:
        """log10(end / start), as the global figure; NaN where either is 0."""
        return _decades_or_nan(self.nonsat_end, self.nonsat_start)

    @property
    def dead(self) -> bool:
        """No gradient at any measurement under either cost: nothing reaches these weights."""
        return all(v == 0 for v in self.minimax + self.nonsat)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.name,
            "type": self.kind,
            "parameters": self.parameters,
            "minimax_start": self.minimax_start,
            "minimax_peak": self.minimax_peak,
            "minimax_end": self.minimax_end,
            "minimax_decades_lost": self.minimax_decades_lost,
            "nonsat_start": self.nonsat_start,
            "nonsat_end": self.nonsat_end,
            "nonsat_decades_gained": self.nonsat_decades_gained,
            "dead": self.dead,
            "minimax_series": list(self.minimax),
            "nonsat_series": list(self.nonsat),
        }


@dataclass(frozen=True)
class LayerGradients:
    """Every layer's gradients, measured at the steps in ``steps``."""

    steps: list[int]
    peak_step: int
    """Step at which the global minimax gradient peaked (the "peak" column)."""
    layers: list[LayerGradient]

    def to_list(self) -> list[dict[str, Any]]:
        """The JSON form: one entry per layer, each naming the steps it summarises."""
        end = self.layers[0].end if self.layers and self.layers[0].end else (-1,)
        span = {"start_step": self.steps[0], "peak_step": self.peak_step,
                "end_from_step": self.steps[end[0]], "end_step": self.steps[-1]}  # fmt: skip
        return [{**layer.to_dict(), **span} for layer in self.layers]


def _decades_or_nan(numerator: float, denominator: float) -> float:
    ok = all(math.isfinite(v) and v > 0 for v in (numerator, denominator))
    return decades(numerator, denominator) if ok else math.nan

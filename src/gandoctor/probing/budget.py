"""A probe's time budget (``--max-seconds``): whether the next D step still fits.

The probe loop asks before each D step. The answer keeps room for one more measurement
after that step, so a probe that runs out of time still ends on a fresh measurement and
finishes within its budget: the step and measurement costs are the slowest of the last few
seen, so a run's own pace sets the margin.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from gandoctor.config import ProbeConfig

_WINDOW = 8
"""Recent durations kept per kind: enough to see a slow step, few enough to follow the
pace once caches are warm."""


class TimeBudget:
    """The deadline of one probe and the recent cost of its D steps and measurements.

    ``spent``: seconds of the budget already used (the probe's set-up); ``clock``: where
    the time comes from, so that a test can drive the budget with a clock of its own."""

    def __init__(self, max_seconds: float | None, spent: float = 0.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:  # fmt: skip
        self.max_seconds = max_seconds
        self.clock, self.spent = clock, spent
        self.start = clock() - spent
        self.last_end = self.start + spent
        """When the last timed step or measurement ended."""
        self._steps: deque[float] = deque(maxlen=_WINDOW)
        self._measurements: deque[float] = deque(maxlen=_WINDOW)

    @contextmanager
    def step(self) -> Iterator[None]:
        """Time one D step."""
        with self._timed(self._steps):
            yield

    @contextmanager
    def measurement(self) -> Iterator[None]:
        """Time one measurement."""
        with self._timed(self._measurements):
            yield

    def exhausted(self, measure_first: bool) -> bool:
        """True when one more D step and a measurement after it would pass the deadline;
        ``measure_first``: a measurement is due before that step."""
        if self.max_seconds is None:
            return False
        step = max(self._steps, default=0.0)
        measure = max(self._measurements, default=0.0)
        needed = step + measure * (2 if measure_first else 1)
        return self.clock() + needed > self.start + self.max_seconds

    @property
    def last_step(self) -> float:
        """Seconds of the last D step timed (0 before any)."""
        return self._steps[-1] if self._steps else 0.0

    @property
    def last_measurement(self) -> float:
        return self._measurements[-1] if self._measurements else 0.0

    def stop_reason(self, step: int, total: int) -> str:
        return f"stopped at step {step} of {total}: the time budget (--max-seconds) ran out"

    @contextmanager
    def _timed(self, durations: deque[float]) -> Iterator[None]:
        began = self.clock()
        try:
            yield
        finally:
            self.last_end = self.clock()
            durations.append(self.last_end - began)


def share_budget(config: ProbeConfig, started: float, runs_left: int) -> ProbeConfig:
    """``config`` with the time left of a run's budget shared among ``runs_left`` probes:
    one that stops early leaves its time to the next. A probe whose share is used up still
    takes its step-0 measurement and stops there."""
    if config.max_seconds is None:
        return config
    left = config.max_seconds - (time.perf_counter() - started)
    return replace(config, max_seconds=max(left / max(runs_left, 1), _LEAST))


_LEAST = 1e-6
"""A share is never 0 seconds: ProbeConfig takes only positive budgets."""

"""A training run's own logs, read back on the axis its snapshots are named by: kimg for
NVlabs runs, the global step for the others.

What the packages write, as their code writes it:

- NVlabs ``stats.jsonl`` (stylegan2-ada-pytorch and stylegan3, training/training_loop.py):
  once per tick, ``json.dumps`` of torch_utils/training_stats.Collector.as_dict() with
  ``timestamp`` added, one line, flushed. Each statistic is ``{"num", "mean", "std"}`` over
  the tick's samples (NaN, written as the bare word, where none came). The ones read here:
  ``Loss/D/loss`` (softplus(D(fake)) + softplus(-D(real)) per sample, training/loss.py),
  ``Loss/G/loss``, ``Loss/signs/real`` (ADA's r_t), ``Progress/augment`` (p),
  ``Loss/r1_penalty``, ``Progress/kimg`` and ``Progress/tick``. A run still training may end
  in a cut line; it is skipped, with a note.
- NVlabs ``metric-<metric>.jsonl`` (metrics/metric_main.report_metric): one line per
  evaluated snapshot, ``{"results": {"fid50k_full": ...}, "metric", "total_time",
  "total_time_str", "num_gpus", "snapshot_pkl", "timestamp"}``; ``snapshot_pkl`` is the
  snapshot's name relative to the run folder, so a FID belongs to the snapshot it names.
- TensorBoard event files (Lightning's TensorBoardLogger), through tbparse: runs.tensorboard.

The NVlabs files are read by runs.nvlabs_logs, the event files by runs.tensorboard, either
by runs.attach.read_run_log; this module holds what they read into.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gandoctor.judge.run_log import Logged, LoggedAt
from gandoctor.runs.folders import Snapshot

NVLABS_KEYS = {
    "d_loss": "Loss/D/loss",
    "g_loss": "Loss/G/loss",
    "r_t": "Loss/signs/real",
    "augment_p": "Progress/augment",
    "r1_penalty": "Loss/r1_penalty",
    "tick": "Progress/tick",
}
"""The figures read from stats.jsonl, by the names the report gives them."""
NVLABS_KIMG = "Progress/kimg"
FIGURES = ("d_loss", "g_loss", "r_t", "augment_p", "r1_penalty")
"""What ``around`` reports for a snapshot, beside where it read and the FID."""
FID_ORDER = ("fid50k_full", "fid50k", "fid10k_full", "fid10k")
"""Which FID a run's metric files give, where they hold more than one: the paper's first."""
_EPS = 1e-6


@dataclass(frozen=True)
class Series:
    """One logged figure over training, positions ascending."""

    name: str
    tag: str
    """The key or tag as logged (``Loss/D/loss``, ``d_loss_step``)."""
    position: tuple[float, ...]
    readings: tuple[Logged, ...]

    def index_at(self, x: float, by_name: bool) -> int | None:
        """The last reading at or before ``x``. ``by_name``: NVlabs names a snapshot by
        floor(kimg) at the tick that wrote it (network-snapshot-<cur_nimg // 1000>), so a
        tick at kimg 4000.128 is the one at snapshot 4000."""
        keys = [math.floor(p + _EPS) for p in self.position] if by_name else self.position
        i = bisect.bisect_right(keys, x + (0 if by_name else _EPS)) - 1
        return i if i >= 0 else None


@dataclass(frozen=True)
class FidLine:
    """One FID evaluation: where it was made, and of which snapshot where the log says."""

    value: float
    position: float | None
    snapshot: str | None = None


@dataclass(frozen=True)
class RunLog:
    """What a run logged, on one position axis."""

    format: str
    """``nvlabs`` (stats.jsonl, metric-*.jsonl) or ``tensorboard``."""
    axis: str
    """``kimg`` or ``step``."""
    files: tuple[str, ...]
    series: dict[str, Series]
    fids: tuple[FidLine, ...] = ()
    fid_metric: str | None = None
    d_loss_chance: float | None = None
    """The logged D loss of a D at chance: 2 ln 2 for NVlabs' loss; None where the loss is
    the user's own (TensorBoard tags), whose definition is unknown."""
    ada: bool = False
    """ADA adjusted p: an ``ada_target`` in the options, or a logged p that moved."""
    notes: tuple[str, ...] = field(default=())
    """What was skipped while reading (cut or broken lines, lines without a position)."""

    def position_of(self, snapshot: Snapshot) -> float | None:
        """Where ``snapshot`` lies on this log's axis; None where its name does not say (a
        Lightning ``last.ckpt``). A Lightning name with only the epoch is placed at the last
        step logged in that epoch (Lightning logs ``epoch`` against the step)."""
        if self.axis == "kimg":
            return snapshot.kimg
        if snapshot.step is not None:
            return float(snapshot.step)
        epochs = self.series.get("epoch")
        if snapshot.epoch is None or epochs is None:
            return None
        steps = [p for p, r in zip(epochs.position, epochs.readings, strict=True)
                 if r.mean <= snapshot.epoch + _EPS]  # fmt: skip
        return max(steps) if steps else None

    def reading(self, name: str, x: float) -> tuple[float, Logged] | None:
        series = self.series.get(name)
        if series is None:
            return None
        i = series.index_at(x, by_name=self.axis == "kimg")
        return None if i is None else (series.position[i], series.readings[i])

    def fid_history(self, snapshot: Snapshot, x: float) -> list[tuple[float, FidLine]]:
        """(position, evaluation) up to the snapshot, in training order; for NVlabs the
        evaluations of snapshots up to this one, by the names their lines give."""
        lines = [(f.position, f) for f in self.fids if f.position is not None]
        limit = x + _EPS
        return sorted(((p, f) for p, f in lines if p <= limit), key=lambda pf: pf[0])

    def fid_of(self, snapshot: Snapshot, x: float) -> tuple[float, FidLine] | None:
        """The FID of this snapshot: the line naming it (NVlabs), else the last at or
        before it."""
        name = Path(snapshot.path).name
        named = [f for f in self.fids if f.snapshot is not None]
        if named:
            line = next((f for f in named if f.snapshot == name), None)
            return None if line is None or line.position is None else (line.position, line)
        history = self.fid_history(snapshot, x)
        return history[-1] if history else None

    def around(self, snapshot: Snapshot) -> dict[str, Any] | None:
        """What the run logged at ``snapshot``: each figure at the last tick at or before it
        (None where that tick has none), where that was, and the snapshot's FID. None where
        the snapshot cannot be placed on the log's axis or the log holds nothing before."""
        x = self.position_of(snapshot)
        if x is None:
            return None
        read = {name: self.reading(name, x) for name in (*FIGURES, "tick")}
        where = [r[0] for r in read.values() if r is not None]
        fid = self.fid_of(snapshot, x)
        if not where and fid is None:
            return None
        at = max(where) if where else None
        tick = read["tick"]
        return {
            "format": self.format,
            "files": [Path(f).name for f in self.files],
            "axis": self.axis,
            "kimg": at if self.axis == "kimg" else None,
            "step": int(at) if self.axis == "step" and at is not None else None,
            "tick": int(tick[1].mean) if tick and math.isfinite(tick[1].mean) else None,
            **{name: _value(read[name]) for name in FIGURES},
            "fid": fid[1].value if fid is not None and math.isfinite(fid[1].value) else None,
            "fid_metric": self.fid_metric if fid is not None else None,
            "fid_at": fid[0] if fid is not None else None,
        }

    def logged_at(self, snapshot: Snapshot) -> LoggedAt | None:
        """What the run-log findings (judge.run_log) read at ``snapshot``."""
        x = self.position_of(snapshot)
        if x is None:
            return None
        d, r = self.reading("d_loss", x), self.reading("r_t", x)
        series = self.series.get("augment_p")
        i = series.index_at(x, self.axis == "kimg") if series is not None else None
        p = series.readings[: i + 1] if series is not None and i is not None else ()
        fids = tuple((self.where(pos), f.value) for pos, f in self.fid_history(snapshot, x))
        at = max((v[0] for v in (d, r) if v is not None), default=x)
        return LoggedAt(self.where(at), d[1] if d else None, r[1] if r else None,
                        tuple(v.mean for v in p), fids, self.fid_metric, self.d_loss_chance,
                        self.ada)  # fmt: skip

    def where(self, x: float) -> str:
        return f"kimg {x:g}" if self.axis == "kimg" else f"step {int(x)}"

    def curves(self, root: str, probed: list[float]) -> dict[str, Any]:
        """The logged curves for the plot (report.plots), and where the probed snapshots
        lie on the axis. Plain data: the report does not depend on this module."""
        return {
            "root": root,
            "axis": self.axis,
            "d_loss_chance": self.d_loss_chance,
            "series": {
                name: {"tag": s.tag, "x": list(s.position), "y": [r.mean for r in s.readings]}
                for name, s in self.series.items()
                if name in FIGURES
            },
            "fid": {
                "metric": self.fid_metric,
                "x": [f.position for f in self.fids if f.position is not None],
                "y": [f.value for f in self.fids if f.position is not None],
            },
            "probed": probed,
        }


def _value(read: tuple[float, Logged] | None) -> float | None:
    return read[1].mean if read is not None and math.isfinite(read[1].mean) else None

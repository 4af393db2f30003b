"""Training-run logs made the way the packages write them, for the tests of runs.logs.

Each maker mirrors one writer (read in the packages' sources, not copied):

- ``stats_line`` / ``write_stats``: NVlabs stylegan2-ada-pytorch ``training/training_loop.py``
  (the "Update logs" step of ``training_loop``): once per tick
  ``json.dumps(dict(stats_collector.as_dict(), timestamp=time.time())) + '\\n'``, written
  and flushed. ``torch_utils/training_stats.py`` ``Collector.as_dict`` gives every statistic
  as ``{"num", "mean", "std"}`` over the tick; a statistic with no scalars this tick has
  ``num`` 0 and NaN for both (json.dumps writes the bare word ``NaN``); ``report0`` values
  (``Progress/kimg``, ``Progress/tick``, ``Progress/augment``, ``Timing/...``) are one
  scalar, ``std`` 0. ``Loss/D/loss`` is reported per sample in ``training/loss.py``
  (``StyleGAN2Loss.accumulate_gradients``), ``Loss/signs/real`` is sign(D(real)). A run
  killed mid-write leaves a last line without its end: ``cut_last``.
- ``write_metric``: NVlabs ``metrics/metric_main.py`` ``report_metric``: appends
  ``json.dumps(dict(result_dict, snapshot_pkl=<relative to run_dir>, timestamp=...))`` to
  ``metric-<metric>.jsonl``, where ``result_dict`` is what ``calc_metric`` returns:
  ``results`` (``{"fid50k_full": fid}``), ``metric``, ``total_time``, ``total_time_str``
  (dnnlib.util.format_time) and ``num_gpus``.
- ``write_snapshots``: the snapshot names of ``training_loop``
  (``network-snapshot-{cur_nimg // 1000:06d}.pkl``); empty files, as the log tests never
  load them.
- ``write_events``: PyTorch Lightning's ``TensorBoardLogger.log_metrics``
  (``lightning/pytorch/loggers/tensorboard.py``), which calls
  ``SummaryWriter.add_scalar(tag, value, step)`` of ``torch.utils.tensorboard`` with the
  trainer's global step, in ``lightning_logs/version_<N>/``; ``hparams.yaml`` beside it and
  ``checkpoints/epoch=<e>-step=<s>.ckpt`` as ``ModelCheckpoint`` names them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

KIMG_PER_TICK = 4
"""training_loop's default ``kimg_per_tick``."""
BATCH = 32


def stat(mean: float, std: float = 0.0, num: int = 1) -> dict[str, float]:
    """One statistic as ``Collector.as_dict`` gives it."""
    return {"num": num, "mean": mean, "std": std}


NO_SCALARS = {"num": 0, "mean": math.nan, "std": math.nan}
"""A statistic that got no scalars this tick."""


def stats_line(
    tick: int,
    kimg: float,
    d_loss: float,
    r_t: float,
    p: float,
    g_loss: float = 1.0,
    r1: float | None = 0.05,
    reals: int = KIMG_PER_TICK * 1000,
    timestamp: float = 1.7e9,
) -> dict[str, Any]:
    """One tick's line: the statistics training_loop and StyleGAN2Loss report, in
    ``Collector.as_dict``'s (sorted) order, and the timestamp. ``reals``: the real images of
    the tick, each reporting one D loss and one sign."""
    stats = {
        "Loss/D/loss": stat(d_loss, 0.3, reals),
        "Loss/D/reg": stat(0.1, 0.01, reals // 16),
        "Loss/G/loss": stat(g_loss, 0.4, reals),
        "Loss/pl_penalty": stat(0.2, 0.05, reals // 4),
        "Loss/r1_penalty": stat(r1, 0.02, reals // 16) if r1 is not None else NO_SCALARS,
        "Loss/scores/fake": stat(-1.0, 1.0, 2 * reals),
        "Loss/scores/real": stat(1.0, 1.0, reals),
        "Loss/signs/fake": stat(-0.5, 0.8, 2 * reals),
        "Loss/signs/real": stat(r_t, math.sqrt(max(1 - r_t * r_t, 0.0)), reals),
        "Progress/augment": stat(p),
        "Progress/kimg": stat(kimg),
        "Progress/tick": stat(float(tick)),
        "Resources/cpu_mem_gb": stat(3.2),
        "Timing/total_sec": stat(60.0 * tick),
    }
    return dict(stats, timestamp=timestamp + 60 * tick)


def tick_kimg(tick: int) -> float:
    """Progress/kimg at the end of ``tick`` (cur_nimg / 1e3): training_loop ends tick 0
    after the first batch, and each later one once kimg_per_tick more images were shown
    (4000 images, a whole number of batches of 32)."""
    return (BATCH + tick * KIMG_PER_TICK * 1000) / 1e3


def write_stats(run: Path, lines: Iterable[dict[str, Any]], cut_last: bool = False) -> Path:
    """stats.jsonl, one ``json.dumps(fields) + '\\n'`` per tick, flushed as it goes; with
    ``cut_last`` the last line stops half-way, as when the run is killed mid-write."""
    path = run / "stats.jsonl"
    texts = [json.dumps(line) + "\n" for line in lines]
    if cut_last:
        texts[-1] = texts[-1][: len(texts[-1]) // 2]
    with open(path, "w") as f:
        for text in texts:
            f.write(text)
            f.flush()
    return path


def snapshot_name(kimg: float) -> str:
    """training_loop's name: the kimg at the snapshot's tick, cur_nimg // 1000."""
    return f"network-snapshot-{round(kimg * 1000) // 1000:06d}.pkl"


def write_snapshots(run: Path, kimgs: Sequence[float]) -> list[Path]:
    paths = [run / snapshot_name(k) for k in kimgs]
    for path in paths:
        path.write_bytes(b"")
    return paths


def write_metric(run: Path, fids: Sequence[tuple[float, float]], metric: str = "fid50k_full"
                 ) -> Path:  # fmt: skip
    """metric-<metric>.jsonl: one line per (snapshot kimg, FID), appended as report_metric
    does, snapshot_pkl relative to the run folder."""
    path = run / f"metric-{metric}.jsonl"
    for kimg, fid in fids:
        result = {"results": {metric: fid}, "metric": metric, "total_time": 62.5,
                  "total_time_str": "1m 02s", "num_gpus": 1}  # fmt: skip
        snapshot = os.path.relpath(run / snapshot_name(kimg), run)
        line = json.dumps(dict(result, snapshot_pkl=snapshot, timestamp=1.7e9 + kimg))
        with open(path, "a") as f:
            f.write(line + "\n")
    return path


def write_options(run: Path, ada: bool = True) -> Path:
    """training_options.json as train.py writes it (the keys read here, and a few more)."""
    options: dict[str, Any] = {
        "num_gpus": 1, "image_snapshot_ticks": 50, "network_snapshot_ticks": 50,
        "kimg_per_tick": KIMG_PER_TICK, "training_set_kwargs": {"path": "missing.zip"},
        "ada_kimg": 500,
    }  # fmt: skip
    if ada:
        options["ada_target"] = 0.6
    path = run / "training_options.json"
    path.write_text(json.dumps(options, indent=2))
    return path


def write_events(version: Path, scalars: dict[str, Sequence[tuple[int, float]]]) -> Path:
    """A Lightning version folder's event file: ``add_scalar(tag, value, step)`` for each
    tag's (step, value) pairs, in step order across tags as training logs them."""
    from torch.utils.tensorboard import SummaryWriter

    version.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(log_dir=str(version))
    points = sorted((step, tag, value) for tag, pairs in scalars.items() for step, value in pairs)
    for step, tag, value in points:
        writer.add_scalar(tag, value, step)
    writer.close()
    return next(version.glob("events.out.tfevents.*"))


def write_lightning_checkpoints(version: Path, names: Sequence[tuple[int, int]]) -> list[Path]:
    """``checkpoints/epoch=<e>-step=<s>.ckpt`` (empty) and ``hparams.yaml``."""
    folder = version / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    (version / "hparams.yaml").write_text("lr: 0.0002\nlatent_dim: 100\n")
    paths = [folder / f"epoch={e}-step={s}.ckpt" for e, s in names]
    for path in paths:
        path.write_bytes(b"")
    return paths

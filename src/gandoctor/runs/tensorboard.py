"""TensorBoard event files of a run (PyTorch Lightning's TensorBoardLogger writes them with
``SummaryWriter.add_scalar(tag, value, global_step)``), read through tbparse, the ``runs``
extra. The position axis is the global step, as logged.

Scalar tags are the user's choice. TAGS lists the names read, for each figure, in the
order they are preferred; a tag matches where, lower-cased with every run of other
characters than letters and digits made one ``_``, it or its last ``/`` part equals one of
them, after a ``train_``/``training_``/``val_`` prefix or a ``_step``/``_epoch`` suffix
(Lightning adds both where a value is logged on_step and on_epoch; the step one is read
first) is taken off. A figure no tag matches is not shown.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

from gandoctor.errors import CheckpointError
from gandoctor.judge.run_log import NVLABS_D_LOSS_CHANCE, Logged
from gandoctor.runs.logs import FidLine, RunLog, Series

TAGS: dict[str, tuple[str, ...]] = {
    "d_loss": ("loss_d_loss", "d_loss", "loss_d", "discriminator_loss", "loss_discriminator",
               "disc_loss", "dis_loss", "errd", "lossd"),
    "g_loss": ("loss_g_loss", "g_loss", "loss_g", "generator_loss", "loss_generator",
               "gen_loss", "errg", "lossg"),
    "r_t": ("loss_signs_real", "r_t", "rt", "ada_rt"),
    "augment_p": ("progress_augment", "augment_p", "ada_p", "aug_p", "p_augment"),
    "r1_penalty": ("loss_r1_penalty", "r1_penalty", "r1", "r1_loss", "loss_r1", "r1_reg"),
    "fid": ("metrics_fid50k_full", "fid50k_full", "fid", "fid50k", "fid_score", "fid10k"),
    "epoch": ("epoch",),
}  # fmt: skip
"""Figure -> tags read for it (normalised as above), preferred first: NVlabs' own names as
its training_loop.py writes them to TensorBoard first, then the common ones: ``d_loss`` and
``g_loss`` (the Lightning GAN example), ``loss_D``/``D_loss``, ``errD``/``errG`` (the
PyTorch DCGAN example), ``discriminator_loss``; ``fid``; ``epoch`` is Lightning's own, used
to place a checkpoint named by its epoch alone."""
NVLABS_D_TAG = "Loss/D/loss"
"""The one D loss tag whose definition is known (NVlabs'), hence its chance level."""
PREFIXES = ("train_", "training_", "val_", "valid_", "validation_")
SUFFIXES = ("", "_step", "_epoch")
EVENT_FILES = "events.out.tfevents.*"


def event_files(root: Path) -> list[Path]:
    """The event files in ``root`` and the folders just below it."""
    found = [*root.glob(EVENT_FILES), *root.glob(f"*/{EVENT_FILES}")]
    return sorted(p for p in found if p.is_file())


def normalised(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")


def tag_rank(figure: str, tag: str) -> tuple[int, int, int] | None:
    """How well ``tag`` names ``figure``: (name's place in TAGS, suffix, whole tag or its
    last part), lower is better; None where it does not name it."""
    names = TAGS[figure]
    best = None
    for part, text in enumerate((tag, tag.rsplit("/", 1)[-1])):
        base = normalised(text)
        for prefix in ("", *PREFIXES):
            if prefix and not base.startswith(prefix):
                continue
            stem = base[len(prefix) :]
            for s, suffix in enumerate(SUFFIXES):
                if suffix and not stem.endswith(suffix):
                    continue
                name = stem[: len(stem) - len(suffix)] if suffix else stem
                if name in names:
                    rank = (names.index(name), s, part)
                    best = rank if best is None or rank < best else best
    return best


def choose_tags(tags: list[str]) -> dict[str, str]:
    """Figure -> the tag read for it."""
    chosen = {}
    for figure in TAGS:
        ranked = [(rank, tag) for tag in tags if (rank := tag_rank(figure, tag)) is not None]
        if ranked:
            chosen[figure] = min(ranked)[1]
    return chosen


def read_tensorboard(root: str | Path, options: dict[str, Any] | None = None) -> RunLog | None:
    """The scalars of the event files in ``root``; None where there are none."""
    root = Path(root)
    files = event_files(root)
    if not files:
        return None
    try:
        from tbparse import SummaryReader
    except ImportError:
        raise CheckpointError(
            f'{root}: reading its TensorBoard logs needs tbparse: pip install "gandoctor[runs]"'
        ) from None
    notes: list[str] = []
    points: dict[str, dict[float, float]] = {}
    for path in files:
        try:
            with warnings.catch_warnings():  # tbparse's own pandas deprecations
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                frame = SummaryReader(str(path), pivot=False).scalars
        except Exception as error:  # a broken file: the others are still read
            notes.append(f"{path.name}: not readable as TensorBoard events ({error}); skipped")
            continue
        if frame is None or len(frame) == 0:
            continue
        for step, tag, value in zip(frame["step"], frame["tag"], frame["value"], strict=True):
            points.setdefault(str(tag), {})[float(step)] = float(value)  # a later file wins
    chosen = choose_tags(sorted(points))
    series = {}
    for figure, tag in chosen.items():
        steps = sorted(points[tag])
        readings = tuple(Logged(points[tag][s]) for s in steps)
        series[figure] = Series(figure, tag, tuple(steps), readings)
    fid = series.pop("fid", None)
    fids = tuple(FidLine(r.mean, p) for p, r in zip(fid.position, fid.readings, strict=True)
                 ) if fid is not None else ()  # fmt: skip
    p = series.get("augment_p")
    moved = p is not None and len({r.mean for r in p.readings if math.isfinite(r.mean)}) > 1
    options = options or {}
    ada = options.get("ada_target") is not None if "ada_target" in options else moved
    d_tag = chosen.get("d_loss")
    chance = NVLABS_D_LOSS_CHANCE if d_tag == NVLABS_D_TAG else None
    # NVlabs' training_loop.py logs to TensorBoard too, at global_step = int(kimg).
    axis = "kimg" if d_tag == NVLABS_D_TAG or "Progress/kimg" in points else "step"
    return RunLog("tensorboard", axis, tuple(str(f) for f in files), series, fids,
                  fid.tag if fid is not None else None, chance, ada, tuple(notes))  # fmt: skip

"""Sharing a sweep of checkpoints among processes: ``--shard I/N``, or ``--shard auto``
under torchrun, which starts one process per GPU (or host slot) and tells each its rank.

Rank i of N probes checkpoints i, i+N, i+2N, ... of the natural order, on GPU LOCAL_RANK
where there are GPUs, and writes its own report (``{rank}`` in a path becomes i);
``gandoctor merge`` joins the reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gandoctor.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int
    local_rank: int | None = None
    """The process's GPU on its host (torchrun's LOCAL_RANK); None when not known."""

    def take(self, items: Sequence[T]) -> list[T]:
        """This shard's share of ``items``: every count-th one, starting at index."""
        share = list(items[self.index :: self.count])
        if not share:
            raise ConfigError(
                f"shard {self.index}/{self.count} has no checkpoint: only {len(items)} "
                f"checkpoint(s) for {self.count} processes; start fewer"
            )
        return share

    def device(self, device: str) -> str:
        """Each local process on its own GPU: ``cuda`` becomes ``cuda:LOCAL_RANK``."""
        if device == "cuda" and self.local_rank is not None:
            return f"cuda:{self.local_rank}"
        return device

    def path(self, path: str | None) -> str | None:
        """An output path for this shard: ``{rank}`` becomes the shard's index."""
        return None if path is None else path.replace("{rank}", str(self.index))


def parse_shard(text: str, environ: Mapping[str, str]) -> Shard:
    """``I/N`` (0 <= I < N), or ``auto``: torchrun's RANK, WORLD_SIZE and LOCAL_RANK."""
    if text == "auto":
        try:
            index, count = int(environ["RANK"]), int(environ["WORLD_SIZE"])
        except (KeyError, ValueError):
            raise ConfigError(
                "--shard auto reads RANK and WORLD_SIZE, which torchrun sets; run under "
                "torchrun or give --shard I/N"
            ) from None
        local = environ.get("LOCAL_RANK")
        return _checked(index, count, int(local) if local and local.isdigit() else None)
    index_text, slash, count_text = text.partition("/")
    if not (slash and index_text.strip().isdigit() and count_text.strip().isdigit()):
        raise ConfigError(f"--shard must be I/N (e.g. 0/4) or auto, got {text!r}")
    return _checked(int(index_text), int(count_text), None)


def _checked(index: int, count: int, local_rank: int | None) -> Shard:
    if not 0 <= index < count:
        raise ConfigError(f"--shard {index}/{count}: need 0 <= I < N")
    return Shard(index, count, local_rank)

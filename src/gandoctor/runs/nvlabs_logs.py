"""NVlabs' own logs of a run (stats.jsonl, metric-*.jsonl; their format is described in
runs.logs), read into a RunLog on the kimg axis."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gandoctor.judge.run_log import NVLABS_D_LOSS_CHANCE, Logged
from gandoctor.runs.folders import NVLABS_SNAPSHOT
from gandoctor.runs.logs import FID_ORDER, NVLABS_KEYS, NVLABS_KIMG, FidLine, RunLog, Series


def metric_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("metric-*.jsonl") if p.is_file())


def read_nvlabs(root: str | Path, options: dict[str, Any] | None = None) -> RunLog:
    """stats.jsonl and metric-*.jsonl of an NVlabs run folder."""
    root = Path(root)
    notes: list[str] = []
    stats = root / "stats.jsonl"
    rows = json_lines(stats, notes) if stats.is_file() else []
    ticks: list[tuple[float, dict[str, Any]]] = []
    for row in rows:
        kimg = reading(row.get(NVLABS_KIMG))
        if kimg is None or not math.isfinite(kimg.mean):
            continue
        ticks.append((kimg.mean, row))
    if len(ticks) < len(rows):
        notes.append(f"stats.jsonl: {len(rows) - len(ticks)} line(s) without {NVLABS_KIMG}; "
                     "skipped")  # fmt: skip
    ticks.sort(key=lambda tick: tick[0])
    position = tuple(kimg for kimg, _ in ticks)
    series = {
        name: Series(name, key, position,
                     tuple(reading(row.get(key)) or Logged(math.nan) for _, row in ticks))
        for name, key in NVLABS_KEYS.items()
        if any(key in row for _, row in ticks)
    }  # fmt: skip
    metrics = metric_files(root)
    fids, metric = nvlabs_fids(metrics, notes)
    options = options or {}
    p = series.get("augment_p")
    moved = p is not None and len({r.mean for r in p.readings if math.isfinite(r.mean)}) > 1
    ada = options.get("ada_target") is not None if options else moved
    files = tuple(str(f) for f in ([stats] if stats.is_file() else []) + metrics)
    return RunLog("nvlabs", "kimg", files, series, fids, metric, NVLABS_D_LOSS_CHANCE, ada,
                  tuple(notes))  # fmt: skip


def nvlabs_fids(files: list[Path], notes: list[str]) -> tuple[tuple[FidLine, ...], str | None]:
    """The FID lines of metric-*.jsonl, each placed at the kimg its snapshot_pkl names,
    of the first FID metric in FID_ORDER that the files hold (else the first by name)."""
    lines = [row for path in files for row in json_lines(path, notes)]
    results = [(row, row.get("results")) for row in lines]
    names = {k for _, r in results if isinstance(r, dict) for k in r if k.startswith("fid")}
    metric = next((m for m in FID_ORDER if m in names), min(names, default=None))
    if metric is None:
        return (), None
    fids = []
    for row, r in results:
        value = r.get(metric) if isinstance(r, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        pkl = row.get("snapshot_pkl")
        name = Path(pkl).name if isinstance(pkl, str) else None
        match = NVLABS_SNAPSHOT.match(name) if name else None
        fids.append(FidLine(float(value), float(match.group(1)) if match else None, name))
    return tuple(fids), metric


def reading(entry: object) -> Logged | None:
    """A statistic as training_stats writes it (``{"num", "mean", "std"}``), or a bare
    number; None where it is neither."""
    if isinstance(entry, dict):
        return Logged(_number(entry.get("mean")), _number(entry.get("std")),
                      int(n) if math.isfinite(n := _number(entry.get("num"))) else 0)  # fmt: skip
    if isinstance(entry, int | float) and not isinstance(entry, bool):
        return Logged(float(entry))
    return None


def _number(value: object) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else math.nan  # type: ignore[arg-type]


def json_lines(path: Path, notes: list[str]) -> list[dict[str, Any]]:
    """The JSON objects of a .jsonl file, one a line. A last line cut short (a run still
    writing) and lines that are not JSON objects are skipped, each with a note."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    rows: list[dict[str, Any]] = []
    bad: list[int] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)  # NaN and Infinity, as json.dumps writes them, are read
        except ValueError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif number == len(lines):  # no newline after it: still being written
            notes.append(f"{path.name}: its last line (line {number}) is cut short, as while "
                         "the run is still writing it; skipped")  # fmt: skip
        else:
            bad.append(number)
    if bad:
        notes.append(f"{path.name}: {len(bad)} line(s) not a JSON object (line {bad[0]}"
                     f"{' and more' if len(bad) > 1 else ''}); skipped")  # fmt: skip
    return rows

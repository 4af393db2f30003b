"""How many CPU threads a probe's torch operations use (``--threads``).

torch starts with one thread per physical core of the machine, whatever share of it the
process may use or finds free. Two things go wrong on the machines gandoctor runs on:

- **A CPU quota smaller than the machine** (a container, a CI job, ``taskset``): torch's
  count ignores the cgroup's quota, so 2 CPUs' worth of time would be shared by one
  thread per core of the host.
- **CPUs busy with other work**: torch's OpenMP threads spin while they wait for each
  other, and a spinning thread on a core another process needs slows both. Measured on
  the project's 2-core machine (benchmarks/README.md, "Threads"): the shipped example's
  probe took 24 s with 2 threads and 31 s with 1 on an idle machine, but with one other
  busy process 77 s with 2 threads and 35 s with 1.

So the default (``auto``) is the CPUs this process may run on (affinity and cgroup quota,
never more than torch's own count), less those other processes keep busy as the probe
starts, at least 1. The count is decided once, before the probe, and recorded in the
report: a thread count changes the figures by float rounding, like another machine, and
the readings are built to survive that (README, "Readings that do not flip").
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PROC_CGROUP = Path("/proc/self/cgroup")
_LOADAVG = Path("/proc/loadavg")
_SAMPLES, _SAMPLE_GAP = 9, 0.01
"""Reads of the number of runnable tasks, 10 ms apart: one read can catch a short-lived
process; the median of nine over 80 ms does not, and costs nothing beside a probe."""


@dataclass(frozen=True)
class ThreadChoice:
    """The thread count a probe runs with, and why."""

    threads: int
    reason: str


def cpu_quota() -> int | None:
    """CPUs this process may use: its affinity mask and its cgroup's CPU quota (v2
    ``cpu.max``, v1 ``cpu.cfs_quota_us``), rounded up; None when neither says."""
    limits: list[int] = []
    if hasattr(os, "sched_getaffinity"):
        limits.append(len(os.sched_getaffinity(0)))
    quota = _cgroup_cpus()
    if quota is not None:
        limits.append(quota)
    return min(limits) if limits else None


def busy_cpus() -> int:
    """CPUs that other processes keep busy now: runnable tasks on the machine, less this
    one, per ``/proc/loadavg`` (0 where it cannot be read)."""
    counts = []
    for _ in range(_SAMPLES):
        try:
            running = _LOADAVG.read_text(encoding="ascii").split()[3].split("/")[0]
            counts.append(int(running))
        except (OSError, IndexError, ValueError):
            return 0
        time.sleep(_SAMPLE_GAP)
    return max(0, int(statistics.median(counts)) - 1)


def choose_threads(requested: int | None, default: int) -> ThreadChoice:
    """``requested`` (``--threads``) as given, else the ``auto`` policy of the module
    docstring; ``default``: torch's own count."""
    if requested is not None:  # checked by ProbeConfig: at least 1
        return ThreadChoice(requested, "as asked")
    usable = min(default, cpu_quota() or default)
    busy = busy_cpus()
    threads = max(1, usable - busy)
    if threads < usable:
        reason = f"{usable} CPUs usable, {busy} busy with other processes"
    elif usable < default:
        reason = f"the process may use {usable} of the machine's CPUs"
    else:
        reason = "one per core"
    return ThreadChoice(threads, reason)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` inside the block (None: left as it
    is), restored after."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cgroup_cpus() -> int | None:
    """The cgroup's CPU quota in whole CPUs (rounded up), or None without one."""
    for path in _cgroup_dirs():
        try:
            fields = (path / "cpu.max").read_text(encoding="ascii").split()
            if len(fields) == 2 and fields[0] != "max":
                return max(1, math.ceil(int(fields[0]) / int(fields[1])))
        except (OSError, ValueError, ZeroDivisionError):
            pass
        try:
            quota = int((path / "cpu.cfs_quota_us").read_text(encoding="ascii"))
            period = int((path / "cpu.cfs_period_us").read_text(encoding="ascii"))
            if quota > 0 and period > 0:
                return max(1, math.ceil(quota / period))
        except (OSError, ValueError):
            pass
    return None


def _cgroup_dirs() -> list[Path]:
    """Where this process's CPU limits can be: its own cgroup (from /proc/self/cgroup),
    then the namespace's root, as a container sees its own limits, for v2 and v1."""
    dirs = []
    try:
        for line in _PROC_CGROUP.read_text(encoding="ascii").splitlines():
            _, controllers, group = line.split(":", 2)
            if controllers == "":
                dirs.append(_CGROUP_ROOT / group.lstrip("/"))
            elif "cpu" in controllers.split(","):
                dirs.append(_CGROUP_ROOT / controllers / group.lstrip("/"))
    except (OSError, ValueError):
        pass
    return [*dirs, _CGROUP_ROOT, _CGROUP_ROOT / "cpu", _CGROUP_ROOT / "cpu,cpuacct"]

"""Memory checks before large allocations, so a too-large input ends in a message, not in the
operating system killing the process half-way through a probe.

Only the standard library: ``MemAvailable`` from ``/proc/meminfo`` on Linux (free memory
plus what the kernel can reclaim, e.g. the page cache), else free physical pages from
``os.sysconf``, and no more than a container's memory limit. Where nothing is known, nothing
is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gandoctor.errors import GanDoctorError

_MEMINFO = "/proc/meminfo"
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
_NO_LIMIT = 1 << 60


def available_memory() -> int | None:
    """Bytes of memory a new allocation can get now, or None when the system does not say;
    never more than the container's memory limit, where one is set (cgroup v2 or v1)."""
    system = _meminfo_available()
    if system is None:
        try:
            system = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
            system = None
    limit = _cgroup_limit()
    if system is None or limit is None:
        return system if limit is None else limit
    return min(system, limit)


def _meminfo_available() -> int | None:
    try:
        with open(_MEMINFO, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file counts in kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_limit() -> int | None:
    """The memory limit of this process's container: a CI job's memory, where the machine's
    own figure would promise more than the job may use. None without a limit."""
    for path in _CGROUP_LIMITS:
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
        except OSError:
            continue
        # "max" (v2) or a huge number near 2**63 (v1) mean no limit.
        if text.isdigit() and int(text) < _NO_LIMIT:
            return int(text)
    return None


def gigabytes(size: float) -> str:
    """``12.3 GB``, ``45.6 MB`` or ``789 kB`` (powers of 1000), for messages."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def check_memory(
    needed: int,
    what: Callable[[str, str], str],
    error: type[GanDoctorError],
) -> None:
    """Raise ``error(what(needed, available))`` when ``needed`` bytes exceed the memory
    available now. ``what`` words the message from both sizes, already formatted."""
    available = available_memory()
    if available is not None and needed > available:
        raise error(what(gigabytes(needed), gigabytes(available)))

"""The CPU threads a probe uses (runtime.threads) and the allocator setting of the command
line (runtime.allocator)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch
from conftest import untrained_dcgan

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.errors import ConfigError
from gandoctor.runtime import allocator, threads


def fake_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, cgroup: str,
                files: dict[str, str], running: int = 1) -> None:  # fmt: skip
    """A /proc and /sys/fs/cgroup of our making: this process's cgroup line(s), the limit
    files under the cgroup root, and ``running`` runnable tasks in /proc/loadavg."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "self_cgroup").write_text(cgroup)
    (tmp_path / "loadavg").write_text(f"0.50 0.40 0.30 {running}/300 12345\n")
    monkeypatch.setattr(threads, "_CGROUP_ROOT", root)
    monkeypatch.setattr(threads, "_PROC_CGROUP", tmp_path / "self_cgroup")
    monkeypatch.setattr(threads, "_LOADAVG", tmp_path / "loadavg")
    monkeypatch.setattr(threads, "_SAMPLE_GAP", 0.0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def test_a_cgroup_v2_quota_caps_the_threads(tmp_path, monkeypatch) -> None:
    fake_system(tmp_path, monkeypatch, cgroup="0::/job\n", files={"job/cpu.max": "150000 100000"})
    assert threads.cpu_quota() == 2  # 1.5 CPUs' worth of time: two threads, rounded up
    choice = threads.choose_threads(None, default=8)
    assert choice.threads == 2 and "may use 2" in choice.reason


def test_a_cgroup_v1_quota_and_no_quota(tmp_path, monkeypatch) -> None:
    fake_system(tmp_path, monkeypatch, cgroup="4:cpu,cpuacct:/ci\n",
                files={"cpu,cpuacct/ci/cpu.cfs_quota_us": "300000",
                       "cpu,cpuacct/ci/cpu.cfs_period_us": "100000"})  # fmt: skip
    assert threads.cpu_quota() == 3
    fake_system(tmp_path, monkeypatch, cgroup="0::/\n", files={"cpu.max": "max 100000"})
    assert threads.cpu_quota() == 8  # the affinity mask alone


def test_cpus_busy_with_other_work_are_left_to_it(tmp_path, monkeypatch) -> None:
    fake_system(tmp_path, monkeypatch, cgroup="0::/\n", files={}, running=3)  # us and 2 more
    assert threads.busy_cpus() == 2
    choice = threads.choose_threads(None, default=4)
    assert choice.threads == 2 and "2 busy" in choice.reason
    fake_system(tmp_path, monkeypatch, cgroup="0::/\n", files={}, running=20)
    assert threads.choose_threads(None, default=4).threads == 1  # never below one
    assert threads.choose_threads(3, default=4) == threads.ThreadChoice(3, "as asked")


def test_the_probe_runs_with_its_threads_and_restores_torch_s(digits) -> None:
    before = torch.get_num_threads()
    seen = []

    class Recording(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.g = untrained_dcgan()

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            seen.append(torch.get_num_threads())
            return self.g(z)

    report = gandoctor.probe(Recording(), digits, config=ProbeConfig(steps=3, threads=1))
    assert set(seen[2:]) == {1}  # every call inside the probe (the first two: the shape check)
    assert torch.get_num_threads() == before
    assert json.loads(report.to_json())["settings"]["threads"] == 1
    with pytest.raises(ConfigError, match="threads"):
        ProbeConfig(threads=0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_the_allocator_setting_takes_where_the_c_library_is_glibc() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc: the setting is left alone")
    assert allocator.retain_freed_memory() is True
    big = torch.ones(20_000_000)  # above glibc's mmap threshold; served and freed as usual
    assert float(big.sum()) == 20_000_000

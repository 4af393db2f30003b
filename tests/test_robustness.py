"""Ctrl-C, atomic outputs, read-only inputs and determinism (issue 8).

- Ctrl-C during a probe exits 130 with one line; ``--json``/``--markdown`` then hold the
  steps that ran, marked ``"complete": false``; nothing else is written.
- Reports and plots go through a temporary file and a rename: a write that fails leaves the
  previous file as it was and no temporary file behind.
- A probe changes no byte and no modification time of its inputs.
- The same inputs and seed give bit-identical figures and the same verdict (CPU, same
  torch thread count; across thread counts see the README).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import _digits, drop_timings, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from typer.testing import CliRunner

import gandoctor
import gandoctor.report.model
from gandoctor.api import ProbeInterruptedWithReport
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.paths import write_atomically
from gandoctor.probing.setup import measurement_steps
from gandoctor.report.plots import _save

runner = CliRunner()
FAST = ["--batch-size", "8", "--no-early-stop"]

# A generator that presses Ctrl-C itself, at its n-th forward pass (the loader's and the
# health check's passes come first, then one per D step and K per measurement).
INTERRUPTING = textwrap.dedent(
    """
    import os
    import torch
    from torch import nn


    class Interrupting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 256)
            self.calls = 0

        def forward(self, z):
            self.calls += 1
            if self.calls == int(os.environ["INTERRUPT_AT"]):
                raise KeyboardInterrupt
            if self.calls == int(os.environ.get("MARK_AT", "0")):
                open(os.environ["MARKER"], "w").close()
            return torch.tanh(self.fc(z)).view(-1, 1, 16, 16)
    """
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    save_file({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()},
              str(root / "g.safetensors"))  # fmt: skip
    write_pngs(root / "imgs", _digits(16)[:64])
    (root / "interrupting.py").write_text(INTERRUPTING)
    layer = torch.nn.Linear(16, 256)
    save_file({"fc.weight": layer.weight.detach(), "fc.bias": layer.bias.detach()},
              str(root / "mlp.safetensors"))  # fmt: skip
    return {
        "root": root,
        "ckpt": root / "g.safetensors",
        "imgs": root / "imgs",
        "arch": root / "interrupting.py",
        "mlp": root / "mlp.safetensors",
    }


def tree(folder: Path) -> dict[str, tuple[int, str]]:
    """Modification time and content digest of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- Ctrl-C ---------------------------------------------------------------------------------


def test_ctrl_c_in_the_library_keeps_the_finished_checkpoints(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """Two checkpoints, Ctrl-C (from the progress callback) at D step 7 of the second: the
    report holds the first one complete and the second up to its last measurement."""

    def on_progress(checkpoint: str, step: int, total: int) -> None:
        if checkpoint == "second" and step == 7:
            raise KeyboardInterrupt

    first, second = tmp_path / "first", tmp_path / "second"
    first.symlink_to(inputs["ckpt"])
    second.symlink_to(inputs["ckpt"])
    config = ProbeConfig(steps=20, batch_size=8, early_stop=False)
    measured = [s for s in measurement_steps(20, config.measure_growth, 25) if s < 7]
    with pytest.raises(ProbeInterruptedWithReport) as caught:
        gandoctor.probe(
            [first, second], inputs["imgs"], config=config,
            on_progress=lambda name, s, t: on_progress(Path(name).name, s, t),
        )  # fmt: skip
    report = caught.value.report
    assert report is not None and not report.complete
    done, cut = report.checkpoints
    assert done.outcome.complete and done.outcome.summary.steps_run == 20
    assert not cut.outcome.complete
    assert cut.outcome.series.step == measured  # the step-7 measurement never happened
    assert cut.outcome.stop_reason == f"interrupted (Ctrl-C) at step {measured[-1]} of 20"
    document = json.loads(report.to_json())
    assert document["complete"] is False
    assert [c["probe"]["complete"] for c in document["checkpoints"]] == [True, False]


def test_ctrl_c_writes_partial_reports_and_exits_130(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERRUPT_AT", "40")
    out, md = tmp_path / "report.json", tmp_path / "report.md"
    result = runner.invoke(app, [
        "probe", str(inputs["mlp"]), "--data", str(inputs["imgs"]), "--steps", "100", *FAST,
        "--arch", f"{inputs['arch']}:Interrupting", "--json", str(out), "--markdown", str(md),
    ])  # fmt: skip
    assert result.exit_code == 130, (result.output, result.exception)
    assert result.stdout == ""  # no table for a cut-short run
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"gandoctor: interrupted; a partial report (not complete) is in {out}, {md}"]
    report = json.loads(out.read_text())
    assert report["complete"] is False
    probe = report["checkpoints"][0]["probe"]
    assert probe["complete"] is False and 0 < probe["steps_run"] < 100
    assert probe["stop_reason"].startswith("interrupted (Ctrl-C) at step")
    assert "Partial verdict" in md.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


def test_ctrl_c_before_any_measurement_writes_nothing(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERRUPT_AT", "2")  # the loader's pass is the first
    out = tmp_path / "report.json"
    result = runner.invoke(app, [
        "probe", str(inputs["mlp"]), "--data", str(inputs["imgs"]), "--steps", "5", *FAST,
        "--arch", f"{inputs['arch']}:Interrupting", "--json", str(out),
    ])  # fmt: skip
    assert result.exit_code == 130
    assert result.stderr.strip() == "gandoctor: interrupted; no report was written"
    assert list(tmp_path.iterdir()) == []


def _default_sigint() -> None:
    """A job started in the background (``cmd &``, nohup) inherits SIGINT ignored, and
    Python then leaves it ignored: give the child the default disposition, as a terminal's
    Ctrl-C would find it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_to_the_real_process(inputs: dict[str, Path], tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT) once the probe runs: exit 130, one line, partial JSON."""
    marker, out = tmp_path / "probing", tmp_path / "report.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "INTERRUPT_AT": "0", "MARK_AT": "30",
           "MARKER": str(marker)}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gandoctor", "probe", str(inputs["mlp"]), "--data",
         str(inputs["imgs"]), "--steps", "100000", *FAST,
         "--arch", f"{inputs['arch']}:Interrupting", "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stdout == ""
    # A run of 100000 steps is planned, and the plan is told first (probing.plan).
    assert [line for line in stderr.splitlines() if not line.startswith("gandoctor: plan:")] == [
        f"gandoctor: interrupted; a partial report (not complete) is in {out}"
    ]
    assert json.loads(out.read_text())["complete"] is False


# --- atomic outputs -------------------------------------------------------------------------


def test_failed_report_write_keeps_the_old_file(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after the report was written to the temporary file: the old report
    stays whole, no temporary file is left, and the error is one line."""
    out = tmp_path / "report.json"
    out.write_text('{"old": true}')

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gandoctor.paths.os, "fsync", full_disk)
    result = runner.invoke(app, [
        "probe", str(inputs["ckpt"]), "--data", str(inputs["imgs"]), "--steps", "2", *FAST,
        "--json", str(out),
    ])  # fmt: skip
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.strip() == (
        f"gandoctor: error: cannot write the report to {out}: No space left on device"
    )
    assert out.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_report_written_whole_with_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    write_atomically(out, "x" * 100_000)
    assert out.read_text() == "x" * 100_000
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_plot_keeps_the_old_plot(tmp_path: Path) -> None:
    """Half a PNG written, then the renderer fails: the old plot is untouched."""
    plot = tmp_path / "figures.png"
    plot.write_bytes(b"old plot")

    class FailingFigure:
        def savefig(self, path: str, dpi: int, format: str) -> None:
            Path(path).write_bytes(b"\x89PNG half")
            raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        _save(FailingFigure(), plot)
    assert plot.read_bytes() == b"old plot"
    assert [p.name for p in tmp_path.iterdir()] == ["figures.png"]


# --- read-only inputs and determinism -------------------------------------------------------


def test_inputs_keep_their_bytes_and_times(inputs: dict[str, Path], tmp_path: Path) -> None:
    """A torch.save checkpoint, a .npy data file and an --arch file: after a probe and an
    inspect, every byte and modification time is as before, and nothing was added."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    torch.save({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()},
               folder / "g.pt")  # fmt: skip
    np.save(folder / "data.npy", (_digits(16)[:64, 0].numpy() * 127.5 + 127.5).astype(np.uint8))
    before, shared = tree(folder), tree(inputs["root"])
    for args in (
        ["probe", str(folder / "g.pt"), "--data", str(folder / "data.npy"), "--steps", "2", *FAST],
        ["inspect", str(folder / "g.pt")],
        ["probe", str(inputs["ckpt"]), "--data", str(inputs["imgs"]), "--steps", "2", *FAST],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (result.output, result.exception)
    assert tree(folder) == before
    assert tree(inputs["root"]) == shared


def test_same_seed_gives_identical_figures_and_verdict(inputs: dict[str, Path]) -> None:
    """Two runs in one process: every figure equal (tolerance 0) and the same verdict; a
    different seed changes the figures (so the comparison can fail)."""

    def figures(seed: int) -> tuple[dict, str]:
        config = ProbeConfig(steps=6, batch_size=8, early_stop=False, seed=seed)
        report = gandoctor.probe(inputs["ckpt"], inputs["imgs"], config=config)
        document = json.loads(report.to_json())
        checkpoint = document["checkpoints"][0]
        drop_timings(checkpoint["probe"])
        return checkpoint, document["verdict"]

    first, second, other = figures(0), figures(0), figures(1)
    assert first == second
    assert first[0]["series"] != other[0]["series"]


# --- memory available -----------------------------------------------------------------------


def test_available_memory_respects_a_container_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job's cgroup limit caps what the machine's MemAvailable promises; "max" (v2) and
    v1's near-2**63 "no limit" leave it alone."""
    import gandoctor.runtime.resources as resources

    assert (resources.available_memory() or 0) > 0  # this machine says how much it has
    limit = tmp_path / "memory.max"
    monkeypatch.setattr(resources, "_CGROUP_LIMITS", (str(limit),))
    monkeypatch.setattr(resources, "_meminfo_available", lambda: 5000)
    for text, expected in (("1000\n", 1000), ("9000\n", 5000), ("max\n", 5000),
                           ("9223372036854771712\n", 5000)):  # fmt: skip
        limit.write_text(text)
        assert resources.available_memory() == expected, text

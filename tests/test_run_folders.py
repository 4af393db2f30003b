"""A training run's folder as the checkpoint argument: NVlabs, rosinality and Lightning runs,
their snapshots in training order, the data set their options name, and the thinning.

The NVlabs snapshots are the synthetic files of tests/stylegan_snapshots.py (the format
NVlabs' training loop pickles); the rosinality ones are train.py's dict
(tests/test_rosinality.py); the Lightning run is made by Lightning itself (its Trainer,
ModelCheckpoint and TensorBoardLogger) where it installs.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from conftest import _digits, write_pngs
from stylegan_snapshots import small_generator, snapshot, write_snapshot
from test_rosinality import small, train_py_checkpoint
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.errors import ConfigError
from gandoctor.runs.folders import find_run
from gandoctor.runs.selection import SnapshotChoice, choose, evenly_spaced

runner = CliRunner()


def finished(result) -> bool:
    """The command ran to its exit code: not cut off by an exception (which CliRunner
    turns into exit 1 as well)."""
    return result.exit_code in (0, 1) and isinstance(result.exception, SystemExit | None)


def nvlabs_run(root: Path, kimgs: list[int], data: Path | None) -> Path:
    """A run folder as NVlabs' train.py leaves it: snapshots every few kimg and
    training_options.json, whose training_set_kwargs.path names the data set."""
    root.mkdir(parents=True)
    for index, kimg in enumerate(kimgs):
        g = small_generator(seed=index, channels=1)
        write_snapshot(root / f"network-snapshot-{kimg:06d}.pkl", snapshot(g))
    options = {
        "num_gpus": 1, "image_snapshot_ticks": 50, "network_snapshot_ticks": 50,
        "training_set_kwargs": {
            "class_name": "training.dataset.ImageFolderDataset",
            "path": str(data) if data is not None else "/datasets/gone.zip",
            "use_labels": False, "max_size": 300, "xflip": False, "resolution": 8,
        },
        "loss_kwargs": {"class_name": "training.loss.StyleGAN2Loss", "r1_gamma": 0.01},
        "ada_target": 0.6, "total_kimg": 800, "batch_size": 32, "run_dir": str(root),
    }  # fmt: skip
    (root / "training_options.json").write_text(json.dumps(options, indent=2))
    return root


@pytest.fixture
def data8(tmp_path: Path) -> Path:
    folder = tmp_path / "digits8"
    write_pngs(folder, _digits(8)[:300])
    return folder


def test_an_nvlabs_run_lists_its_snapshots_in_training_order(tmp_path: Path, data8) -> None:
    root = nvlabs_run(tmp_path / "00012-digits-auto1", [1000, 0, 200, 40], data8)
    (root / "fakes000000.png").write_bytes(b"")  # image grids are not snapshots
    run = find_run(root)
    assert run is not None and run.kind == "nvlabs"
    assert [s.kimg for s in run.snapshots] == [0, 40, 200, 1000]  # by kimg, not by name
    assert run.data_path == str(data8) and run.options["loss_kwargs"]["r1_gamma"] == 0.01
    assert run.options_file == str(root / "training_options.json")


def test_thinning_keeps_the_first_and_the_last_evenly_spaced() -> None:
    assert evenly_spaced(12, 3) == [0, 6, 11]
    assert evenly_spaced(12, 2) == [0, 11]
    assert evenly_spaced(5, 10) == [0, 1, 2, 3, 4]
    picked = evenly_spaced(41, 10)
    assert picked[0] == 0 and picked[-1] == 40 and len(picked) == 10
    gaps = {b - a for a, b in itertools.pairwise(picked)}
    assert gaps <= {4, 5}  # even: no gap more than one snapshot longer than another


def test_the_budget_and_the_hand_choose_the_snapshots(tmp_path: Path, data8) -> None:
    run = find_run(nvlabs_run(tmp_path / "run", list(range(0, 1200, 100)), data8))
    assert run is not None and len(run.snapshots) == 12
    kimgs = lambda chosen: [s.kimg for s in chosen.chosen]  # noqa: E731
    assert kimgs(choose(run, SnapshotChoice(), None)) == [0, 100, 200, 400, 500, 600, 700,
                                                          900, 1000, 1100]  # fmt: skip
    thinned = choose(run, SnapshotChoice(), max_seconds=180)  # three snapshots' time
    assert kimgs(thinned) == [0, 600, 1100] and "3 of 12" in thinned.how
    assert kimgs(choose(run, SnapshotChoice(every=5), None)) == [0, 500, 1000, 1100]
    assert kimgs(choose(run, SnapshotChoice(last=2), None)) == [1000, 1100]
    assert kimgs(choose(run, SnapshotChoice(every=2, last=3), None)) == [900, 1100]
    with pytest.raises(ConfigError):
        SnapshotChoice(every=0)


def test_probe_takes_a_run_folder_and_its_data_with_no_other_option(tmp_path: Path, data8) -> None:
    root = nvlabs_run(tmp_path / "00012-digits-auto1", [0, 200, 400], data8)
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["probe", str(root), "--steps", "5", "--json", str(out)])
    assert finished(result), (result.output, result.exception)
    report = json.loads(out.read_text())
    names = [Path(c["checkpoint"]).name for c in report["checkpoints"]]
    assert names == [f"network-snapshot-{k:06d}.pkl" for k in (0, 200, 400)]
    assert all(c["data"]["source"] == str(data8) for c in report["checkpoints"])
    (run,) = report["runs"]
    assert run["kind"] == "nvlabs" and run["data_found"] == str(data8) and run["data_used"]
    assert [s["kimg"] for s in run["snapshots_probed"]] == [0, 200, 400]
    assert f"real data from {root / 'training_options.json'}" in result.output
    # the report itself says where the data came from, not only stderr
    assert "all 3 snapshots; real data from" in " ".join(result.stdout.split())


def test_a_run_whose_data_is_gone_asks_for_data(tmp_path: Path) -> None:
    root = nvlabs_run(tmp_path / "run", [0, 200], None)
    result = runner.invoke(app, ["probe", str(root), "--steps", "5"])
    assert result.exit_code == 2
    assert "/datasets/gone.zip" in result.output and "--data" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("option", [["--every", "2"], ["--last", "0"]])
def test_snapshot_choice_needs_a_run(tmp_path: Path, data8, option: list[str]) -> None:
    result = runner.invoke(app, ["probe", str(data8), "--data", str(data8), *option])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_rosinality_run_reads_its_data_from_the_saved_arguments(tmp_path: Path, data8) -> None:
    root = tmp_path / "stylegan2-pytorch"
    (root / "checkpoint").mkdir(parents=True)
    (root / "sample").mkdir()  # train.py's sample grids, beside the checkpoints
    data = tmp_path / "digits16"
    write_pngs(data, _digits(16)[:300])
    for step in (20000, 10000):
        saved = train_py_checkpoint(root / "checkpoint" / f"{step:06d}.pt", small(step),
                                    small(step), iter=step)  # fmt: skip
        stored = torch.load(saved, weights_only=False)
        stored["args"].path = str(data)  # train.py's positional argument: the LMDB's path
        torch.save(stored, saved)
    run = find_run(root)
    assert run is not None and run.kind == "rosinality"
    assert [s.step for s in run.snapshots] == [10000, 20000]
    assert run.data_path == str(data) and run.options["r1"] == 10.0
    out = tmp_path / "r.json"
    args = ["probe", str(root), "--steps", "5", "--json", str(out), "-q", "--no-own-d"]
    result = runner.invoke(app, args)  # (the maker's D is a stub)
    assert finished(result), (result.output, result.exception)
    report = json.loads(out.read_text())
    assert [c["data"]["source"] for c in report["checkpoints"]] == [str(data)] * 2


class _Module:
    """Built in the Lightning test only: lightning is a test-only dependency."""


def test_a_lightning_run_made_by_lightning(tmp_path: Path, data8) -> None:
    lightning = pytest.importorskip("lightning", reason="lightning is a test-only dependency")
    from conftest import untrained_dcgan

    class TinyGAN(lightning.LightningModule):
        """A GAN LightningModule as people write them: G and D as attributes, the data
        set's folder among the saved hyperparameters."""

        def __init__(self, data_dir: str) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.generator = untrained_dcgan()
            self.discriminator = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(256, 1))
            self.automatic_optimization = False

        def training_step(self, batch, index):
            z = torch.randn(len(batch[0]), 16, 1, 1)
            loss = self.discriminator(self.generator(z)).mean()
            optimizer = self.optimizers()
            optimizer.zero_grad()
            self.manual_backward(loss)
            optimizer.step()  # counts the global step, which names the checkpoints
            self.log("d_loss", loss)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    images = torch.utils.data.TensorDataset(torch.zeros(8, 1, 16, 16))
    trainer = lightning.Trainer(
        default_root_dir=str(tmp_path), max_epochs=3, limit_train_batches=2,
        enable_progress_bar=False, enable_model_summary=False, logger=True, log_every_n_steps=1,
        callbacks=[lightning.pytorch.callbacks.ModelCheckpoint(save_top_k=-1, save_last=True)],
        accelerator="cpu", devices=1,
    )  # fmt: skip
    trainer.fit(TinyGAN(str(data8)), torch.utils.data.DataLoader(images, batch_size=4))
    run = find_run(tmp_path)
    assert run is not None and run.kind == "lightning"
    assert [s.epoch for s in run.snapshots] == [0, 1, 2]  # last.ckpt left out
    assert any("last.ckpt" in note for note in run.notes)
    assert run.data_path == str(data8)
    assert run.root == str(tmp_path / "lightning_logs" / "version_0")
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["probe", str(tmp_path), "--steps", "5", "--json", str(out)])
    assert finished(result), (result.output, result.exception)
    report = json.loads(out.read_text())
    names = [Path(c["checkpoint"]).name for c in report["checkpoints"]]
    assert names == ["epoch=0-step=2.ckpt", "epoch=1-step=4.ckpt", "epoch=2-step=6.ckpt"]
    assert report["checkpoints"][0]["generator"]["architecture"] == "dcgan"
    assert report["runs"][0]["kind"] == "lightning"
    # the d_loss the module logged, read from Lightning's TensorBoard event file
    logged = [c["run_log"] for c in report["checkpoints"]]
    # Lightning logs batch k at step k - 1 (the batches stepped before it): 0..5 for six
    # batches; each snapshot reads the last value logged at or before its own step.
    assert [entry["step"] for entry in logged] == [2, 4, 5]
    assert all(isinstance(entry["d_loss"], float) for entry in logged)


def test_a_run_s_own_logs_sit_beside_each_snapshot(tmp_path: Path, data8) -> None:
    """NVlabs' stats.jsonl and metric-fid50k_full.jsonl beside the snapshots: each
    probed snapshot's run_log holds what was logged at its tick, and --rank reads its FID."""
    from runs_made import stats_line, tick_kimg, write_metric, write_stats

    ticks = range(0, 101, 50)
    root = nvlabs_run(tmp_path / "run", [round(tick_kimg(t)) for t in ticks], data8)
    lines = [stats_line(t, tick_kimg(t), d_loss=1.3 - 0.001 * t, r_t=0.3, p=0.1 * t / 100)
             for t in range(0, 101)]  # fmt: skip
    write_stats(root, lines)
    write_metric(root, [(tick_kimg(t), 50.0 - 0.2 * t) for t in ticks])
    out = tmp_path / "report.json"
    args = ["probe", str(root), "--steps", "5", "--rank", "--json", str(out), "-q"]
    result = runner.invoke(app, args)
    assert finished(result), (result.output, result.exception)
    report = json.loads(out.read_text())
    logged = [c["run_log"] for c in report["checkpoints"]]
    assert [entry["kimg"] for entry in logged] == pytest.approx([tick_kimg(t) for t in ticks])
    assert [entry["d_loss"] for entry in logged] == pytest.approx([1.3, 1.25, 1.2])
    assert [entry["fid"] for entry in logged] == pytest.approx([50.0, 40.0, 30.0])
    ranked = {s["checkpoint"]: s["fid"] for s in report["ranking"]["snapshots"]}
    assert sorted(ranked.values()) == pytest.approx([30.0, 40.0, 50.0])


SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "stylegan"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures/stylegan is not here")
def test_runs_of_the_authors_own_files(tmp_path: Path) -> None:
    """The checkpoints rosinality's train.py and NVlabs' training loop wrote (the shared
    fixtures), laid out as their runs lay them out, probed as run folders."""
    import shutil

    rosinality = tmp_path / "stylegan2-pytorch" / "checkpoint"
    rosinality.mkdir(parents=True)
    shutil.copy(SHARED / "rosinality_000100.pt", rosinality / "000100.pt")
    nvlabs = tmp_path / "00000-rgb32"
    nvlabs.mkdir()
    shutil.copy(SHARED / "stylegan2-ada_rgb32.pkl", nvlabs / "network-snapshot-000040.pkl")
    data = tmp_path / "rgb32"
    images = _digits(32)[:300].repeat(1, 3, 1, 1)
    write_pngs(data, images)  # grey PNGs; the RGB generators read them as RGB
    for root, kind in ((rosinality.parent, "rosinality"), (nvlabs, "nvlabs")):
        out = tmp_path / f"{kind}.json"
        args = ["probe", str(root), "--data", str(data), "--steps", "5", "--json", str(out)]
        result = runner.invoke(app, [*args, "-q"])
        assert finished(result), (kind, result.output, result.exception)
        report = json.loads(out.read_text())
        assert report["runs"][0]["kind"] == kind and len(report["checkpoints"]) == 1
        # the run's options name a data set that is not here; --data was given instead
        assert report["runs"][0]["data_found"] is None and not report["runs"][0]["data_used"]
        assert all(c["own_discriminator"] is not None for c in report["checkpoints"])

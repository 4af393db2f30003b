"""A sweep shared among processes (--shard, torchrun) and joined again (gandoctor merge)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.cli.sharding import Shard, parse_shard
from gandoctor.errors import ConfigError

FOUR = [f"examples/dcgan_digits_epoch{n}.safetensors" for n in (0, 1, 10, 25)]
QUICK = ["--data", "examples/digits", "--steps", "5", "--quiet"]


def test_parse_shard_from_text_and_from_torchrun():
    assert parse_shard("1/4", {}) == Shard(1, 4)
    env = {"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1"}
    assert parse_shard("auto", env) == Shard(3, 8, local_rank=1)
    for bad in ("4/4", "1", "a/b", "-1/2"):
        with pytest.raises(ConfigError, match="--shard"):
            parse_shard(bad, {})
    with pytest.raises(ConfigError, match="torchrun"):
        parse_shard("auto", {})


def test_a_shard_takes_every_nth_checkpoint_its_gpu_and_its_own_report():
    shard = Shard(1, 3, local_rank=1)
    assert shard.take(list("abcdefg")) == ["b", "e"]
    assert shard.device("cuda") == "cuda:1" and shard.device("cpu") == "cpu"
    assert shard.path("out/report-{rank}.json") == "out/report-1.json"
    with pytest.raises(ConfigError, match="no checkpoint"):
        Shard(2, 3).take(["a", "b"])


def test_two_shards_merge_into_the_whole_sweep(tmp_path):
    runner = CliRunner()
    for index in (0, 1):
        out = str(tmp_path / "part-{rank}.json")
        result = runner.invoke(app, ["probe", *FOUR, *QUICK, "--shard", f"{index}/2",
                                     "--json", out, "--fail-on", "none"])  # fmt: skip
        assert result.exit_code == 0, result.output
    parts = [json.loads((tmp_path / f"part-{i}.json").read_text()) for i in (0, 1)]
    assert [len(p["checkpoints"]) for p in parts] == [2, 2]
    merged_path = tmp_path / "merged.json"
    files = [str(tmp_path / f"part-{i}.json") for i in (0, 1)]
    result = runner.invoke(app, ["merge", *files, "--json", str(merged_path)])
    assert result.exit_code == 0, result.output  # the parts were not gated
    merged = json.loads(merged_path.read_text())
    assert [c["checkpoint"] for c in merged["checkpoints"]] == FOUR  # natural order again
    assert merged["verdict"] == "failing" and merged["merged_from"] == files
    gated = runner.invoke(app, ["merge", *files, "--fail-on", "fail", "--json", "-"])
    assert gated.exit_code == 1 and json.loads(gated.output)["exit_code"] == 1


def test_merge_refuses_what_is_not_a_report(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"schema": "something else"}')
    result = CliRunner().invoke(app, ["merge", str(bogus)])
    assert result.exit_code == 2
    assert "is not a gandoctor report" in result.output


def test_torchrun_shares_the_sweep_between_its_processes(tmp_path):
    """The README's command: two local processes under torchrun, each probing half."""
    out = tmp_path / "part-{rank}.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "gandoctor", "probe", *FOUR, *QUICK,
               "--shard", "auto", "--fail-on", "none", "--json", str(out)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr[-2000:]
    names = [
        [
            c["checkpoint"]
            for c in json.loads((tmp_path / f"part-{i}.json").read_text())["checkpoints"]
        ]
        for i in (0, 1)
    ]
    assert names == [FOUR[0::2], FOUR[1::2]]

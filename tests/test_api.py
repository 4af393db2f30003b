"""The library entry points: several checkpoints in one run, and the public API."""

import pytest
from conftest import untrained_dcgan, write_pngs
from safetensors.torch import save_file

import gandoctor
from gandoctor.errors import CheckpointError
from gandoctor.paths import expand_checkpoints


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return str(path)


def test_folders_and_patterns_expand_in_natural_order(tmp_path):
    names = ["g_epoch10.pt", "g_epoch2.safetensors", "g_epoch1.pth", "notes.txt"]
    for name in names:
        touch(tmp_path / "run" / name)
    expected = [str(tmp_path / "run" / n) for n in names[2::-1]]  # epoch1, epoch2, epoch10
    assert expand_checkpoints([tmp_path / "run"]) == expected
    assert expand_checkpoints([str(tmp_path / "run" / "g_epoch*")]) == expected
    single = tmp_path / "hf"
    touch(single / "model.safetensors")
    touch(single / "config.json")
    assert expand_checkpoints([single]) == [str(single)]  # a Hugging Face style folder
    assert expand_checkpoints(["plain.safetensors"]) == ["plain.safetensors"]


def test_empty_folder_and_unmatched_pattern_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        expand_checkpoints([tmp_path / "empty"])
    with pytest.raises(CheckpointError, match="no checkpoint matches"):
        expand_checkpoints([str(tmp_path / "nothing*.pt")])


def test_probe_compares_checkpoints_with_the_same_split_and_seeds(tmp_path, digits):
    run = tmp_path / "run"
    run.mkdir()
    save_file(untrained_dcgan(seed=0).state_dict(), run / "a.safetensors")
    save_file(untrained_dcgan(seed=0).state_dict(), run / "b.safetensors")
    write_pngs(tmp_path / "imgs", digits[:300])
    report = gandoctor.probe(run, tmp_path / "imgs", config=gandoctor.ProbeConfig(steps=10))
    a, b = report.checkpoints
    assert [a.checkpoint, b.checkpoint] == [str(run / "a.safetensors"), str(run / "b.safetensors")]
    # Identical generators, identical split and seeds: identical measurements.
    assert a.outcome.series.to_dict() == b.outcome.series.to_dict()
    assert a.data == b.data
    assert report.to_dict()["checkpoints"][1]["summary"]["steps_run"] == 10


def test_inspect_reports_the_train_eval_difference(tmp_path):
    path = tmp_path / "g.safetensors"
    save_file(untrained_dcgan().state_dict(), path)
    facts = gandoctor.inspect(path)
    assert facts["architecture"] == "dcgan"
    assert facts["latent_distribution"] == "normal" and facts["num_classes"] is None
    assert facts["train_eval_difference"] > 10  # fresh BatchNorm statistics
    # inspect leaves no trace on the module it built: a second call gives the same facts.
    assert gandoctor.inspect(path) == facts  # the public name, same facts

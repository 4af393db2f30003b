"""``gandoctor preflight``: one known defect per architecture (tests/preflight_archs.py),
each caught by its row; a healthy DCGAN passes every static check; exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import _digits, write_pngs
from typer.testing import CliRunner, Result

from gandoctor.cli import app

ARCHS = Path(__file__).parent / "preflight_archs.py"
DCGAN = "gandoctor.loading.layouts.architectures.dcgan:DCGANGenerator"
DCGAN_KWARGS = '{"latent_dim": 16, "widths": [32, 16], "out_channels": 1}'
STATIC = ("data shape", "value range", "NaN/Inf", "uses z", "gradient flow: dead layers",
          "gradient flow: layer balance", "train/eval mode", "batch of 1")  # fmt: skip
runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """400 grey 16x16 digit PNGs (stored 0..255)."""
    root = tmp_path_factory.mktemp("digits")
    write_pngs(root, _digits(16)[:400])
    return root


@pytest.fixture(scope="module")
def signed_npy(tmp_path_factory) -> Path:
    """The same digits as a float array already scaled to [-1, 1]."""
    path = tmp_path_factory.mktemp("arrays") / "digits.npy"
    np.save(path, _digits(16)[:400].numpy())
    return path


def preflight(*args: object) -> Result:
    return runner.invoke(app, ["preflight", *(str(a) for a in args)], env={"COLUMNS": "200"})


def rows(result: Result) -> dict[str, dict]:
    """The checks of a ``--json -`` run, by name."""
    report = json.loads(result.stdout)
    assert report["schema"] == "gandoctor.preflight/1"
    return {check["check"]: check for check in report["checks"]}


def arch(name: str) -> str:
    return f"{ARCHS}:{name}"


def test_healthy_dcgan_passes_every_static_check(folder):
    result = preflight("--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--data", folder,
                       "--steps", 30, "--json", "-")  # fmt: skip
    assert result.exit_code == 0, result.output
    checks = rows(result)
    for name in STATIC:
        assert checks[name]["status"] == "pass", checks[name]
    balance = checks["gradient flow: layer balance"]["evidence"]
    assert balance["spread_decades"] < 3  # measured 0.7-1.7 on untrained DCGANs
    assert len(balance["layers"]) == 5
    mode = checks["train/eval mode"]["evidence"]["train_eval_difference"]
    assert mode < 0.5  # ~5 % once the BatchNorm statistics are averaged
    # The short probe ran; what it finds on an untrained generator warns, never fails.
    assert checks["short probe"]["evidence"]["steps_run"] >= 1
    assert {c["status"] for n, c in checks.items() if n.startswith("probe")} <= {"warn", "pass"}
    assert json.loads(result.stdout)["exit_code"] == 0


def test_sigmoid_generator_against_data_in_minus_one_one_fails_the_range(folder, signed_npy):
    # Data scaled to [-1, 1] by the training code, declared with --output-range.
    declared = preflight("--arch", arch("SigmoidGenerator"), "--data", folder,
                         "--output-range", "-1,1", "--steps", 5, "--json", "-")  # fmt: skip
    assert declared.exit_code == 1, declared.output
    check = rows(declared)["value range"]
    assert check["status"] == "fail"
    assert "Sigmoid bounds outputs to [0, 1], 50.0% of the data range [-1, 1]" in check["reason"]
    # The same data saved as an array in [-1, 1]: the stored range tells.
    stored = preflight("--arch", arch("SigmoidGenerator"), "--data", signed_npy,
                       "--steps", 5, "--json", "-")  # fmt: skip
    check = rows(stored)["value range"]
    assert check["status"] == "fail", check
    assert check["evidence"]["stored_data_range"] == [-1.0, 1.0]
    assert stored.exit_code == 1


def test_data_left_in_0_255_against_a_tanh_generator_fails(folder):
    result = preflight("--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--data", folder,
                       "--output-range", "0,255", "--steps", 5, "--json", "-")  # fmt: skip
    check = rows(result)["value range"]
    assert check["status"] == "fail"
    assert "Tanh bounds outputs to [-1, 1], 0.4% of the data range [0, 255]" in check["reason"]


def test_generator_that_ignores_z_fails(folder):
    result = preflight("--arch", arch("ConstantGenerator"), "--latent-shape", 16,
                       "--data", folder, "--json", "-")  # fmt: skip
    assert result.exit_code == 1
    checks = rows(result)
    assert checks["uses z"]["status"] == "fail"
    assert checks["uses z"]["evidence"]["spread_ratio"] == 0
    assert checks["short probe"]["status"] == "skip"  # nothing to probe


def test_dead_layer_fails_gradient_flow(folder):
    result = preflight("--arch", arch("DeadLayerGenerator"), "--latent-shape", 16,
                       "--data", folder, "--steps", 5, "--json", "-")  # fmt: skip
    assert result.exit_code == 1
    check = rows(result)["gradient flow: dead layers"]
    assert check["status"] == "fail"
    assert "2 of 3 layers get exactly zero gradient" in check["reason"]
    facts = {layer["layer"]: layer for layer in check["evidence"]["layers"]}
    assert facts["dead_in"]["nonsat"] == facts["dead_out"]["minimax"] == 0
    assert facts["live"]["nonsat"] > 0


@pytest.mark.parametrize("name", ["GatedAttentionGenerator", "SpectralGatedAttentionGenerator"])
def test_a_zero_initialised_gate_is_not_a_dead_layer(folder, name):
    """SAGAN's attention: no gradient reaches the query and key convolutions at step 0, but
    after one optimiser step it does; the row says so and passes, spectral-normed layers
    too (tests/test_attn_gan.py: the package's own)."""
    result = preflight("--arch", arch(name), "--latent-shape", 16,
                       "--data", folder, "--steps", 5, "--json", "-")  # fmt: skip
    check = rows(result)["gradient flow: dead layers"]
    assert check["status"] == "pass", check["reason"]
    assert sorted(check["evidence"]["zero_at_initialisation"]) == ["key_conv", "query_conv",
                                                                    "value_conv"]  # fmt: skip
    assert "only after one optimiser step" in check["reason"]
    facts = {layer["layer"]: layer for layer in check["evidence"]["layers"]}
    assert facts["query_conv"]["nonsat"] == facts["value_conv"]["minimax"] == 0
    assert facts["stem"]["nonsat"] > 0


def test_deep_sigmoid_generator_fails_the_layer_balance(folder):
    result = preflight("--arch", arch("DeepSigmoidGenerator"), "--data", folder,
                       "--steps", 5, "--json", "-")  # fmt: skip
    assert result.exit_code == 1
    checks = rows(result)
    assert checks["gradient flow: dead layers"]["status"] == "pass"  # tiny, but not zero
    balance = checks["gradient flow: layer balance"]
    assert balance["status"] == "fail"
    assert balance["evidence"]["spread_decades"] >= 6
    assert "from net.0 " in balance["reason"]  # the first layer gets the least
    # A looser fail threshold (--threshold) turns it into a warning.
    loose = preflight("--arch", arch("DeepSigmoidGenerator"), "--data", folder, "--steps", 5,
                      "--threshold", "layer_spread_fail_decades=12", "--json", "-")  # fmt: skip
    assert rows(loose)["gradient flow: layer balance"]["status"] == "warn"


def test_batchnorm1d_generator_fails_the_batch_of_one(folder):
    result = preflight("--arch", arch("BatchNorm1dGenerator"), "--data", folder,
                       "--steps", 5, "--json", "-")  # fmt: skip
    assert result.exit_code == 1
    checks = rows(result)
    assert checks["batch of 1"]["status"] == "fail"
    assert "Expected more than 1 value per channel" in checks["batch of 1"]["reason"]
    assert checks["uses z"]["status"] == "pass"  # the rest of it is fine


def test_channel_mismatch_is_one_row_not_a_crash(folder):
    result = preflight("--arch", arch("ColourGenerator"), "--data", folder,
                       "--steps", 5, "--json", "-")  # fmt: skip
    assert result.exit_code == 1
    check = rows(result)["data shape"]
    assert check["status"] == "fail"
    assert "grey (1 channel), the generator makes 3 channel(s)" in check["reason"]


def test_user_discriminator_with_sigmoid_and_one_that_does_not_fit(folder):
    ok = preflight("--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--data", folder,
                   "--disc", arch("SigmoidDiscriminator"), "--steps", 5, "--json", "-")  # fmt: skip
    checks = rows(ok)
    assert checks["discriminator"]["status"] == "pass"
    assert "probabilities (final Sigmoid)" in checks["discriminator"]["reason"]
    assert checks["gradient flow: dead layers"]["evidence"]["discriminator"] == "user"
    # Its BatchNorm2d sees 4x4 values per channel even for one sample: that works.
    assert checks["batch of 1"]["status"] == "pass"
    assert "generator and discriminator run" in checks["batch of 1"]["reason"]
    wrong = preflight("--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--data", folder,
                      "--disc", arch("SigmoidDiscriminator"), "--disc-kwargs", '{"channels": 3}',
                      "--steps", 5, "--json", "-")  # fmt: skip
    assert wrong.exit_code == 1
    checks = rows(wrong)
    assert checks["discriminator"]["status"] == "fail"
    assert checks["gradient flow: dead layers"]["status"] == "skip"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--arch", "nomodule"], "--arch must look like package.module:Class"),
        (["--arch", f"{ARCHS}:Missing"], "has no attribute 'Missing'"),
        ([], "preflight needs --arch module:Class, or a checkpoint to load"),
        (["--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--disc", "x.py:D"],
         "--disc: file x.py not found"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(folder, args, needle):
    result = preflight(*args, "--data", folder)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gandoctor: error:"), result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.output


def test_table_shows_every_row_and_the_exit_code(folder):
    result = preflight("--arch", arch("BatchNorm1dGenerator"), "--data", folder, "--steps", 5)
    assert result.exit_code == 1
    for name in STATIC:
        assert name in result.stdout
    assert "fail — 1 failed" in result.stdout and "(exit 1)" in result.stdout


def test_preflight_reads_dataset_zips_and_lmdbs(tmp_path):
    """The data as StyleGAN users have them: the stored form is read from the archive's
    members (nothing extracted), and the checks compare it with the generator's."""
    from datasets_made import nvlabs_zip, rosinality_lmdb
    from PIL import Image

    pixels = ((_digits(16)[:300, 0].numpy() + 1) * 127.5).round().astype(np.uint8)
    archive = nvlabs_zip(tmp_path / "digits.zip", pixels)
    lmdb_path = rosinality_lmdb(
        tmp_path / "lmdb", [Image.fromarray(p).convert("RGB") for p in pixels], sizes=(8, 16)
    )
    before = sorted(p.name for p in lmdb_path.iterdir())
    for data, kind, stored in ((archive, "zip", "L 16x16"), (lmdb_path, "lmdb", "RGB 16x16")):
        result = preflight("--arch", DCGAN, "--arch-kwargs", DCGAN_KWARGS, "--data", data,
                           "--steps", 5, "--json", "-")  # fmt: skip
        assert result.exit_code in (0, 1), result.output
        raw = json.loads(result.stdout)["data"]["stored"]
        assert raw["kind"] == kind and stored in raw["description"], raw
        assert raw["size"] == [16, 16]  # the LMDB's largest resolution
    assert sorted(p.name for p in lmdb_path.iterdir()) == before  # no lock file added

"""The command line: report on stdout, one-line errors on stderr, exit codes 0 / 1 / 2.

Tiny 16x16 checkpoints and a few hundred digit PNGs in ``tmp_path``, probes of a few to a few
tens of steps; one longer probe (32x32, 150 steps) shows the default gate failing on an
untrained generator.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from conftest import _digits, drop_timings, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from typer.testing import CliRunner, Result

import gandoctor
from gandoctor.cli import app
from gandoctor.config import Thresholds

runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # Rich wraps the table to the terminal width; keep labels whole
N_IMAGES = 400
TABLE_ROWS = ("steps to saturation", "held-out accuracy", "minimax")

# Thresholds that make D count as saturated from step 0 (a fail-severity `saturation`
# finding after a few steps) and rule out `vanishing`, `exploding` and `collapse` (an untrained
# generator's samples are all alike), so the findings of a short probe of an untrained DCGAN
# are exactly saturation (fail) + mode_mismatch (info).
FORCED = [
    "--threshold", "saturation_accuracy=0",
    "--threshold", "saturation_fake_prob=1",
    "--threshold", "vanishing_fail_decades=99",
    "--threshold", "vanishing_warn_decades=99",
    "--threshold", "exploding_fail_decades=99",
    "--threshold", "exploding_warn_decades=99",
    "--threshold", "noisy_cv=99",
    "--threshold", "collapse_fail_duplicates=1e9",
    "--threshold", "collapse_warn_duplicates=1e9",
    "--threshold", "collapse_warn_diversity=0",
    "--threshold", "collapse_warn_coverage=0",
]  # fmt: skip


# --- helpers ------------------------------------------------------------------------------


def invoke(*args: object, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_usage_error(result: Result, *needles: str) -> str:
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gandoctor: error:"), lines[0]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def checkpoint_of(result: Result) -> dict:
    """The single checkpoint of a ``--json -`` report on stdout."""
    report = json.loads(result.stdout)
    assert len(report["checkpoints"]) == 1
    return report["checkpoints"][0]


def codes(checkpoint: dict) -> set[str]:
    return {f["code"] for f in checkpoint["findings"]}


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def save_generator(module: torch.nn.Module, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    return path


def row(stdout: str, label: str) -> str:
    """The one line of ``stdout`` whose text, after the table's border, starts with ``label``."""
    lines = [line for line in stdout.splitlines() if line.lstrip("│┃ ").startswith(label)]
    assert len(lines) == 1, (label, stdout)
    return lines[0]


# --- shared inputs (read-only for the tests that use them) ---------------------------------


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 16x16 grayscale DCGAN, DCGANGenerator(16, [32, 16], 1)."""
    folder = tmp_path_factory.mktemp("ckpt")
    return save_generator(untrained_dcgan(), folder / "g.safetensors")


@pytest.fixture(scope="module")
def imgs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 real 16x16 digits as PNGs."""
    folder = tmp_path_factory.mktemp("data") / "imgs"
    write_pngs(folder, _digits(16)[:N_IMAGES])
    return folder


@pytest.fixture(scope="module")
def table_run(ckpt: Path, imgs: Path, tmp_path_factory: pytest.TempPathFactory):
    """``probe ckpt --data imgs --steps 20 --json out.json``: table on stdout, JSON in a file."""
    out = tmp_path_factory.mktemp("out") / "out.json"
    result = invoke("probe", ckpt, "--data", imgs, "--steps", 20, "--json", out, env=WIDE)
    return result, out


@pytest.fixture(scope="module")
def json_run(ckpt: Path, imgs: Path) -> Result:
    return invoke("probe", ckpt, "--data", imgs, "--steps", 20, "--json", "-")


# --- the report ----------------------------------------------------------------------------


def test_the_report_names_the_device_and_precision_it_ran_in(table_run) -> None:
    result, out = table_run
    settings = json.loads(out.read_text())["settings"]
    # The run gates (--fail-on defaults to fail), so it runs in fp32, where the thresholds
    # were calibrated, whatever the CPU (cli.project_config).
    assert settings["precision"] == "fp32"
    assert f"device cpu, --precision {settings['precision']}" in result.stdout


def test_an_unknown_precision_is_a_usage_error(ckpt: Path, imgs: Path) -> None:
    result = invoke("probe", ckpt, "--data", imgs, "--precision", "fp16")
    assert "unknown precision 'fp16'" in assert_usage_error(result)


def test_table_on_stdout_and_exit_code_is_the_gate(table_run) -> None:
    result, out = table_run
    assert result.exit_code in (0, 1), (result.output, result.exception)
    report = json.loads(out.read_text())
    assert result.exit_code == report["exit_code"]
    stdout = result.stdout
    assert "gandoctor probe" in stdout
    for label in TABLE_ROWS:
        assert label in stdout, label
    verdict = report["checkpoints"][0]["verdict"]
    assert verdict in row(stdout, "verdict ")
    gate = row(stdout, "gate (--fail-on fail):")
    if result.exit_code:
        assert "fails on" in gate and "(exit 1)" in gate
    else:
        assert "passes (exit 0)" in gate
    assert "{" not in stdout  # no JSON mixed into the table


def test_json_to_stdout_parses_and_holds_the_schema(json_run: Result) -> None:
    assert json_run.exit_code in (0, 1), (json_run.output, json_run.exception)
    report = json.loads(json_run.stdout)  # the whole of stdout
    assert report["schema"] == "gandoctor.report/1"
    assert report["version"] == gandoctor.__version__
    assert report["verdict"] in {"healthy", "warning", "failing", "broken"}
    assert report["exit_code"] == json_run.exit_code
    (c,) = report["checkpoints"]
    assert c["checkpoint"].endswith("g.safetensors")
    assert c["verdict"] == report["verdict"]
    g = c["generator"]
    assert g["architecture"] == "dcgan"
    assert g["latent_shape"] == [16, 1, 1]
    assert g["output_shape"] == [1, 16, 16]
    assert g["parameters"] == sum(p.numel() for p in untrained_dcgan().parameters())
    assert c["summary"]["steps_run"] == 20
    steps = c["series"]["step"]
    assert isinstance(steps, list) and steps[0] == 0 and steps[-1] == 20
    assert isinstance(c["findings"], list)
    for finding in c["findings"]:
        assert {"code", "severity", "message", "evidence"} <= finding.keys()
    for table_text in ("gandoctor probe", "│", "┃", "gate (--fail-on", "D steps run"):
        assert table_text not in json_run.stdout


def test_json_file_is_written_next_to_the_table_without_leftovers(table_run) -> None:
    result, out = table_run
    assert "held-out accuracy" in result.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "gandoctor.report/1"
    assert report["checkpoints"][0]["summary"]["steps_run"] == 20
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.json"]


def test_same_inputs_give_the_same_report(table_run, json_run: Result) -> None:
    file_report = json.loads(table_run[1].read_text())
    stdout_report = json.loads(json_run.stdout)
    for report in (file_report, stdout_report):
        drop_timings(report["checkpoints"][0]["probe"])
    assert file_report == stdout_report


# --- exit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [
        ("none", 0),
        ("exploding,vanishing", 0),
        ("saturation", 1),
        ("mode_mismatch", 1),  # an info finding, named by code
        ("Exploding, SATURATION", 1),
        ("warn", 1),
    ],
)
def test_fail_on_selects_the_findings_that_fail_the_gate(
    ckpt: Path, imgs: Path, fail_on: str, code: int
) -> None:
    result = invoke(
        "probe", ckpt, "--data", imgs, "--steps", 3, *FORCED, "--fail-on", fail_on, "--json", "-"
    )
    assert result.exit_code == code, (result.output, result.exception)
    c = checkpoint_of(result)
    severities = {f["code"]: f["severity"] for f in c["findings"]}
    assert severities == {"saturation": "fail", "mode_mismatch": "info"}
    assert json.loads(result.stdout)["exit_code"] == code


def test_untrained_32px_generator_fails_the_default_gate(
    digits32: torch.Tensor, tmp_path: Path
) -> None:
    path = save_generator(untrained_dcgan(widths=(32, 16, 8)), tmp_path / "g32.safetensors")
    write_pngs(tmp_path / "imgs32", digits32[:600])
    out = tmp_path / "report.json"
    # D saturates at step ~94 (DESIGN.md: within about 50-100); 150 steps leave a margin and
    # cost a third less than 300 (early stop would end those at ~220).
    result = invoke(
        "probe", path, "--data", tmp_path / "imgs32", "--steps", 150, "--json", out, env=WIDE
    )
    assert result.exit_code == 1, (result.output, result.exception)
    assert "fails on" in row(result.stdout, "gate (--fail-on fail):")
    assert "saturation" in row(result.stdout, "gate (--fail-on fail):")
    report = json.loads(out.read_text())
    assert report["exit_code"] == 1
    (c,) = report["checkpoints"]
    assert c["generator"]["output_shape"] == [1, 32, 32]
    assert c["verdict"] == "failing"
    fails = {f["code"] for f in c["findings"] if f["severity"] == "fail"}
    assert "saturation" in fails
    assert c["summary"]["steps_to_saturation"] is not None


def nan_checkpoint(path: Path) -> Path:
    g = untrained_dcgan()
    with torch.no_grad():
        next(iter(g.parameters())).fill_(float("nan"))
    return save_generator(g, path)


def test_nan_weights_are_broken_and_fail(imgs: Path, tmp_path: Path) -> None:
    path = nan_checkpoint(tmp_path / "nan.safetensors")
    result = invoke("probe", path, "--data", imgs, "--steps", 20, "--json", "-")
    assert result.exit_code == 1, (result.output, result.exception)
    report = json.loads(result.stdout)  # strict JSON: NaN figures must not break it
    assert report["verdict"] == "broken"
    assert codes(report["checkpoints"][0]) == {"broken"}  # nothing else is worth saying


def test_fail_on_bogus_is_a_usage_error(ckpt: Path, imgs: Path) -> None:
    assert_usage_error(invoke("probe", ckpt, "--data", imgs, "--fail-on", "bogus"), "bogus")


# --- thresholds ----------------------------------------------------------------------------


def test_threshold_override_shows_in_the_json_settings(ckpt: Path, imgs: Path) -> None:
    result = invoke(
        "probe", ckpt, "--data", imgs, "--steps", 2,
        "--threshold", "vanishing_fail_decades=9", "--json", "-",
    )  # fmt: skip
    assert result.exit_code in (0, 1), (result.output, result.exception)
    thresholds = json.loads(result.stdout)["settings"]["thresholds"]
    expected = {**asdict(Thresholds()), "vanishing_fail_decades": 9.0}
    assert thresholds == expected


@pytest.mark.parametrize(
    ("item", "needle"),
    [("nope=1", "nope=1"), ("vanishing_fail_decades=abc", "abc"), ("novalue", "NAME=VALUE")],
)
def test_bad_threshold_is_a_usage_error(ckpt: Path, imgs: Path, item: str, needle: str) -> None:
    result = invoke("probe", ckpt, "--data", imgs, "--threshold", item)
    assert_usage_error(result, "--threshold", needle)


def test_table_shows_saturation_at_step_zero(ckpt: Path, imgs: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = invoke("probe", ckpt, "--data", imgs, "--steps", 3, *FORCED, "--json", out, env=WIDE)
    assert result.exit_code == 1, (result.output, result.exception)
    assert json.loads(out.read_text())["checkpoints"][0]["summary"]["steps_to_saturation"] == 0
    assert "not saturated" not in row(result.stdout, "steps to saturation")


# --- bad input: exit 2, one line on stderr -------------------------------------------------


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, Path]:
    """Broken inputs of every kind."""
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    text = tmp_path / "text.safetensors"
    text.write_text("this is not a checkpoint\n")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"foo.weight": torch.zeros(3, 3)}, str(foreign))
    empty_dir = tmp_path / "no_images"
    empty_dir.mkdir()
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    rng = torch.Generator().manual_seed(0)
    for i in range(3):
        noise = torch.randint(0, 256, (300,), generator=rng, dtype=torch.uint8)
        (corrupt / f"{i}.png").write_bytes(bytes(noise.tolist()))
    return {
        "missing": tmp_path / "missing.safetensors",
        "folder": empty_dir,
        "empty": empty,
        "text": text,
        "foreign": foreign,
        "no_data": tmp_path / "no_such_data",
        "empty_dir": empty_dir,
        "corrupt": corrupt,
    }


@pytest.mark.parametrize(
    ("checkpoint", "data", "needle"),
    [
        ("missing", None, "not found"),
        ("folder", None, "holds no checkpoint"),
        ("empty", None, "empty"),
        ("text", None, "safetensors"),
        ("foreign", None, "--arch"),
        (None, "no_data", "not found"),
        (None, "empty_dir", "no image files"),
        (None, "corrupt", "could be read"),
    ],
)
def test_bad_checkpoint_or_data_is_one_line(
    bad: dict[str, Path],
    ckpt: Path,
    imgs: Path,
    checkpoint: str | None,
    data: str | None,
    needle: str,
) -> None:
    path = bad[checkpoint] if checkpoint else ckpt
    folder = bad[data] if data else imgs
    assert_usage_error(invoke("probe", path, "--data", folder, "--steps", 2), needle)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--arch", "nosuchmodule:Gen"], "nosuchmodule"),
        (["--arch-kwargs", "{bad json"], "not valid JSON"),
        (["--arch", "gandoctor.loading:DCGANGenerator", "--arch-kwargs", "[1]"], "JSON object"),
        (["--arch-kwargs", '{"latent_dim": 16}'], "needs --arch"),
        (["--latent-shape", "abc"], "--latent-shape"),
        (["--latent-shape", "16,0"], "--latent-shape"),
        (["--output-range", "1,0"], "low < high"),
        (["--output-range", "abc"], "--output-range"),
        (["--steps", "0"], "steps"),
        (["--batch-size", "1"], "batch size"),
        (["--batch-size", "100000"], "exceeds the"),
        (["--threshold", "saturation_accuracy=nan"], "finite number"),
        (["--threshold", "saturation_fake_prob=2"], "probability"),
        (["--max-images", "1"], "--max-images"),
        (["--fail-on", ""], "--fail-on"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_option_is_one_line(ckpt: Path, imgs: Path, options: list[str], needle: str) -> None:
    assert_usage_error(invoke("probe", ckpt, "--data", imgs, *options), needle)


def test_unwritable_json_path_fails_before_probing(
    ckpt: Path, imgs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gandoctor.api

    def no_probe(*args: object, **kwargs: object) -> None:
        pytest.fail("the probe ran although the report could not be written")

    monkeypatch.setattr(gandoctor.api, "probe", no_probe)
    result = invoke("probe", ckpt, "--data", imgs, "--json", "/nonexistent/dir/out.json")
    assert_usage_error(result, "/nonexistent/dir")
    assert_usage_error(invoke("probe", ckpt, "--data", imgs, "--json", tmp_path), "folder")


# --- data warnings -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 good digit PNGs and 3 files named .png that are not images."""
    folder = tmp_path_factory.mktemp("mixed") / "imgs"
    write_pngs(folder, _digits(16)[:300])
    for i in range(3):
        (folder / f"broken_{i}.png").write_bytes(os.urandom(200))
    return folder


def test_some_corrupt_images_are_skipped_with_a_warning(ckpt: Path, mixed: Path) -> None:
    result = invoke("probe", ckpt, "--data", mixed, "--steps", 2, "--json", "-")
    assert result.exit_code in (0, 1), (result.output, result.exception)
    c = checkpoint_of(result)  # the warning stays off stdout
    assert c["data"]["skipped"] == 3 and c["data"]["used"] == 300
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gandoctor: warning:") and "skipped" in lines[0]


def test_quiet_silences_the_warning(ckpt: Path, mixed: Path) -> None:
    result = invoke("probe", ckpt, "--data", mixed, "--steps", 2, "--quiet", "--json", "-")
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert checkpoint_of(result)["data"]["skipped"] == 3
    assert result.stderr == ""


# --- inspect ---------------------------------------------------------------------------------


def test_inspect_prints_what_was_detected(ckpt: Path) -> None:
    result = invoke("inspect", ckpt, env=WIDE)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "dcgan" in row(result.stdout, "architecture ")
    assert "[16, 1, 1]" in row(result.stdout, "latent_shape ")
    assert "[1, 16, 16]" in row(result.stdout, "output_shape ")
    assert result.stderr == ""


def test_inspect_json(ckpt: Path) -> None:
    result = invoke("inspect", ckpt, "--json", "-")
    assert result.exit_code == 0, (result.output, result.exception)
    facts = json.loads(result.stdout)
    assert facts["architecture"] == "dcgan"
    assert facts["latent_shape"] == [16, 1, 1]
    assert facts["output_shape"] == [1, 16, 16]
    assert facts["output_range"] == [-1.0, 1.0]
    assert facts["parameters"] == sum(p.numel() for p in untrained_dcgan().parameters())


@pytest.mark.parametrize("name", ["empty", "text", "foreign", "missing"])
def test_inspect_bad_checkpoint_is_one_line(bad: dict[str, Path], name: str) -> None:
    assert_usage_error(invoke("inspect", bad[name]))


# --- version and help ----------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gandoctor {gandoctor.__version__}" == "gandoctor 0.1.0"


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "probe" in result.stdout and "inspect" in result.stdout


# --- the real entry point: click's usage errors as one line --------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["probe"], "Missing argument"),
        (["probe", "x", "--data", "y", "--steps", "notanumber"], "--steps"),
        (["probe", "x", "--data", "y", "--no-such-option"], "--no-such-option"),
        (["probe", "x", "--data", "y", "--fail-on", "bogus"], "bogus"),
    ],
)
def test_entry_point_usage_errors_are_one_line(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gandoctor", *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("gandoctor: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in completed.stderr


def test_entry_point_exit_code_and_clean_json(imgs: Path, tmp_path: Path) -> None:
    """Exit 1 from the gate survives ``main()``; stdout holds only the JSON report."""
    path = nan_checkpoint(tmp_path / "nan.safetensors")
    completed = subprocess.run(
        [sys.executable, "-m", "gandoctor", "probe", path, "--data", imgs, "--json", "-"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    assert report["verdict"] == "broken" and report["exit_code"] == 1
    assert completed.stderr == ""


# --- --arch: user code ---------------------------------------------------------------------

CUSTOM = textwrap.dedent(
    """
    import torch
    from torch import nn


    class MLPGen(nn.Module):
        def __init__(self, n: int = 8) -> None:
            super().__init__()
            self.fc = nn.Linear(n, 64)
            self.out = nn.Linear(64, 16 * 16)

        def forward(self, z):
            return torch.tanh(self.out(torch.relu(self.fc(z)))).view(-1, 1, 16, 16)
    """
)


def test_custom_arch_from_a_file(imgs: Path, tmp_path: Path) -> None:
    source = tmp_path / "models" / "mlp.py"
    source.parent.mkdir()
    source.write_text(CUSTOM)
    torch.manual_seed(0)
    path = save_generator(runpy.run_path(str(source))["MLPGen"](n=16), tmp_path / "mlp.safetensors")
    arch = f"{source}:MLPGen"
    result = invoke(
        "probe", path, "--data", imgs, "--steps", 5,
        "--arch", arch, "--arch-kwargs", '{"n": 16}', "--json", "-",
    )  # fmt: skip
    assert result.exit_code in (0, 1), (result.output, result.exception)
    g = checkpoint_of(result)["generator"]
    assert "MLPGen" in g["architecture"]
    assert g["latent_shape"] == [16]
    assert g["output_shape"] == [1, 16, 16]
    # Without the kwargs the class is built with n=8 and the weights do not fit.
    assert_usage_error(invoke("probe", path, "--data", imgs, "--arch", arch))


# --- inputs stay untouched -----------------------------------------------------------------


def test_probe_leaves_its_inputs_untouched(ckpt: Path, imgs: Path) -> None:
    checkpoint_before = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    data_before = digest_tree(imgs)
    neighbours_before = sorted(p.name for p in ckpt.parent.iterdir())
    result = invoke("probe", ckpt, "--data", imgs, "--steps", 2, "--quiet")
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert hashlib.sha256(ckpt.read_bytes()).hexdigest() == checkpoint_before
    assert digest_tree(imgs) == data_before
    assert len(data_before) == N_IMAGES
    assert sorted(p.name for p in ckpt.parent.iterdir()) == neighbours_before


def test_the_command_line_starts_without_importing_torch():
    """`gandoctor --help` and `--version` stay fast (benchmarks/bench.py startup): no module
    the CLI imports at start-up may import torch; the commands import it when they run."""
    check = "import sys, gandoctor.cli; print(sorted(m for m in sys.modules if m == 'torch'))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

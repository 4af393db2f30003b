"""``[tool.gandoctor]`` in pyproject.toml: found upwards from the current folder, checked key
by key, and overridden by the command line."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import _digits, untrained_dcgan, write_pngs
from safetensors.torch import save_file
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.cli.project_config import (
    ProjectConfig,
    find_pyproject,
    load_project_config,
    parse_table,
    resolve,
)
from gandoctor.config import ProbeConfig, Thresholds
from gandoctor.errors import ConfigError

EXAMPLE_SNIPPET = Path(__file__).resolve().parents[1] / "examples" / "ci" / "pyproject-snippet.toml"


def write_repo(root: Path, table: str) -> Path:
    """A repository whose pyproject.toml holds ``table``, with a nested sub-folder."""
    (root / "src" / "deep").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "toy-gan"\n\n' + textwrap.dedent(table), encoding="utf-8"
    )
    return root / "src" / "deep"


def test_table_is_found_from_a_sub_folder(tmp_path: Path) -> None:
    sub = write_repo(
        tmp_path / "repo",
        """
        [tool.gandoctor]
        steps = 120
        max-seconds = 30
        fail_on = ["saturation:fail", "vanishing"]
        baseline = "ci/base.json"

        [tool.gandoctor.thresholds]
        vanishing_fail_decades = 1.5
        """,
    )
    config = load_project_config(sub)
    assert config.path == (tmp_path / "repo" / "pyproject.toml").resolve()
    assert config.steps == 120
    assert config.max_seconds == 30.0 and isinstance(config.max_seconds, float)
    assert config.fail_on == "saturation:fail,vanishing"
    assert config.baseline == str((tmp_path / "repo").resolve() / "ci" / "base.json")
    assert config.thresholds == {"vanishing_fail_decades": 1.5}
    assert config.batch_size is None  # not set: the default applies


def test_search_stops_at_the_first_pyproject(tmp_path: Path) -> None:
    write_repo(tmp_path / "repo", "[tool.gandoctor]\nsteps = 120\n")
    inner = tmp_path / "repo" / "packages" / "gan"
    inner.mkdir(parents=True)
    (inner / "pyproject.toml").write_text('[project]\nname = "gan"\n', encoding="utf-8")
    assert find_pyproject(inner) == (inner / "pyproject.toml").resolve()
    assert load_project_config(inner) == ProjectConfig()  # the parent's table is hidden


def test_no_pyproject_anywhere_gives_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Path, "is_file", lambda self: False)
    assert load_project_config(tmp_path) == ProjectConfig()


@pytest.mark.parametrize(
    ("table", "needles"),
    [
        ("stepz = 3", ["[tool.gandoctor] stepz", "unknown key", "steps"]),
        ("steps = 'many'", ["[tool.gandoctor] steps", "must be an integer", "'many'"]),
        ("steps = true", ["[tool.gandoctor] steps", "must be an integer"]),
        ("steps = 0", ["[tool.gandoctor] steps", "at least 1"]),
        ("batch_size = 1", ["[tool.gandoctor] batch_size", "at least 2"]),
        ("max_seconds = -5", ["[tool.gandoctor] max_seconds", "positive"]),
        ("max_images = 1", ["[tool.gandoctor] max_images", "at least 2"]),
        ("train_mode = 1", ["[tool.gandoctor] train_mode", "true or false"]),
        ("fail_on = 'sometimes'", ["[tool.gandoctor] fail_on", "unknown entry 'sometimes'"]),
        ("fail_on = 3", ["[tool.gandoctor] fail_on", "string or a list"]),
        ("precision = 'fp16'", ["[tool.gandoctor] precision", "unknown precision 'fp16'"]),
        ("[tool.gandoctor.thresholds]\nnope = 1", ["[tool.gandoctor.thresholds] nope", "unknown"]),
        (
            "[tool.gandoctor.thresholds]\nsaturation_accuracy = 2",
            ["[tool.gandoctor.thresholds]", "saturation_accuracy is a probability"],
        ),
        ("steps = ", ["invalid TOML"]),
    ],
)
def test_bad_table_names_the_file_and_the_key(
    tmp_path: Path, table: str, needles: list[str]
) -> None:
    sub = write_repo(tmp_path, "[tool.gandoctor]\n" + table + "\n")
    with pytest.raises(ConfigError) as error:
        load_project_config(sub)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(str((tmp_path / "pyproject.toml").resolve()))
    for needle in needles:
        assert needle in message, message


def test_command_line_wins_and_thresholds_merge_by_name(tmp_path: Path) -> None:
    thresholds = {"noisy_cv": 0.9, "vanishing_fail_decades": 3}
    table = {"steps": 120, "seed": 7, "fail_on": "warn", "thresholds": thresholds}
    project = parse_table(table, tmp_path / "pyproject.toml")
    r = resolve(
        project, ["vanishing_fail_decades=4"], steps=50, seed=None, fail_on=None, batch_size=None
    )
    assert (r.steps, r.seed, r.fail_on) == (50, 7, "warn")  # given, file, file
    assert r.batch_size == ProbeConfig().batch_size  # neither: the default
    assert r.thresholds == Thresholds(noisy_cv=0.9, vanishing_fail_decades=4.0)
    assert resolve(ProjectConfig()).fail_on == "fail"
    # A run that gates (the default --fail-on fail, or a baseline) runs in fp32 unless told
    # otherwise; one that gates nothing gets the command line's auto; the file's value and
    # the command line's win over both.
    assert resolve(ProjectConfig()).precision == "fp32"
    assert resolve(ProjectConfig(), fail_on="none").precision == "auto"
    assert resolve(ProjectConfig(), fail_on="none", baseline="b.json").precision == "fp32"
    assert resolve(ProjectConfig(), precision="bf16").precision == "bf16"
    assert resolve(parse_table({"precision": "fp32"}, tmp_path / "pyproject.toml")).precision == (
        "fp32"
    )


def test_example_snippet_is_a_valid_table() -> None:
    import tomllib

    document = tomllib.loads(EXAMPLE_SNIPPET.read_text(encoding="utf-8"))
    config = parse_table(document["tool"]["gandoctor"], EXAMPLE_SNIPPET)
    assert config.steps == 200
    assert config.fail_on == "range_mismatch,fail"
    assert config.thresholds == {"regression_saturation_share": 0.25, "regression_decades": 0.5}


# --- the command line -------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    ckpt = folder / "g.safetensors"
    save_file(untrained_dcgan().state_dict(), str(ckpt))
    write_pngs(folder / "imgs", _digits(16)[:300])
    return ckpt, folder / "imgs"


def test_cli_reads_the_table_from_a_parent_folder_and_options_win(
    tmp_path: Path, inputs: tuple[Path, Path], monkeypatch
) -> None:
    ckpt, imgs = inputs
    # Saturated from step 0 (saturation at fail level), nothing else but a mode note.
    sub = write_repo(
        tmp_path / "repo",
        """
        [tool.gandoctor]
        steps = 3
        fail_on = "none"

        [tool.gandoctor.thresholds]
        saturation_accuracy = 0
        saturation_fake_prob = 1
        """,
    )
    monkeypatch.chdir(sub)
    args = ["probe", str(ckpt), "--data", str(imgs), "--json", "-"]
    from_file = runner.invoke(app, args)
    assert from_file.exit_code == 0, from_file.output  # fail_on = "none" from the file
    report = json.loads(from_file.stdout)
    assert report["settings"]["steps"] == 3
    assert report["fail_on"] == "none"
    assert report["config_file"] == str((tmp_path / "repo" / "pyproject.toml").resolve())
    (c,) = report["checkpoints"]
    assert c["summary"]["steps_run"] == 3
    assert {f["code"]: f["severity"] for f in c["findings"]}["saturation"] == "fail"

    overridden = runner.invoke(
        app, [*args, "--steps", "4", "--fail-on", "saturation", "--threshold", "noisy_cv=0.7"]
    )
    assert overridden.exit_code == 1, overridden.output  # the command line's gate
    report = json.loads(overridden.stdout)
    assert report["settings"]["steps"] == 4
    assert report["checkpoints"][0]["summary"]["steps_run"] == 4
    expected = {**asdict(Thresholds()), "saturation_accuracy": 0, "saturation_fake_prob": 1}
    assert report["settings"]["thresholds"] == {**expected, "noisy_cv": 0.7}


def test_cli_bad_table_is_one_line(tmp_path: Path, inputs: tuple[Path, Path], monkeypatch) -> None:
    ckpt, imgs = inputs
    monkeypatch.chdir(write_repo(tmp_path, "[tool.gandoctor]\nsteps = 'x'\n"))
    result = runner.invoke(app, ["probe", str(ckpt), "--data", str(imgs)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gandoctor: error: ")
    assert "pyproject.toml: [tool.gandoctor] steps must be an integer" in lines[0]


def test_help_shows_the_real_defaults() -> None:
    result = runner.invoke(app, ["probe", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for needle in ("(default: 500)", "(default: 64)", "(default: 10000)", "(default: fail)"):
        assert needle in text, needle
    assert "[tool.gandoctor]" in text

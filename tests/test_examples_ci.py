"""examples/ci: the GitHub Actions workflow and the pre-commit hook run the command the README
documents. Their YAML structure is checked where PyYAML is installed (it is no dependency of
gandoctor); the pytest example runs as part of the suite (testpaths), the pyproject snippet
is checked in test_project_config.py."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from gandoctor.cli import app

CI = Path(__file__).resolve().parents[1] / "examples" / "ci"
WORKFLOW = CI / "gandoctor.yml"
PRE_COMMIT = CI / "pre-commit-config.yaml"


def probe_options(command: str) -> list[str]:
    """The options of a ``gandoctor probe`` command line, checked against the real CLI."""
    words = shlex.split(command)
    assert words[:2] == ["gandoctor", "probe"], command
    names = {
        name for param in _probe_params() for name in param.opts + param.secondary_opts
    }  # every spelling the command accepts
    options = [w for w in words if w.startswith("--")]
    unknown = [o for o in options if o not in names]
    assert not unknown, unknown
    return options


def _probe_params() -> list:
    import typer.main

    command = typer.main.get_command(app)
    return command.commands["probe"].params  # type: ignore[attr-defined]


def test_workflow_runs_the_gate_with_baseline_summary_and_json() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    block = text.split("run: >-\n", 1)[1].split("\n\n", 1)[0]  # the folded probe command
    command = " ".join(line.strip() for line in block.splitlines())
    options = probe_options(command)
    assert {"--data", "--baseline", "--markdown", "--json", "--html", "--samples"} <= set(options)
    assert '--markdown "$GITHUB_STEP_SUMMARY"' in command


def test_workflow_yaml_structure() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["generator-health"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    probe = next(s for s in steps if "gandoctor probe" in s.get("run", ""))
    probe_options(probe["run"])
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    uploaded = upload["with"]["path"].split()
    assert upload["if"] == "always()"
    assert uploaded == ["gandoctor-report.json", "gandoctor-report.html", "gandoctor-samples/"]
    triggers = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    assert triggers == {"pull_request": None, "push": {"branches": ["main"]}}


def test_pre_commit_hook() -> None:
    text = PRE_COMMIT.read_text(encoding="utf-8")
    entry = next(line for line in text.splitlines() if line.strip().startswith("entry:"))
    probe_options(entry.split("entry:", 1)[1].strip())
    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load(text)["repos"][0]["hooks"]
    assert hook["language"] == "system" and hook["pass_filenames"] is False

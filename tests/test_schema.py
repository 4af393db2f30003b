"""The published JSON Schemas (schema/): valid, what schema/build.py writes, in step with the
code's records and vocabulary, and strict enough to refuse what the code does not write.
Every report the rest of the suite makes is validated against them too (conftest.py)."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SCHEMA_DIR,
    SchemaViolation,
    check_against_schema,
    check_cli_output,
    schema_validator,
    schema_violation_expected,
    stand_in_paths,
)
from jsonschema import Draft202012Validator, ValidationError
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig, RemedyOptions
from gandoctor.enums import FindingCode, LatentDistribution, Severity, Verdict
from gandoctor.loading.generator.info import GeneratorInfo
from gandoctor.plans import PLAN_CHOICES
from gandoctor.preflight.result import SCHEMA as PREFLIGHT_SCHEMA
from gandoctor.preflight.result import Status
from gandoctor.report.model import SCHEMA as REPORT_SCHEMA
from gandoctor.results.own_discriminator import OwnDiscriminator
from gandoctor.results.plan import ProbePlan
from gandoctor.results.repeats import FIGURES
from gandoctor.results.samples import CollapseStats
from gandoctor.results.series import GeneratorHealth, ProbeSeries, Summary
from gandoctor.runtime.precision import PRECISIONS
from gandoctor.thresholds import Thresholds

REPORT_FILE = SCHEMA_DIR / "report.schema.json"
PREFLIGHT_FILE = SCHEMA_DIR / "preflight.schema.json"
EXAMPLE = "examples/with_d/dcgan_digits_epoch1.safetensors"
DATA = "examples/digits"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def errors(report: dict[str, Any], schema_id: str = REPORT_SCHEMA) -> list[str]:
    """Every error's message, with those under anyOf (a nullable object) that say why."""

    def flat(error: ValidationError) -> Iterator[str]:
        yield error.message
        for inner in error.context or []:
            yield from flat(inner)

    return [m for e in schema_validator(schema_id).iter_errors(report) for m in flat(e)]


def defs() -> dict[str, Any]:
    return load(REPORT_FILE)["$defs"]


def names(schema: dict[str, Any]) -> set[str]:
    return set(schema["properties"])


def field_names(record: type) -> set[str]:
    return {f.name for f in fields(record)}


# --- the schemas themselves -----------------------------------------------------------------


@pytest.mark.parametrize("path", [REPORT_FILE, PREFLIGHT_FILE], ids=lambda p: p.name)
def test_the_schemas_are_valid_draft_2020_12(path: Path) -> None:
    schema = load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_schema_files_are_what_build_py_writes() -> None:
    """The JSON is generated: an edit by hand, or a build.py change not run, fails here."""
    spec = importlib.util.spec_from_file_location("schema_build", SCHEMA_DIR / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert REPORT_FILE.read_text(encoding="utf-8") == build.render(build.report_schema())
    assert PREFLIGHT_FILE.read_text(encoding="utf-8") == build.render(build.preflight_schema())


def _walk(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}")


@pytest.mark.parametrize("path", [REPORT_FILE, PREFLIGHT_FILE], ids=lambda p: p.name)
def test_every_property_is_described_and_every_object_closed(path: Path) -> None:
    """Outside the conditions of if/then (which only pick a finding's evidence), every
    object with properties refuses others, and every property says what it means."""
    undescribed, open_objects = [], []
    for where, node in _walk(load(path)):
        if "/if" in where or where.endswith("/then") or "properties" not in node:
            continue
        if node.get("additionalProperties") is not False:
            open_objects.append(where)
        for key, value in node["properties"].items():
            if not str(value.get("description", "")).strip():
                undescribed.append(f"{where}/properties/{key}")
    assert undescribed == []
    assert open_objects == []


# --- in step with the code ----------------------------------------------------------------


def _enum(schema: dict[str, Any]) -> set[str]:
    return set(schema["enum"])


def test_the_vocabulary_is_the_code_s() -> None:
    """Every value the code can write for a verdict, severity, code, latent distribution,
    precision, plan or preflight status is in the schemas, and nothing else."""
    d = defs()
    assert _enum(d["verdict"]) == {str(v) for v in Verdict}
    assert _enum(d["severity"]) == {str(s) for s in Severity}
    assert _enum(d["finding_code"]) == {str(c) for c in FindingCode}
    assert _enum(d["latent_distribution"]) == {str(v) for v in LatentDistribution}
    assert _enum(d["settings"]["properties"]["precision"]) == set(PRECISIONS)
    assert _enum(d["settings"]["properties"]["plan"]) == set(PLAN_CHOICES)
    preflight = load(PREFLIGHT_FILE)
    assert _enum(preflight["properties"]["status"]) == {str(s) for s in Status}
    assert _enum(preflight["$defs"]["check"]["properties"]["status"]) == {str(s) for s in Status}


def _evidence_rules(definition: dict[str, Any], key: str) -> dict[str, str]:
    """What each if/then of ``definition`` picks as the evidence, by the value of ``key``."""
    return {
        rule["if"]["properties"][key]["const"]: rule["then"]["properties"]["evidence"]["$ref"]
        for rule in definition["allOf"]
    }


def test_every_finding_code_has_its_evidence() -> None:
    report, preflight = load(REPORT_FILE)["$defs"], load(PREFLIGHT_FILE)["$defs"]
    in_report = _evidence_rules(report["finding"], "code")
    in_preflight = _evidence_rules(preflight["check"], "check")
    for code in FindingCode:
        assert in_report[str(code)] == f"#/$defs/evidence_{code}"
        assert in_preflight[f"probe: {code}"] == f"#/$defs/evidence_{code}"
        assert f"evidence_{code}" in report and f"evidence_{code}" in preflight


def test_every_finding_code_and_severity_is_a_gate_and_a_count() -> None:
    """fail_on's pattern and repeats' finding_counts take every code and severity."""
    d = load(REPORT_FILE)
    pattern = d["properties"]["fail_on"]
    counts = d["$defs"]["repeats"]["properties"]["finding_counts"]
    for code in FindingCode:
        for severity in Severity:
            text = f"{code}:{severity}"
            assert not Draft202012Validator(pattern).is_valid(text + ",nonsense")
            assert Draft202012Validator(pattern).is_valid(f"{text},{severity},borderline")
            assert Draft202012Validator(counts).is_valid({text: 2})
    assert not Draft202012Validator(counts).is_valid({"nonsense:fail": 1})


@pytest.mark.parametrize(
    ("definition", "record", "added"),
    [
        ("thresholds", Thresholds, set()),
        ("settings", ProbeConfig, set()),
        ("summary", Summary, set()),
        ("probe_series", ProbeSeries, set()),
        ("health", GeneratorHealth, {"spread_ratio"}),
        ("collapse", CollapseStats, {"duplicate_ratio"}),
        ("plan", ProbePlan, set()),
        ("own_discriminator", OwnDiscriminator, set()),
        ("generator", GeneratorInfo, set()),
    ],
)
def test_the_records_fields_are_the_schema_s(definition: str, record: type, added: set) -> None:
    """A field added to one of the records the report writes as a whole needs its entry."""
    assert names(defs()[definition]) == field_names(record) | added


def test_the_remedy_settings_ranking_and_repeat_figures_are_the_schema_s() -> None:
    from gandoctor.results.ranking import RankedSnapshot, Ranking

    d = defs()
    assert names(d["ranking"]) == field_names(Ranking)
    assert names(d["ranking"]["properties"]["snapshots"]["items"]) == field_names(RankedSnapshot)
    assert names(d["remedies"]["properties"]["settings"]) == field_names(RemedyOptions)
    assert names(d["repeats"]["properties"]["figures"]) == set(FIGURES)


# --- real reports ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The shipped example probed with every branch on (layers, seeds, remedies, its own D
    with unseen reals), then again against that report as a baseline at a planned level."""
    out = tmp_path_factory.mktemp("reports")
    runner = CliRunner()
    common = ["--data", DATA, "--fail-on", "none", "--quiet"]
    branches = ["--layers", "--seeds", "2", "--val-data", DATA, "--remedies",
                "--noise-levels", "0.1"]  # fmt: skip
    full = runner.invoke(
        app,
        ["probe", EXAMPLE, *common, "--steps", "30", *branches, "--json", str(out / "full.json")],
    )
    assert full.exit_code == 0, full.output
    again = runner.invoke(app, ["probe", EXAMPLE, *common, "--steps", "20", "--plan", "2",
                                "--baseline", str(out / "full.json"),
                                "--json", str(out / "baseline.json")])  # fmt: skip
    assert again.exit_code == 0, again.output
    merged = runner.invoke(
        app, ["merge", str(out / "baseline.json"), "--json", str(out / "merged.json")]
    )
    assert merged.exit_code == 0, merged.output
    return {name: load(out / f"{name}.json") for name in ("full", "baseline", "merged")}


def test_reports_of_the_example_follow_the_schema(reports: dict[str, dict[str, Any]]) -> None:
    full, baseline, merged = reports["full"], reports["baseline"], reports["merged"]
    for report in (full, baseline, merged):
        assert errors(report) == []
    # The branches the schema describes are all there, not null.
    c = full["checkpoints"][0]
    for key in ("summary", "collapse", "layers", "remedies", "repeats", "own_discriminator"):
        assert c[key] is not None, key
    assert c["remedies"]["critic"] is not None and c["own_discriminator"]["unseen"]
    assert baseline["baseline"]["checkpoints"] and baseline["baseline"]["settings_differ"]
    assert baseline["checkpoints"][0]["probe"]["plan"]["level"] == 2
    assert merged["merged_from"]


def test_a_key_the_schema_does_not_know_fails(reports: dict[str, dict[str, Any]]) -> None:
    full = reports["full"]
    assert errors(full) == []
    for path in ([], ["checkpoints", 0], ["checkpoints", 0, "summary"],
                 ["checkpoints", 0, "findings", 0, "evidence"],
                 ["checkpoints", 0, "remedies", "critic", "series"],
                 ["checkpoints", 0, "repeats", "per_seed", 1, "summary"],
                 ["settings", "thresholds"]):  # fmt: skip
        report = copy.deepcopy(full)
        node: Any = report
        for key in path:
            node = node[key]
        node["surprise"] = 1
        assert any("'surprise' was unexpected" in m for m in errors(report)), path


def test_a_missing_key_fails(reports: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(reports["full"])
    del report["checkpoints"][0]["health"]["spread_ratio"]
    assert any("'spread_ratio' is a required property" in m for m in errors(report))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["verdict"], "great"),
        (["exit_code"], 2),
        (["fail_on"], "fail,nonsense"),
        (["settings", "lr"], None),  # a setting is never NaN
        (["settings", "steps"], 1.5),
        (["checkpoints", 0, "summary", "steps_run"], "30"),
        (["checkpoints", 0, "summary", "minimax_declined"], 1),
        (["checkpoints", 0, "series", "step", 0], None),
        (["checkpoints", 0, "findings", 0, "severity"], "error"),
        (["checkpoints", 0, "findings", 0, "code"], "unknown_code"),
        (["checkpoints", 0, "generator", "latent_shape"], "64"),
        (["checkpoints", 0, "repeats", "votes"], {"great": 1}),
        (["checkpoints", 0, "own_discriminator", "r1"], 4.4),
    ],
)
def test_a_wrong_type_or_value_fails(
    reports: dict[str, dict[str, Any]], path: list[Any], value: Any
) -> None:
    report = copy.deepcopy(reports["full"])
    node: Any = report
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert errors(report) != [], path


def test_a_finding_s_evidence_follows_its_code(reports: dict[str, dict[str, Any]]) -> None:
    report = copy.deepcopy(reports["full"])
    finding = next(f for f in report["checkpoints"][0]["findings"] if f["code"] == "saturation")
    finding["code"] = "vanishing"  # saturation's evidence is not vanishing's
    assert errors(report) != []


def test_nan_is_written_as_null_where_a_figure_may_be_nan(
    reports: dict[str, dict[str, Any]],
) -> None:
    """The hook validates what is written: NaN becomes null, allowed for measured figures
    and refused for settings."""
    report = copy.deepcopy(reports["full"])
    report["checkpoints"][0]["summary"]["final_overfit_rv"] = math.nan
    report["checkpoints"][0]["summary"]["minimax_decades_lost"] = math.inf
    check_against_schema(report)
    report["settings"]["lr"] = math.nan
    with pytest.raises(SchemaViolation, match="lr"):
        check_against_schema(report)


# --- the hook -------------------------------------------------------------------------------


def test_the_hook_refuses_a_report_the_schema_does_not_describe(digits) -> None:
    """Report.to_dict is validated in every test: a checkpoint with a generator entry the
    schema does not know raises where the report is made."""
    from conftest import untrained_dcgan

    report = gandoctor.probe(untrained_dcgan(), digits[:300], config=ProbeConfig(steps=3))
    assert report.to_dict()["schema"] == REPORT_SCHEMA  # validated, and valid
    odd = replace(report.checkpoints[0], generator={**report.checkpoints[0].generator, "x": 1})
    with schema_violation_expected("'x' was unexpected"):
        replace(report, checkpoints=[odd]).to_dict()
    with schema_violation_expected():
        replace(report, checkpoints=[odd]).to_json()


def test_the_hook_checks_what_a_gandoctor_process_wrote(
    tmp_path: Path, reports: dict[str, dict[str, Any]]
) -> None:
    good, bad = copy.deepcopy(reports["full"]), copy.deepcopy(reports["full"])
    bad["checkpoints"][0]["verdict"] = "great"
    (tmp_path / "part-0.json").write_text(json.dumps(good))
    (tmp_path / "part-1.json").write_text(json.dumps(bad))
    argv = ["python", "-m", "gandoctor", "probe", "g.pt", "--json"]
    check_cli_output([*argv, str(tmp_path / "part-0.json")], 0, "")
    with pytest.raises(SchemaViolation, match="great"):
        check_cli_output([*argv, str(tmp_path / "part-{rank}.json")], 0, "")
    with pytest.raises(SchemaViolation):
        check_cli_output([*argv, "-"], 1, json.dumps(bad))
    check_cli_output([*argv, "-"], 2, json.dumps(bad))  # a usage error writes no report
    check_cli_output(["python", "-m", "gandoctor", "inspect", "g.pt", "--json", "-"], 0, "{}")


def test_a_preflight_report_follows_its_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["preflight", "examples/dcgan_digits_epoch0.safetensors",
                                      "--data", DATA, "--steps", "5", "--json", "-"])  # fmt: skip
    report = json.loads(result.stdout)
    assert report["schema"] == PREFLIGHT_SCHEMA
    assert errors(report, PREFLIGHT_SCHEMA) == []
    names = {c["check"] for c in report["checks"]}
    assert {"data shape", "value range", "short probe"} <= names
    report["checks"][0]["evidence"]["surprise"] = 1
    assert errors(report, PREFLIGHT_SCHEMA) != []


def test_only_a_test_s_hand_made_entries_are_left_out(reports: dict[str, dict[str, Any]]) -> None:
    """The hook leaves out what a test built by hand (conftest.stand_in_paths) and nothing
    that gandoctor writes: a real report has no stand-in, and a stand-in's other entries
    are still checked."""
    assert stand_in_paths(reports["full"]) == []
    report = copy.deepcopy(reports["full"])
    report["checkpoints"][0]["data"] = {}
    report["checkpoints"][0]["generator"] = {"architecture": "pool"}
    assert stand_in_paths(report) == ["$.checkpoints[0].generator", "$.checkpoints[0].data"]
    check_against_schema(report, stand_ins=True)
    with pytest.raises(SchemaViolation):
        check_against_schema(report)
    report["checkpoints"][0]["verdict"] = "great"
    with pytest.raises(SchemaViolation, match="great"):
        check_against_schema(report, stand_ins=True)

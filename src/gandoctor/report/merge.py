"""Joining the JSON reports of a sweep that ran in several processes (``--shard``) into one
report: the checkpoints in natural order, the worst verdict, the strictest exit code."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.judge.gate import FailOn
from gandoctor.judge.ranking import Candidate, rank
from gandoctor.paths import natural_key
from gandoctor.report.model import SCHEMA
from gandoctor.results.outcome import Finding


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A saved ``gandoctor probe --json`` report, checked to be one."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read report {path}: {error.strerror or error}") from None
    except (ValueError, RecursionError) as error:
        raise ConfigError(f"{path} is not JSON: {error}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ConfigError(f"{path} is not a gandoctor report (schema {SCHEMA})")
    if not isinstance(report.get("checkpoints"), list):
        raise ConfigError(f"{path}: its 'checkpoints' is not a list")
    return report


def merge_reports(
    reports: list[dict[str, Any]], sources: list[str], fail_on: FailOn | None = None
) -> dict[str, Any]:
    """One report from several made with the same settings and gate. With ``fail_on``,
    the exit code comes from that gate applied to the findings, not from the reports (so
    the sharded probes can run with ``--fail-on none`` and the merge decides)."""
    if not reports:
        raise ConfigError("no report to merge")
    gates = {r.get("fail_on") for r in reports}
    if fail_on is None and len(gates) > 1:
        raise ConfigError(f"the reports were gated differently ({', '.join(map(str, gates))})")
    checkpoints = [c for r in reports for c in r["checkpoints"]]
    names = [str(c.get("checkpoint")) for c in checkpoints]
    if len(set(names)) < len(names):
        raise ConfigError("a checkpoint appears in more than one report")
    checkpoints.sort(key=lambda c: natural_key(str(c.get("checkpoint"))))
    merged = dict(reports[0])
    merged.update(
        verdict=str(Verdict.worst(Verdict(c["verdict"]) for c in checkpoints)),
        complete=all(r.get("complete", True) for r in reports),
        exit_code=max(int(r.get("exit_code", 0)) for r in reports),
        checkpoints=checkpoints,
        merged_from=sources,
    )
    if fail_on is not None:
        failed = any(fail_on.matches(_finding(f)) for c in checkpoints for f in c["findings"])
        merged.update(fail_on=str(fail_on), exit_code=int(failed))
    if any(r.get("ranking") for r in reports):
        # Each shard ranked only its own checkpoints: rank them all again, together.
        merged["ranking"] = rank([_candidate(c) for c in checkpoints]).to_dict()
    merged["runs"] = [run for r in reports for run in r.get("runs") or []]
    return merged


def _candidate(saved: dict[str, Any]) -> Candidate:
    """What the ranking needs, read back from a saved checkpoint entry."""
    summary = saved.get("summary") or {}
    accuracy, low, high = (
        math.nan if summary.get(k) is None else float(summary[k])
        for k in ("final_accuracy", "accuracy_low", "accuracy_high")
    )
    logged = saved.get("run_log") or {}
    return Candidate(
        str(saved["checkpoint"]),
        accuracy,
        low,
        high,
        frozenset(str(f["code"]) for f in saved["findings"] if f["severity"] in ("warn", "fail")),
        bool((saved.get("probe") or {}).get("complete", True)),
        saved.get("own_discriminator") is not None,
        logged.get("fid") if isinstance(logged.get("fid"), int | float) else None,
    )


def _finding(saved: dict[str, Any]) -> Finding:
    return Finding(
        FindingCode(saved["code"]), Severity(saved["severity"]), str(saved.get("message", "")),
        str(saved.get("remedy", "")), dict(saved.get("evidence") or {}),
    )  # fmt: skip

"""Reading a saved JSON report back, as the baseline of ``--baseline`` (judge.baseline
compares it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gandoctor.enums import Verdict
from gandoctor.errors import ConfigError
from gandoctor.report.model import SCHEMA
from gandoctor.results.baseline import Baseline, BaselineCheckpoint
from gandoctor.results.plan import PLAN_SETTINGS
from gandoctor.results.readings import finite_or_none


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read a saved report; a missing or malformed file raises ConfigError with one line."""
    name = os.fspath(path)
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{{opt:baseline}} {name}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{{opt:baseline}} {name}: cannot read it: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{{opt:baseline}} {name}: not a JSON report ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{{opt:baseline}} {name}: schema is {found!r}, expected {SCHEMA!r}")
    entries = data.get("checkpoints")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{{opt:baseline}} {name}: the report lists no checkpoints")
    try:
        checkpoints = [_checkpoint(entry) for entry in entries]
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"{{opt:baseline}} {name}: malformed checkpoint entry ({error!r})"
        ) from None
    settings = data.get("settings")
    return Baseline(name, checkpoints, settings if isinstance(settings, dict) else {})


def _checkpoint(entry: dict[str, Any]) -> BaselineCheckpoint:
    summary = entry.get("summary") or {}
    sat = summary.get("steps_to_saturation")
    return BaselineCheckpoint(
        checkpoint=str(entry["checkpoint"]),
        verdict=Verdict(entry["verdict"]),
        steps_run=int(summary.get("steps_run", 0)),
        steps_to_saturation=None if sat is None else int(sat),
        final_accuracy=finite_or_none(summary.get("final_accuracy")),
        final_d_fake=finite_or_none(summary.get("final_d_fake")),
        minimax_decades_lost=finite_or_none(summary.get("minimax_decades_lost")),
        nonsat_growth_after_peak=finite_or_none(summary.get("nonsat_growth_after_peak")),
        fail_codes=tuple(
            sorted({str(f["code"]) for f in entry["findings"] if f["severity"] == "fail"})
        ),
        complete=bool(entry.get("probe", {}).get("complete", True)),
        plan=_plan_settings(entry.get("probe", {}).get("plan")),
    )


def _plan_settings(plan: Any) -> dict[str, Any] | None:
    """What of a saved plan changes the figures (results.plan.ProbePlan.settings); None for
    the full protocol or an older report without one."""
    if not isinstance(plan, dict) or not plan.get("level"):
        return None
    return {key: plan.get(key) for key in PLAN_SETTINGS}

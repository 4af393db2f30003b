"""``[tool.gandoctor]`` in a repository's ``pyproject.toml``: probe settings, the gate and
thresholds kept in the tree, so that a CI line stays short.

The file is the first ``pyproject.toml`` found from the current folder upwards; the search
stops there whether or not it has the table (as black does), so a sub-project's file hides
its parent's. Options given on the command line win over the file, the file over the
defaults in config.py and thresholds.py. Thresholds merge name by name: ``--threshold``
changes one and keeps the file's others. Unknown keys and bad values are errors naming
the file and the key.

    [tool.gandoctor]
    steps = 300
    fail_on = "fail,range_mismatch"   # or a list: ["saturation:fail", "vanishing"]
    max_seconds = 600
    baseline = "ci/gandoctor-baseline.json"   # relative to this file's folder

    [tool.gandoctor.thresholds]
    vanishing_fail_decades = 1.5
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gandoctor.cli import parsing
from gandoctor.config import DataOptions, ProbeConfig, Thresholds
from gandoctor.errors import ConfigError
from gandoctor.judge.gate import parse_fail_on
from gandoctor.plans import DEFAULT_CPU_SECONDS
from gandoctor.runtime.devices import AUTO

TABLE = "[tool.gandoctor]"

# The file's keys and the types their values take; "-" in a key reads as "_".
_PROBE_KEYS: dict[str, type] = {
    "steps": int,
    "batch_size": int,
    "seed": int,
    "device": str,
    "precision": str,
    "grad_batches": int,
    "disc_width": int,
    "train_mode": bool,
    "early_stop": bool,
    "max_seconds": float,
    "plan": str,
    "threads": int,
}
_OTHER_KEYS: dict[str, type] = {"max_images": int, "fail_on": str, "baseline": str}
KEYS = sorted([*_PROBE_KEYS, *_OTHER_KEYS, "thresholds"])


@dataclass(frozen=True)
class ProjectConfig:
    """What a ``[tool.gandoctor]`` table sets; None = not set there (the default applies)."""

    path: Path | None = None
    """The pyproject.toml the table came from; None when there was none."""
    steps: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    device: str | None = None
    precision: str | None = None
    grad_batches: int | None = None
    disc_width: int | None = None
    train_mode: bool | None = None
    early_stop: bool | None = None
    max_seconds: float | None = None
    plan: str | None = None
    threads: int | None = None
    max_images: int | None = None
    fail_on: str | None = None
    """Normalised ``--fail-on`` text (a list in the file is joined with commas)."""
    baseline: str | None = None
    """Resolved against the file's folder, so CI can run from any sub-folder."""
    thresholds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolved:
    """Each setting from the command line if given, else the file, else its default."""

    steps: int
    batch_size: int
    seed: int
    device: str
    precision: str
    grad_batches: int
    disc_width: int | None
    train_mode: bool
    early_stop: bool
    max_seconds: float | None
    plan: str
    threads: int | None
    max_images: int
    fail_on: str
    baseline: str | None
    thresholds: Thresholds

    def probe_config(
        self, device: str, per_layer: bool = False, own_discriminator: bool = True
    ) -> ProbeConfig:
        """The library's settings of the probe: these values, on ``device``."""
        probe_keys = {key: getattr(self, key) for key in _PROBE_KEYS if key != "device"}
        return ProbeConfig(
            **probe_keys, device=device, thresholds=self.thresholds, per_layer=per_layer,
            own_discriminator=own_discriminator, cpu_budget=DEFAULT_CPU_SECONDS,
        )  # fmt: skip

    def data_options(self, cache: bool) -> DataOptions:
        if self.max_images < 2:
            raise ConfigError(f"--max-images must be at least 2, got {self.max_images}")
        return DataOptions(max_images=self.max_images, seed=self.seed, cache=cache)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The first pyproject.toml in ``start`` (default: the current folder) or above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """The ``[tool.gandoctor]`` table of the nearest pyproject.toml, checked; an empty
    ProjectConfig when there is no such file or table."""
    path = find_pyproject(start)
    if path is None:
        return ProjectConfig()
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it: {error.strerror}") from None
    table = document.get("tool", {}).get("gandoctor")
    if table is None:
        return ProjectConfig()
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {TABLE} must be a table")
    return parse_table(table, path)


def parse_table(table: dict[str, Any], path: Path) -> ProjectConfig:
    """Check every key and value of a ``[tool.gandoctor]`` table read from ``path``."""
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        where = f"{path}: {TABLE} {raw_key}"
        if key == "thresholds":
            values["thresholds"] = _thresholds(value, f"{path}: [tool.gandoctor.thresholds]")
        elif key == "fail_on":
            values["fail_on"] = _fail_on(value, where)
        elif key in _PROBE_KEYS or key in _OTHER_KEYS:
            values[key] = _typed(value, {**_PROBE_KEYS, **_OTHER_KEYS}[key], where)
        else:
            raise ConfigError(f"{where}: unknown key; known keys: {', '.join(KEYS)}")
    for key in _PROBE_KEYS:  # ProbeConfig's own checks, one key at a time, named
        if key in values:
            try:
                ProbeConfig(**{key: values[key]})
            except ConfigError as error:
                raise ConfigError(f"{path}: {TABLE} {key}: {error.template}") from None
    if values.get("max_images", 2) < 2:
        raise ConfigError(f"{path}: {TABLE} max_images must be at least 2")
    if "baseline" in values:
        values["baseline"] = str(path.parent / values["baseline"])
    return ProjectConfig(path=path, **values)


def _typed(value: Any, kind: type, where: str) -> Any:
    """``value`` if it has TOML type ``kind`` (an integer is a fine float); bools are not
    numbers here, though Python says they are."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    raise ConfigError(f"{where} must be {names[kind]}, got {value!r}")


def _fail_on(value: Any, where: str) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string or a list of strings, got {value!r}")
    try:
        return str(parse_fail_on(value))
    except ConfigError as error:
        raise ConfigError(f"{where}: {error.template}") from None


def _thresholds(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of NAME = number")
    names = {f.name for f in fields(Thresholds)}
    values: dict[str, float] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in names:
            raise ConfigError(f"{where} {raw_key}: unknown threshold; known: {sorted(names)}")
        values[key] = _typed(value, float, f"{where} {raw_key}")
    try:
        replace(Thresholds(), **values)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error.template}") from None
    return values


def resolve(
    project: ProjectConfig, threshold_items: list[str] | None = None, **given: Any
) -> Resolved:
    """Merge: ``given`` (command-line values, None = not given) over ``project`` over the
    defaults. ``--threshold NAME=VALUE`` items override the file's thresholds name by name."""
    probe, data = ProbeConfig(), DataOptions()
    defaults: dict[str, Any] = {
        **{key: getattr(probe, key) for key in _PROBE_KEYS},
        # The command line probes on the fastest device present; the library's own default
        # stays the CPU (ProbeConfig), where every figure in the README was measured.
        "device": AUTO,
        # Likewise bf16 where the device has it in hardware, for runs that gate nothing
        # (see below); the library stays fp32.
        "precision": AUTO,
        "max_images": data.max_images,
        "fail_on": "fail",
        "baseline": None,
    }
    unknown = set(given) - set(defaults)
    if unknown:
        raise TypeError(f"resolve() got unknown settings {sorted(unknown)}")
    chosen = {}
    for key, default in defaults.items():
        if given.get(key) is not None:
            chosen[key] = given[key]
        elif getattr(project, key) is not None:
            chosen[key] = getattr(project, key)
        else:
            chosen[key] = default
    overrides = {}
    for item in threshold_items or []:
        name = item.partition("=")[0].strip().replace("-", "_")
        overrides[name] = getattr(parsing.thresholds([item]), name)  # checked as --threshold
    merged = {**project.thresholds, **overrides}
    if given.get("precision") is None and project.precision is None and _gates(chosen):
        # The thresholds were calibrated in fp32, and a gate or a baseline must not depend
        # on whether the runner's CPU has bf16: gating runs use fp32 unless told otherwise.
        chosen["precision"] = "fp32"
    return Resolved(**chosen, thresholds=replace(Thresholds(), **merged))


def _gates(chosen: dict[str, Any]) -> bool:
    """Whether the run decides an exit code: a --fail-on other than none, or a baseline."""
    return str(chosen.get("fail_on", "")).strip().lower() != "none" or bool(chosen.get("baseline"))


def default_help(key: str) -> str:
    """`` (default: 500)`` for a setting's --help text: with a None default on the command
    line (to tell "not given" from "given"), Typer would show no default of its own."""
    if key == "device":
        return f" (default: {AUTO}: cuda, then mps, then cpu)"
    if key == "precision":
        return (
            " (default: fp32 when the run gates (--fail-on other than none, --baseline); "
            f"else {AUTO}: bf16 where the device has it in hardware)"
        )
    if key == "max_images":
        value: Any = DataOptions().max_images
    else:
        value = getattr(ProbeConfig(), key)
    if isinstance(value, bool):
        return f" (default: {'on' if value else 'off'})"
    if value is None:
        return " (default: none)"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return f" (default: {value})"

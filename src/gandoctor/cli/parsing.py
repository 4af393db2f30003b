"""Parsing of command-line text into gandoctor's typed configuration.

Kept apart from cli.py so that the Typer layer stays thin; nothing here imports torch.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from gandoctor.config import LoadOptions, RemedyOptions, Thresholds
from gandoctor.enums import LatentDistribution
from gandoctor.errors import ConfigError


def load_options(
    *,
    arch: str | None,
    arch_kwargs: str | None,
    latent_shape: str | None,
    output_range: str | None,
    device: str,
    key: str | None = None,
    strip_prefix: str | None = None,
    trust_pickle: bool = False,
    latent: LatentDistribution = LatentDistribution.NORMAL,
    num_classes: int | None = None,
    label_format: str = "index",
    truncation: float = 1.0,
    forward_kwargs: str | None = None,
    output_index: str | None = None,
    adapter: str | None = None,
    disc_checkpoint: str | None = None,
    disc: str | None = None,
    disc_kwargs: str | None = None,
) -> LoadOptions:
    """LoadOptions from the loading options' command-line text."""
    kwargs = json_object(arch_kwargs, "--arch-kwargs")
    if arch_kwargs is not None and arch is None and adapter is None:
        raise ConfigError("--arch-kwargs needs --arch or --adapter")
    if disc_kwargs is not None and disc is None:
        raise ConfigError("--disc-kwargs needs --disc")
    return LoadOptions(
        arch=arch,
        arch_kwargs=kwargs,
        latent_shape=ints(latent_shape, "--latent-shape") if latent_shape else None,
        output_range=value_range(output_range) if output_range else None,
        device=device,
        key=key,
        strip_prefix=strip_prefix,
        trust_pickle=trust_pickle,
        latent_distribution=latent,
        num_classes=num_classes,
        label_format=label_format,
        truncation=truncation,
        forward_kwargs=json_object(forward_kwargs, "--forward-kwargs"),
        output_index=_index(output_index),
        adapter=adapter,
        disc_checkpoint=disc_checkpoint,
        disc=disc,
        disc_kwargs=json_object(disc_kwargs, "--disc-kwargs"),
    )


def json_object(text: str | None, option: str) -> dict[str, Any]:
    """A JSON object given on the command line; {} when the option is absent."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{option} is not valid JSON ({error.msg}): {text}") from None
    except RecursionError:  # JSON nested thousands deep
        raise ConfigError(f"{option} is nested too deeply: {text[:40]}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object, got {text}")
    return value


def _index(text: str | None) -> int | str | None:
    """``--output-index``: a whole number is a position, anything else a dict key."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def ints(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{option} takes whole numbers like 100,1,1, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ConfigError(f"{option} takes positive whole numbers like 100,1,1, got {text!r}")
    return values


def value_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--output-range takes two numbers like -1,1, got {text!r}") from None
    if not low < high:
        raise ConfigError(f"--output-range needs low < high, got {text!r}")
    return low, high


def thresholds(items: list[str]) -> Thresholds:
    names = {f.name for f in fields(Thresholds)}
    values: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in names:
            raise ConfigError(
                f"--threshold {item!r}: expected NAME=VALUE with NAME one of "
                f"{', '.join(sorted(names))}"
            )
        try:
            values[name] = float(value)
        except ValueError:
            raise ConfigError(f"--threshold {name} needs a number, got {value!r}") from None
    return replace(Thresholds(), **values)


def check_output_path(path: str | None) -> None:
    """Fail before a long probe, not after it, when the report cannot be written."""
    if path is None or path == "-":
        return
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write the report to {path}: folder {parent} does not exist")
    if Path(path).is_dir():
        raise ConfigError(f"cannot write the report to {path}: it is a folder")


def remedy_options(remedies: bool, noise_levels: str | None) -> RemedyOptions | None:
    """RemedyOptions for ``--remedies`` and ``--noise-levels 0.1,0.05,0.02``; None without
    ``--remedies``."""
    if not remedies:
        if noise_levels is not None:
            raise ConfigError("--noise-levels needs --remedies")
        return None
    if noise_levels is None:
        return RemedyOptions()
    try:
        levels = tuple(float(v) for v in noise_levels.split(",") if v.strip())
    except ValueError:
        raise ConfigError(
            f"--noise-levels takes numbers like 0.1,0.05,0.02, got {noise_levels!r}"
        ) from None
    if not levels or any(not (math.isfinite(v) and v > 0) for v in levels):
        raise ConfigError(
            "--noise-levels takes positive shares of the data range like 0.1,0.05,0.02, "
            f"got {noise_levels!r}"
        )
    return RemedyOptions(noise_levels=levels)

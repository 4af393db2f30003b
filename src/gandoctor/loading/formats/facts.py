"""What a training checkpoint says about its training, beside the weights: the script's
saved arguments, the augmentation strength, how far training had got.

Shown by ``inspect`` and carried in the report (``generator.details``); none of it changes
how the generator is built, which the weights alone decide.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

PROGRESS_KEYS = ("epoch", "iter", "iteration", "step", "global_step", "kimg", "cur_nimg")
"""Entries that count how far training had got, as training scripts name them."""
SETTINGS_KEYS = ("hyper_parameters", "hparams", "conf", "config", "model_config")
"""Entries in which training scripts save their settings: Lightning's ``hyper_parameters``,
ProGAN's ``conf``, ..."""
AUGMENT_KEYS = ("ada_aug_p", "augment_p")
"""ADA's augmentation probability p (rosinality saves ``ada_aug_p``)."""


def training_facts(stored: object) -> dict[str, Any]:
    """The plain facts of a ``torch.save`` dict's top level (empty for anything else)."""
    if not isinstance(stored, Mapping):
        return {}
    facts: dict[str, Any] = {}
    for name, value in stored.items():
        if isinstance(value, argparse.Namespace):
            facts[str(name)] = {k: plain(v) for k, v in vars(value).items()}
        elif name in AUGMENT_KEYS and isinstance(value, int | float):
            facts["augment_p"] = float(value)
        elif name in PROGRESS_KEYS and isinstance(value, int | float):
            facts[str(name)] = value
        elif name in SETTINGS_KEYS and isinstance(value, Mapping):
            facts[str(name)] = {str(k): plain(v) for k, v in value.items()}
    return facts


def plain(value: Any) -> Any:
    """JSON-ready: containers and plain values as they are, anything else as its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def saved_settings(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The training settings among ``training_facts``: its saved-settings entries and saved
    ``argparse`` arguments merged, the first-named entry winning a name they share."""
    merged: dict[str, Any] = {}
    for name, value in facts.items():
        if isinstance(value, Mapping) and name not in SETTINGS_KEYS:
            merged = {**value, **merged}  # an argparse Namespace, e.g. ``args``
    for name in reversed(SETTINGS_KEYS):
        if isinstance(facts.get(name), Mapping):
            merged = {**merged, **facts[name]}
    return merged


def saved_distribution(settings: dict[str, Any]) -> str | None:
    """A latent distribution the checkpoint's saved settings name (``z_distribution:
    uniform``), where it is one gandoctor draws."""
    for key in ("z_distribution", "latent_distribution", "noise_distribution"):
        value = str(settings.get(key, "")).lower()
        if value in ("normal", "uniform"):
            return value
    return None

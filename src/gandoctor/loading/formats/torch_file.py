"""Reading ``torch.save`` files without running code from them, unless the user trusts them.

``torch.load(..., weights_only=True)`` unpickles only tensors, containers and plain values;
anything else (a whole ``nn.Module``, an argparse namespace) makes it refuse, because
unpickling an arbitrary object can run any code the file names. gandoctor refuses too and
says how to proceed; ``--trust-pickle`` unpickles fully, for files the user vouches for.
"""

from __future__ import annotations

import argparse
import contextlib
import pickle
import re
import warnings
from collections.abc import Iterator

import torch

from gandoctor.errors import CheckpointError
from gandoctor.messages import describe_exception

_REFUSED = "Weights only load failed"
"""How ``torch.load`` begins the error for objects ``weights_only`` does not allow; a
damaged pickle raises the same exception type with another text."""

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
"""The class or function the pickle wanted, as ``torch.load`` names it in that error."""


def load_torch_file(path: str, device: torch.device, trust_pickle: bool) -> object:
    """What ``torch.save`` stored in ``path``, with tensors on ``device``.

    ``map_location`` matters: a checkpoint saved from a GPU records CUDA storage and cannot
    be read on a machine without one unless its tensors are mapped elsewhere.
    """
    try:
        return _load(path, device, weights_only=True)
    except pickle.UnpicklingError as exc:
        if _REFUSED not in str(exc):
            raise CheckpointError(_unreadable(path, exc)) from exc
        if not trust_pickle:
            raise CheckpointError(_refusal(path, exc)) from None
    except Exception as exc:
        # A damaged or foreign file makes torch.load raise many types (RuntimeError, KeyError,
        # EOFError, ...); each is the file's problem, not gandoctor's.
        raise CheckpointError(_unreadable(path, exc)) from exc
    return _load_trusted(path, device)


def _load_trusted(path: str, device: torch.device) -> object:
    try:
        return _load(path, device, weights_only=False)
    except (ModuleNotFoundError, AttributeError) as exc:
        # The pickle names a class by module and name; a model saved from a training
        # script's __main__ or from a package not installed here cannot be rebuilt.
        raise CheckpointError(
            f"{path}: unpickling needs code that is not importable here "
            f"({describe_exception(exc)}); run gandoctor where the generator's module is on "
            "the Python path, or save its state_dict() with safetensors.torch.save_file"
        ) from exc
    except Exception as exc:
        raise CheckpointError(_unreadable(path, exc)) from exc


def _load(path: str, device: torch.device, weights_only: bool) -> object:
    # An open file rather than the path: given a path ending in .safetensors, torch.load
    # reads it as safetensors, and the content has already been found to be a torch.save.
    # Its warnings (a pickle protocol it did not expect, ...) are about the file's bytes, on
    # several lines of stderr; whether the file loads is said by its result or its error.
    with open(path, "rb") as handle, warnings.catch_warnings(), _training_arguments():
        warnings.simplefilter("ignore")
        stored = torch.load(handle, map_location=device, weights_only=weights_only)
    if weights_only:
        _check_plain_namespaces(path, stored)
    return stored


PLAIN = (bool, int, float, str, type(None))


@contextlib.contextmanager
def _training_arguments() -> Iterator[None]:
    """Let ``weights_only`` rebuild ``argparse.Namespace``, and nothing else beyond its own
    allowlist: training scripts (rosinality's ``train.py``) save their parsed arguments
    beside the weights. Unpickling a Namespace only sets attributes, and the values inside
    are still limited to what weights_only allows; they are checked to be plain afterwards.
    torch < 2.5 has no scoped allowlist, and such files then need ``--trust-pickle``."""
    scoped = getattr(torch.serialization, "safe_globals", None)
    if scoped is None:
        yield
        return
    with scoped([argparse.Namespace]):
        yield


def _check_plain_namespaces(path: str, stored: object) -> None:
    entries = stored.values() if isinstance(stored, dict) else [stored]
    for value in entries:
        if not isinstance(value, argparse.Namespace):
            continue
        for name, item in vars(value).items():
            items = item if isinstance(item, list | tuple) else [item]
            if not all(isinstance(v, PLAIN) for v in items):
                raise CheckpointError(
                    f"{path}: the saved arguments hold {name} = a {type(item).__name__}, not "
                    "a plain value; pass {opt:trust_pickle} for a file you trust"
                )


def _refusal(path: str, exc: BaseException) -> str:
    found = _GLOBAL.search(str(exc))
    example = f" (it needs {found.group(1)})" if found else ""
    return (
        f"{path}: the file holds pickled Python objects{example}, such as a whole module "
        "saved with torch.save(model); unpickling them would run code from the file. Pass "
        "{opt:trust_pickle} for a file you trust, or re-save the generator's state_dict() with "
        "safetensors.torch.save_file"
    )


def _unreadable(path: str, exc: BaseException) -> str:
    return f"{path}: cannot read the torch.save file ({describe_exception(exc)})"

"""Constructors that take a config object rather than plain arguments (``BigGAN(config)``,
``Generator(global_params)``), built from the JSON config saved beside the weights: through
the class's own ``from_config`` where it has one, or through the config class its
constructor takes (its annotation, or ``<Class>Config`` beside it) and that class's
``from_dict``. Where neither applies, the error names the factories the class has, so the
user can name one with ``--arch``.

``from_pretrained`` and ``from_name`` are never called here: they read weights or fetch a
named model themselves, which is the user's call to make."""

from __future__ import annotations

import inspect
import json
import sys
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from gandoctor.errors import ConfigError
from gandoctor.loading.layouts.custom_arch import build_arch, import_arch_target, user_code
from gandoctor.messages import describe_exception

FACTORIES = ("from_config", "from_dict", "from_json_file", "from_name", "from_pretrained")
"""Class methods, as repositories name them, that build a model from a config or a name;
those that build from arguments first."""
DOWNLOADING = frozenset({"from_pretrained"})
"""Factories that fetch weights themselves (from a hub or a URL): suggested last, and said."""
CONFIG_NAMES = ("config.json", "generator_config.json")
"""Where a saved config sits beside the weights, after ``<checkpoint stem>.json``."""


def build_arch_module(
    arch: str, kwargs: Mapping[str, Any], path: str, user_kwargs: Mapping[str, Any]
) -> tuple[nn.Module, str | None]:
    """``--arch``'s module, and how it was built where not by calling it with ``kwargs``:
    a class that takes one config object is built from the config saved beside the weights
    unless the user gave ``--arch-kwargs``; a call that fails names the class's factories."""
    config = None if user_kwargs else saved_config(path)
    if config is not None and takes_config(arch):
        return build_from_config(arch, config[1], config[0])
    try:
        return build_arch(arch, kwargs), None
    except ConfigError as error:
        if not (hint := factory_hint(arch)):
            raise
        raise ConfigError(error.template + hint) from error


def saved_config(checkpoint: str) -> tuple[str, dict[str, Any]] | None:
    """(path, values) of the JSON object saved beside ``checkpoint`` (in it, for a folder);
    None where there is none or it is not a readable JSON object: this is a way to build
    the generator, never a reason to refuse one."""
    path = Path(checkpoint)
    names = CONFIG_NAMES if path.is_dir() else (f"{path.stem}.json", *CONFIG_NAMES)
    folder = path if path.is_dir() else path.parent
    for name in names:
        candidate = folder / name
        if candidate.is_file() and candidate != path:
            try:
                values = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            if isinstance(values, dict):
                return str(candidate), values
    return None


def takes_config(arch: str) -> bool:
    """``arch`` is a class built from one config: it has ``from_config``, or its constructor
    takes exactly one required argument whose config class can be found."""
    target = import_arch_target(arch)
    return isinstance(target, type) and (
        callable(getattr(target, "from_config", None)) or _config_class(target) is not None
    )


def build_from_config(arch: str, values: Mapping[str, Any], where: str) -> tuple[nn.Module, str]:
    """``arch``'s class built from the config ``values`` read from ``where``, and how, in
    words."""
    target = import_arch_target(arch)
    config_class = _config_class(target)
    factory = getattr(target, "from_config", None)
    if callable(factory):
        how = f"{target.__name__}.from_config with {where}"
    else:
        assert config_class is not None
        how = f"{target.__name__}({config_class.__name__}) with {where}"
    try:
        with user_code():
            if callable(factory):
                module = _call_with(factory, values)
            else:
                assert config_class is not None
                module = target(_config(config_class, values))
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"{{opt:arch}} {arch}: building it with {how} failed: {describe_exception(exc)}"
        ) from exc
    if not isinstance(module, nn.Module):
        raise ConfigError(f"{{opt:arch}} {arch}: {how} returned a {type(module).__name__}")
    return module, how


def factory_hint(arch: str) -> str:
    """'; X has from_pretrained: ...' naming the factories of ``arch``'s class; '' for none."""
    try:
        target = import_arch_target(arch)
    except ConfigError:
        return ""
    names = [name for name in FACTORIES if callable(getattr(target, name, None))]
    if not names or not isinstance(target, type):
        return ""
    shown = [f"{name} (downloads weights)" if name in DOWNLOADING else name for name in names]
    return (
        f"; {target.__name__} has {', '.join(shown)}: name one as {{opt:arch}} "
        f"{arch}.{names[0]}, with its arguments in {{opt:arch_kwargs}}"
    )


def _config_class(target: Any) -> type | None:
    """The class of the one config object ``target``'s constructor takes: its annotation,
    else ``<Target>Config`` in the same module; None otherwise."""
    if not isinstance(target, type):
        return None
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.default is p.empty and p.kind in positional]
    if len(required) != 1:
        return None
    init: Any = target.__init__  # type: ignore[misc]
    try:
        annotation = typing.get_type_hints(init).get(required[0].name)
    except Exception:  # a string annotation that does not resolve: no annotation
        annotation = None
    if isinstance(annotation, type) and annotation not in (int, float, str, bool, dict):
        return annotation
    module = sys.modules.get(target.__module__)
    candidate = getattr(module, f"{target.__name__}Config", None)
    return candidate if isinstance(candidate, type) else None


def _config(config_class: type, values: Mapping[str, Any]) -> Any:
    """``config_class.from_dict(values)`` where it has one, else its constructor called with
    the values it names."""
    from_dict = getattr(config_class, "from_dict", None)
    if callable(from_dict):
        return from_dict(dict(values))
    return _call_with(config_class, values)


def _call_with(factory: Any, values: Mapping[str, Any]) -> Any:
    """``factory(values)`` where it takes one dict (``from_config(config)``), else
    ``factory(**values)`` with the values it names (all of them where it takes **kwargs)."""
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return factory(dict(values))
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.default is p.empty and p.kind in positional]
    named = {p.name for p in parameters}
    if len(required) == 1 and not set(values) & named:
        return factory(dict(values))  # the config as one object
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return factory(**values)
    return factory(**{k: v for k, v in values.items() if k in named})

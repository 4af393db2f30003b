"""``--arch``: the user names what builds the generator, as ``package.module:NAME`` or
``path/to/file.py:NAME``: a class, a function or a classmethod (``Generator.from_config``)
that returns an ``nn.Module``.

``--arch-kwargs`` values may themselves build objects, for constructors that take a module
or a config object: ``{"$call": "package.module:NAME", ...kwargs}`` is replaced by the
result of that call (nested as deep as needed).

This is the one place gandoctor imports user code, and only because the user asked for it on
the command line. Every way the option can be wrong becomes one :class:`ConfigError` line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from gandoctor.errors import ConfigError
from gandoctor.messages import describe_exception

_FORM = (
    "{opt:arch} must look like package.module:Class or path/to/file.py:Class "
    "(registered architectures such as dcgan are recognised without {opt:arch})"
)


def is_file_reference(location: str) -> bool:
    """A path rather than a dotted module name: it has a separator or ends in ``.py``."""
    return "/" in location or os.sep in location or location.endswith(".py")


def split_arch(arch: str) -> tuple[str, str]:
    """``"pkg.mod:Gen"`` -> ``("pkg.mod", "Gen")``; the last colon splits (Windows drives)."""
    location, colon, attribute = arch.rpartition(":")
    if not colon or not location.strip() or not attribute.strip():
        raise ConfigError(f"{_FORM}, got {arch!r}")
    return location.strip(), attribute.strip()


CALL = "$call"
"""The key of an ``--arch-kwargs`` value that is built by a call (module docstring)."""


def import_arch_target(arch: str) -> Any:
    """What ``arch`` names: a class, function or other callable."""
    location, attribute = split_arch(arch)
    module = _import_file(location) if is_file_reference(location) else _import_dotted(location)
    target: Any = module
    for part in attribute.split("."):  # "Outer.Inner" and "Class.factory" reach inside
        if not hasattr(target, part):
            raise ConfigError(f"{{opt:arch}} {arch}: {location} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        kind = type(target).__name__
        raise ConfigError(
            f"{{opt:arch}} {arch}: {attribute} is a {kind}, not a class or function that "
            "returns a torch.nn.Module"
        )
    return target


def import_arch_class(arch: str) -> type[nn.Module]:
    """The ``nn.Module`` subclass that ``arch`` names (where only a class will do)."""
    target = import_arch_target(arch)
    if not (isinstance(target, type) and issubclass(target, nn.Module)):
        kind = type(target).__name__
        raise ConfigError(
            f"{{opt:arch}} {arch}: {arch.rpartition(':')[2]} is a {kind}, not a "
            "torch.nn.Module subclass"
        )
    return target


def build_arch(arch: str, kwargs: Mapping[str, Any]) -> nn.Module:
    """Import ``arch`` and call it with ``kwargs`` (the ``--arch-kwargs``, their ``$call``
    values built first); the result must be an ``nn.Module``."""
    target = import_arch_target(arch)
    built = {name: resolve_calls(value, arch) for name, value in kwargs.items()}
    name = getattr(target, "__qualname__", arch)
    try:
        with user_code():
            module = target(**built)
    except (Exception, SystemExit) as exc:
        # The constructor is user code: a TypeError usually means the kwargs do not match its
        # signature, anything else is the class rejecting their values. Either way the user
        # fixes the option, so it is reported as one line rather than a traceback.
        raise ConfigError(
            f"{{opt:arch}} {arch}: calling {name} with {{opt:arch_kwargs}} "
            f"{dict(kwargs)!r} "
            f"failed: {describe_exception(exc)}"
        ) from exc
    if not isinstance(module, nn.Module):
        raise ConfigError(
            f"{{opt:arch}} {arch}: {name} returned a {type(module).__name__}, not a torch.nn.Module"
        )
    return module


def accepted_kwargs(arch: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that ``arch``'s callable names as parameters (a training
    checkpoint's saved constructor arguments, such as Lightning's ``hyper_parameters``); none
    where its signature cannot be read."""
    try:
        parameters = inspect.signature(import_arch_target(arch)).parameters
    except (TypeError, ValueError):
        return {}
    named = {
        name
        for name, p in parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {k: v for k, v in values.items() if k in named}


def resolve_calls(value: Any, arch: str) -> Any:
    """``value`` with every ``{"$call": "module:NAME", ...}`` replaced by that call's result."""
    if isinstance(value, list):
        return [resolve_calls(item, arch) for item in value]
    if not isinstance(value, dict):
        return value
    kwargs = {k: resolve_calls(v, arch) for k, v in value.items() if k != CALL}
    if CALL not in value:
        return kwargs
    reference = value[CALL]
    if not isinstance(reference, str):
        raise ConfigError(f'{{opt:arch_kwargs}}: {CALL} takes "module:NAME", got {reference!r}')
    target = import_arch_target(reference)
    try:
        with user_code():
            return target(**kwargs)
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"{{opt:arch_kwargs}}: {CALL} {reference} with {kwargs!r} failed: "
            f"{describe_exception(exc)}"
        ) from exc


@contextmanager
def user_code() -> Iterator[None]:
    """Run user code so that it writes nothing the user did not ask for: no ``__pycache__``
    beside their files, and its prints on stderr, where they cannot corrupt a report that
    goes to stdout (``--json -``)."""
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.dont_write_bytecode = saved


def _import_dotted(name: str) -> ModuleType:
    try:
        with user_code():
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(f"{exc.name}.")):
            raise ConfigError(
                f"{{opt:arch}}: cannot import module {name!r} (not found on the Python path; "
                "use path/to/file.py:Class for a file)"
            ) from exc
        raise ConfigError(
            f"{{opt:arch}}: importing module {name!r} failed: {describe_exception(exc)}"
        ) from exc
    except (Exception, SystemExit) as exc:  # SystemExit: a module that calls sys.exit()
        raise ConfigError(f"{{opt:arch}}: importing module {name!r} failed: {_why(exc)}") from exc


_IMPORTED: dict[tuple[str, int, int], ModuleType] = {}
"""User files already run, by path and version (modification time, size): a file's code
runs once per process unless the file changes."""


def _import_file(location: str) -> ModuleType:
    path = Path(location).expanduser()
    if not path.is_file():
        problem = "is a directory" if path.is_dir() else "not found"
        raise ConfigError(f"{{opt:arch}}: file {location} {problem}")
    resolved = path.resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    if key in _IMPORTED:  # one load asks several times (kwargs, factories, the build)
        return _IMPORTED[key]
    # A name unique per file, so two different model.py files do not replace each other, and
    # registered in sys.modules while it runs because dataclasses and pickle look there.
    digest = hashlib.sha1(str(resolved).encode(), usedforsecurity=False).hexdigest()[:12]
    name = f"gandoctor_arch_{_identifier(resolved.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{{opt:arch}}: cannot import {location} as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with user_code():
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise ConfigError(f"{{opt:arch}}: importing {location} failed: {_why(exc)}") from exc
    _IMPORTED[key] = module
    return module


def _why(exc: BaseException) -> str:
    """The import's error, after what to do about it where that is known: first, so that a
    long error (a compiler's log) cut to a readable length keeps the advice."""
    hint = _cuda_hint(exc)
    return f"{hint}; {describe_exception(exc)}" if hint else describe_exception(exc)


def _cuda_hint(exc: BaseException) -> str:
    """What to do about a package that needs CUDA as it is imported: some compile CUDA
    kernels (stylegan2-torch: no CUDA_HOME, no nvcc), which nothing can get round on this
    machine; others assert a GPU at module level or load CUDA-saved tensors."""
    text = str(exc).lower()
    if ("cuda" in text or "nvcc" in text) and any(word in text for word in _CUDA_BUILD):
        return (
            "the package compiles CUDA kernels as it is imported, so it cannot be imported "
            "without CUDA (CUDA_HOME, nvcc); gandoctor's own build of the layout needs no "
            "import: give the checkpoint alone (no {opt:arch}, no {opt:adapter})"
        )
    if "cuda" not in text or torch.cuda.is_available():
        return ""
    if "deserialize object on a cuda device" in text:  # torch.load's words
        return (
            "the package loads weights saved on a GPU as it is imported (torch.load with no "
            "map_location) and this machine has no CUDA: an {opt:adapter} can run the file "
            "that defines the generator without the package's __init__ "
            "(examples/adapters/omniart_eyes.py)"
        )
    return (
        "the package demands CUDA when it is imported and this machine has none: an "
        "{opt:adapter} can import it with torch.cuda.is_available patched to True and build "
        "the generator on the CPU (examples/adapters/lightweight_gan.py)"
    )


_CUDA_BUILD = ("cuda_home", "nvcc", "cpp_extension", "cuda extension", "ninja")
"""Words of the errors torch.utils.cpp_extension raises where it cannot build CUDA code."""


def _identifier(text: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in text)

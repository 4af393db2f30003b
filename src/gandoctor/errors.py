"""One exception hierarchy for everything a user can get wrong.

    Exception
    ├── GanDoctorError               a problem with the user's input, not a bug in gandoctor
    │   ├── CheckpointError          the checkpoint cannot be read, or no generator built
    │   │   └── LayoutMismatch       (loading.layouts) weights that fit no known layout
    │   ├── DataError                the real data cannot be read or do not fit the generator
    │   └── ConfigError              an option has a value that makes no sense
    └── KeyboardInterrupt
        └── ProbeInterrupted         (probing.interrupt) Ctrl-C, with what was measured
            └── ProbeInterruptedWithReport   (api) ... and the report of the checkpoints so far

    AssertionError
    └── GeneratorCheckFailed         (assertions) ``gandoctor.check`` found what the gate names

The CLI catches only :class:`GanDoctorError` and turns it into one line on stderr and exit
code 2. Anything else is a bug in gandoctor and keeps its traceback.

An error names the options it is about as ``{opt:batch_size}`` in its message. Python
callers read them as the option's Python name (```batch_size```, a field of the config
objects or a keyword of ``gandoctor.probe``); the CLI words them as its flags
(``--batch-size``). ``option`` is the first option named, for code that handles the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_OPTION = re.compile(r"\{opt:([a-z_][a-z0-9_]*)\}")


def python_name(option: str) -> str:
    """How a library caller reads an option's name: ```batch_size```, quoted as code."""
    return f"`{option}`"


class GanDoctorError(Exception):
    """Base class: a problem with the user's input, not a bug in gandoctor."""

    def __init__(self, message: str = "", *, option: str | None = None) -> None:
        self.template = message
        """The message with its ``{opt:NAME}`` references to options."""
        named = _OPTION.findall(message)
        self.option = option if option is not None else (named[0] if named else None)
        """The option the error is about, by its Python name; None when it names none."""
        super().__init__(self.worded(python_name))

    def worded(self, name: Callable[[str], str]) -> str:
        """The message with each option reference spelled by ``name``."""
        return _OPTION.sub(lambda match: name(match.group(1)), self.template)


class CheckpointError(GanDoctorError):
    """The checkpoint cannot be read, or no generator can be built from it."""


class DataError(GanDoctorError):
    """The real data cannot be read or does not fit the generator."""


class ConfigError(GanDoctorError):
    """An option has a value that makes no sense."""

"""The command line: options -> config -> library call -> render -> exit code.

torch is imported only inside the commands, so ``gandoctor --help`` stays fast. The app
and the entry point live in ``app.py``; each command has its own module.
"""

from gandoctor.cli import (  # noqa: F401  (registers commands)
    inspect_command,
    merge_command,
    preflight_command,
    probe_command,
)
from gandoctor.cli.app import app, main

__all__ = ["app", "main"]

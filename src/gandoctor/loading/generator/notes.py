"""What gandoctor changed itself while loading, in words: the notes that ``inspect`` prints,
the probe says on stderr and the JSON carries (``generator.details.notes``), and the words
an error adds where the change is part of what went wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gandoctor.errors import ConfigError
from gandoctor.loading.formats.facts import SETTINGS_KEYS

NOTES = "notes"
"""The entry of ``GeneratorInfo.details`` that holds the notes."""


def prefix_note(prefix: str | None, asked: str | None) -> str | None:
    """The note for a key prefix gandoctor removed on its own (``asked`` is
    ``--strip-prefix``: a prefix the user named is no news)."""
    if not prefix or asked is not None:
        return None
    return (
        f"read the keys without their prefix {prefix!r}, which every generator key had "
        "(--strip-prefix names another, '' keeps the keys as saved)"
    )


def prefix_context(context: str, prefix: str | None) -> str:
    """``context`` of a state-dict mismatch, saying the keys compared had ``prefix`` removed."""
    if not prefix:
        return context
    return f"{context} (its keys read without their prefix {prefix!r})"


def settings_note(names: Iterable[str], details: Mapping[str, Any]) -> str | None:
    """The note for constructor arguments taken from the checkpoint's saved settings."""
    shown = sorted(names)
    if not shown:
        return None
    entries = [name for name in SETTINGS_KEYS if isinstance(details.get(name), Mapping)]
    where = " and ".join(entries) or "saved arguments"
    more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
    return (
        f"constructor arguments {', '.join(shown[:6])}{more} came from the checkpoint's saved "
        f"{where} ({{opt:arch_kwargs}} overrides them)"
    )


def with_note(error: ConfigError, note: str | None) -> ConfigError:
    """``error`` with ``note`` in front, so a cut message still shows it."""
    return error if note is None else ConfigError(f"{note}; {error.template}")


def record(details: dict[str, Any], *notes: str | None) -> None:
    """Add the ``notes`` given (None: nothing to say) to ``details``, their option
    references spelled as the CLI spells them."""
    if shown := [note.replace("{opt:arch_kwargs}", "--arch-kwargs") for note in notes if note]:
        details[NOTES] = [*details.get(NOTES, []), *shown]

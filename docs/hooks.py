"""MkDocs hooks: the parts of the site generated from the code at build time.

- ``<!-- gandoctor: cli-reference -->`` in a page becomes the command-line reference, read off
  the Typer app (``typer.main.get_command``): every command, its usage, help and options,
  with the help text ``--help`` prints, so the reference cannot drift from the code.
- ``<!-- gandoctor: report-schema -->`` becomes tables of the JSON report's fields (name,
  type, description), read from ``schema/report.schema.json``. The build fails, naming the
  file, where the schema is missing or unreadable.
- The pictures the pages show from ``examples/`` are added to the site where they are, so
  that no copy of them lives in ``docs/``.

mkdocs-click's table style is not used for the reference: typer >= 0.22 vendors click, and
that style keeps only options that are ``click.Option`` instances, which Typer's are not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema" / "report.schema.json"
CLI_MARKER = "<!-- gandoctor: cli-reference -->"
SCHEMA_MARKER = "<!-- gandoctor: report-schema -->"
# Files of the repository the pages show, served at the same path in the site.
REPOSITORY_FILES = [
    "examples/paper/figures.png",
    "examples/samples_epoch0.png",
    "examples/samples_epoch25.png",
]


class DocsError(Exception):
    """A generated part of the docs cannot be made; the message says why and what to do."""


# ---------------------------------------------------------------------------------------
# Markdown helpers

_ESCAPED = re.compile(r"([\\`*_\[\]|])")


def escape(text: str) -> str:
    """Plain text as Markdown that renders as the same text (also inside a table cell)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED.sub(r"\\\1", text)


def code(text: str) -> str:
    """``text`` as an inline code span that is safe in a table cell."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "&#124;")
    return f"<code>{text}</code>"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table in a ``generated-table`` block (docs/stylesheets/extra.css)."""
    lines = ['<div class="generated-table" markdown>', ""]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join([*lines, "", "</div>"])


def paragraphs(text: str) -> str:
    """A docstring's paragraphs, each joined into one escaped line."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(escape(block.replace("\b", "").strip()) for block in blocks if block)


# ---------------------------------------------------------------------------------------
# The command-line reference


def cli_command() -> Any:
    """The click command Typer builds from gandoctor's app (all commands registered)."""
    import typer

    from gandoctor.cli import app

    return typer.main.get_command(app)


def documented_params(command: Any, ctx: Any) -> list[tuple[Any, str, str]]:
    """(parameter, names with metavar, help) of each parameter a command shows in ``--help``
    (hidden ones left out), as ``--help`` writes them: default and required included."""
    rows = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        rows.append((param, names, help_text))
    return rows


def walk(command: Any, name: str = "gandoctor", parent: Any = None) -> list[tuple[Any, Any]]:
    """(command, its context) for a command and every subcommand under it, depth first."""
    ctx = command.context_class(command, info_name=name, parent=parent)
    found = [(command, ctx)]
    for sub_name in getattr(command, "list_commands", lambda _: [])(ctx):
        sub = command.get_command(ctx, sub_name)
        if sub is not None:
            found += walk(sub, sub_name, ctx)
    return found


def undocumented(command: Any, name: str = "gandoctor") -> list[str]:
    """Every argument or option of every command that ``--help`` (and so the reference)
    leaves without a description: no help text, or hidden; e.g. ``gandoctor probe --x``."""
    missing = []
    for cmd, ctx in walk(command, name):
        for param in cmd.params:
            label = f"{ctx.command_path} {(param.opts or [param.name])[0]}"
            if getattr(param, "hidden", False):
                missing.append(f"{label} (hidden)")
            elif not (getattr(param, "help", None) or "").strip():
                missing.append(f"{label} (no help text)")
    return missing


def _command_section(name: str, command: Any, parent: Any, level: int) -> list[str]:
    ctx = command.context_class(command, info_name=name, parent=parent)
    path = ctx.command_path
    anchor = path.replace(" ", "-")
    out = [f"{'#' * level} `{path}` {{#{anchor}}}", ""]
    if command.help:
        out += [paragraphs(command.help), ""]
    usage = " ".join(["Usage:", path, *command.collect_usage_pieces(ctx)])
    out += ["```text", usage, "```", ""]
    rows = [[code(names), escape(" ".join(help_text.split()))] for _, names, help_text in
            documented_params(command, ctx)]  # fmt: skip
    if rows:
        out += [table(["argument or option", "description"], rows), ""]
    for sub_name in getattr(command, "list_commands", lambda _: [])(ctx):
        sub = command.get_command(ctx, sub_name)
        if sub is not None and not sub.hidden:
            out += _command_section(sub_name, sub, ctx, level + 1)
    return out


def cli_reference(command: Any = None, level: int = 2) -> str:
    """The Markdown reference of every command and option of ``gandoctor`` (or of another
    click command); fails where an argument or option has no description."""
    command = cli_command() if command is None else command
    if missing := undocumented(command):
        raise DocsError(
            "the command-line reference needs a help text for every argument and option; "
            "none for: " + ", ".join(missing)
        )
    return "\n".join(_command_section("gandoctor", command, None, level)).rstrip() + "\n"


# ---------------------------------------------------------------------------------------
# The JSON report's fields, from its JSON Schema


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if not path.is_file():
        raise DocsError(
            f"the JSON report page is generated from {relative}, which does not exist: "
            "write the schema there (or restore it) and build again"
        )
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocsError(f"{relative} is not readable JSON: {error}") from error
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise DocsError(f"{relative} has no top-level 'properties' object to document")
    return schema


class _SchemaPage:
    """Renders each object of a schema as a table of its fields; nested objects and
    ``$defs`` get tables of their own, which the field's type links to."""

    def __init__(self, schema: dict[str, Any], level: int):
        self.schema = schema
        self.level = level
        self.queue: list[tuple[str, str, dict[str, Any]]] = []  # (title, anchor, object)
        self.seen: set[str] = set()

    def anchor(self, title: str) -> str:
        return "field-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "report")

    def enqueue(self, title: str, schema: dict[str, Any]) -> str:
        anchor = self.anchor(title)
        if anchor not in self.seen:
            self.seen.add(anchor)
            self.queue.append((title, anchor, schema))
        return anchor

    def resolve(self, ref: str) -> tuple[str, dict[str, Any]]:
        if not ref.startswith("#/"):
            raise DocsError(f"schema: only local $ref values are documented, got {ref!r}")
        target: Any = self.schema
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise DocsError(f"schema: $ref {ref!r} points to nothing")
            target = target[part]
        return ref.rsplit("/", 1)[-1], target

    def type_of(self, schema: Any, path: str) -> str:
        if schema is True or schema == {}:
            return "any"
        if not isinstance(schema, dict):
            return "any"
        if "$ref" in schema:
            name, target = self.resolve(schema["$ref"])
            if isinstance(target, dict) and self.is_object(target):
                return f"[{escape(name)}](#{self.enqueue(name, target)})"
            return self.type_of(target, path)
        if "const" in schema:
            return code(json.dumps(schema["const"]))
        if "enum" in schema:
            return " or ".join(code(json.dumps(value)) for value in schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                kinds = [self.type_of(s, path) for s in schema[key]]
                return " or ".join(dict.fromkeys(kinds))
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.type_of(schema["allOf"][0], path)
        kinds = schema.get("type", "any")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        return " or ".join(self.one_type(kind, schema, path) for kind in kinds)

    def one_type(self, kind: str, schema: dict[str, Any], path: str) -> str:
        if kind == "array":
            items = schema.get("items", schema.get("prefixItems"))
            if isinstance(items, list):
                return "array of " + ", ".join(self.type_of(i, path + "[]") for i in items)
            return "array" if items is None else "array of " + self.type_of(items, path + "[]")
        if kind == "object" and self.is_object(schema):
            return f"[object](#{self.enqueue(path, schema)})"
        if kind == "object":
            values = schema.get("additionalProperties")
            if isinstance(values, dict) and values:
                return "object of " + self.type_of(values, path + "{}")
            return "object"
        return escape(str(kind))

    @staticmethod
    def is_object(schema: dict[str, Any]) -> bool:
        return isinstance(schema.get("properties"), dict) and bool(schema["properties"])

    def description(self, schema: Any) -> str:
        if not isinstance(schema, dict):
            return ""
        text = schema.get("description")
        if text is None and "$ref" in schema:
            text = self.resolve(schema["$ref"])[1].get("description")
        return paragraphs(text) if isinstance(text, str) else ""

    def object_table(self, title: str, anchor: str, schema: dict[str, Any]) -> list[str]:
        heading = "report" if anchor == "field-report" else title
        out = [f"{'#' * self.level} `{heading}` {{#{anchor}}}", ""]
        if text := self.description(schema):
            out += [text, ""]
        required = set(schema.get("required", []))
        rows = []
        for name, field in schema["properties"].items():
            path = name if anchor == "field-report" else f"{title}.{name}"
            rows.append([
                code(name), self.type_of(field, path), "yes" if name in required else "",
                self.description(field),
            ])  # fmt: skip
        return [*out, table(["field", "type", "required", "description"], rows), ""]

    def render(self) -> str:
        self.enqueue("report", self.schema)
        out: list[str] = []
        while self.queue:
            out += self.object_table(*self.queue.pop(0))
        return "\n".join(out).rstrip() + "\n"


def schema_reference(schema: dict[str, Any] | None = None, level: int = 3) -> str:
    """Markdown tables of the report's fields: the top-level object first, then each
    nested object in the order the tables reach it."""
    return _SchemaPage(load_schema() if schema is None else schema, level).render()


# ---------------------------------------------------------------------------------------
# MkDocs events


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri in REPOSITORY_FILES:
        files.append(File.generated(config, uri, abs_src_path=str(ROOT / uri)))
    return files


# Sphinx roles in docstrings (``:func:`probe```), which mkdocstrings leaves as text before
# the code span; the span alone reads right.
_SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):(?=<code>)")


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return _SPHINX_ROLE.sub("", html)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    from mkdocs.exceptions import PluginError

    try:
        if CLI_MARKER in markdown:
            markdown = markdown.replace(CLI_MARKER, cli_reference())
        if SCHEMA_MARKER in markdown:
            markdown = markdown.replace(SCHEMA_MARKER, schema_reference())
    except DocsError as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from error
    return markdown

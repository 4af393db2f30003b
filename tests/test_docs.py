"""The documentation site: its generated parts agree with the code, the README and mkdocs.yml.

mkdocs itself is not needed here (CI builds the site with ``mkdocs build --strict``): these
tests check what the build takes for granted — every option has a help text for the
command-line reference, docs/generated/ holds exactly what docs/make_examples.py writes,
the README's example output is current, every page is in the navigation and linked from the
README — and that the JSON schema's tables are rendered from the schema.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gandoctor_docs_{name}", DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


hooks = _load("hooks")
make_examples = _load("make_examples")


# ---------------------------------------------------------------------------------------
# The command-line reference


def test_every_argument_and_option_has_a_help_text() -> None:
    assert hooks.undocumented(hooks.cli_command()) == []


def test_an_option_without_help_is_reported_and_fails_the_reference() -> None:
    app = typer.Typer()

    @app.command()
    def run(
        documented: Annotated[int, typer.Option(help="Has a help text.")] = 1,
        bare: Annotated[int, typer.Option()] = 2,
        secret: Annotated[int, typer.Option(help="Hidden.", hidden=True)] = 3,
    ) -> None:
        """A command."""

    @app.command()
    def other() -> None:
        """Another, so that the app is a group of commands."""

    command = typer.main.get_command(app)
    assert hooks.undocumented(command) == [
        "gandoctor run --bare (no help text)",
        "gandoctor run --secret (hidden)",
    ]
    with pytest.raises(hooks.DocsError, match="--bare"):
        hooks.cli_reference(command)


def _help_records() -> list[tuple[str, str, str]]:
    """(command path, names with metavar, help) of every documented parameter."""
    return [
        (ctx.command_path, names, help_text)
        for command, ctx in hooks.walk(hooks.cli_command())
        for _, names, help_text in hooks.documented_params(command, ctx)
    ]


def test_the_reference_shows_every_command_and_option_with_its_help() -> None:
    reference = hooks.cli_reference()
    sections = re.split(r"(?m)^#+ `(gandoctor[^`]*)`", reference)[1:]
    by_command = dict(zip(sections[::2], sections[1::2], strict=True))
    assert {"gandoctor probe", "gandoctor inspect", "gandoctor preflight", "gandoctor merge"} <= (
        set(by_command)
    )
    records = _help_records()
    assert len(records) > 100  # the four commands' options, --help included
    for path, names, help_text in records:
        row = f"| {hooks.code(names)} | {hooks.escape(' '.join(help_text.split()))} |"
        assert row in by_command[path], (path, names)
    probe_options = {n for p, names, _ in records if p == "gandoctor probe" for n in names.split()}
    assert {"--data", "--fail-on", "--json", "--baseline", "--threshold"} <= probe_options


def test_markdown_escaping_keeps_table_cells_whole() -> None:
    assert hooks.escape("a | b *c* <d> e_f") == r"a \| b \*c\* &lt;d&gt; e\_f"
    assert hooks.code("<normal|uniform>") == "<code>&lt;normal&#124;uniform></code>"


# ---------------------------------------------------------------------------------------
# Generated command outputs


def test_make_examples_outputs_are_the_files_in_docs_generated() -> None:
    listed = make_examples.outputs()
    assert len(listed) == len(set(listed)), "two examples write the same file"
    present = sorted(p.name for p in (DOCS / "generated").iterdir() if p.is_file())
    assert sorted(listed) == present, "rerun python docs/make_examples.py"


def test_every_shown_output_starts_with_its_command() -> None:
    for example in make_examples.EXAMPLES:
        if example.show:
            text = (DOCS / "generated" / f"{example.name}.txt").read_text(encoding="utf-8")
            assert text.startswith(f"$ {example.command}\n"), example.name
            widest = max(len(line) for line in text.splitlines()[1:])
            assert widest <= make_examples.WIDTH, (example.name, widest)


def test_the_readme_shows_the_current_example_output() -> None:
    blocks = make_examples.readme_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no <!-- generated: NAME --> block"
    for name, body in blocks.items():
        assert body == (DOCS / "generated" / name).read_text(encoding="utf-8"), name


def test_every_included_snippet_exists() -> None:
    included = set()
    for page in DOCS.glob("*.md"):
        for path in re.findall(r'(?m)^\s*--8<-- "([^"]+)"$', page.read_text(encoding="utf-8")):
            included.add(path)
            assert (ROOT / path).is_file(), (page.name, path)
    generated = {f"docs/generated/{name}" for name in make_examples.outputs()}
    assert generated <= included, "an output of make_examples.py that no page shows"


# ---------------------------------------------------------------------------------------
# Navigation and README


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\s+- [^:\n]+: (\S+\.md)$", nav, flags=re.MULTILINE)


def test_every_page_is_in_the_navigation_and_linked_from_the_readme() -> None:
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    nav = _nav_pages()
    assert nav[0] == "index.md"
    assert sorted(nav) == pages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unlinked = [page for page in pages if f"](docs/{page})" not in readme]
    assert not unlinked, unlinked


def test_the_readme_is_short_and_says_how_to_build_the_site() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 160
    assert "mkdocs build --strict" in readme
    assert 'pip install -e ".[docs]"' in readme


# ---------------------------------------------------------------------------------------
# The JSON report's fields


SMALL_SCHEMA = {
    "description": "A report.",
    "type": "object",
    "required": ["verdict"],
    "properties": {
        "verdict": {"enum": ["healthy", "broken"], "description": "The verdict | worst."},
        "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
        "note": {"type": ["string", "null"]},
    },
    "$defs": {
        "item": {
            "type": "object",
            "description": "One item.",
            "properties": {
                "score": {"type": "number", "description": "A score."},
                "margin": {
                    "anyOf": [
                        {"type": "object", "properties": {"value": {"type": "number"}}},
                        {"type": "null"},
                    ]
                },
            },
        }
    },
}


def test_the_schema_becomes_one_table_per_object_with_links() -> None:
    page = hooks.schema_reference(SMALL_SCHEMA)
    headings = re.findall(r"(?m)^### `([^`]+)` \{#([\w-]+)\}$", page)
    assert headings == [
        ("report", "field-report"),
        ("item", "field-item"),
        ("item.margin", "field-item-margin"),
    ]
    assert (
        '| <code>verdict</code> | <code>"healthy"</code> or <code>"broken"</code> | yes '
        "| The verdict \\| worst. |"
    ) in page
    assert "| <code>items</code> | array of [item](#field-item) |  |  |" in page
    assert "| <code>note</code> | string or null |  |  |" in page
    assert "| <code>margin</code> | [object](#field-item-margin) or null |  |  |" in page
    assert "| <code>score</code> | number |  | A score. |" in page


def test_a_missing_schema_fails_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(hooks.DocsError, match=r"report\.schema\.json, which does not exist"):
        hooks.load_schema(tmp_path / "report.schema.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(hooks.DocsError, match="not readable JSON"):
        hooks.load_schema(broken)


def test_the_published_schema_renders_every_top_level_field() -> None:
    schema = hooks.load_schema()  # fails, naming the file, where the schema is missing
    page = hooks.schema_reference(schema)
    top = page.split("\n### ", 1)[0]
    for name in schema["properties"]:
        assert f"| {hooks.code(name)} |" in top, name

"""The house rules of the package layout (ARCHITECTURE.md), checked on the source itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.import_graph import PACKAGE_ROOT, TORCH_FREE, cycles, graph, packages_graph

MAX_MODULE_LINES = 300
"""The guide for a module a newcomer reads in one sitting."""
MAX_TOP_LEVEL_MODULES = 13
"""The root holds the vocabulary (with the one-line wording of errors, ``messages``), the
configuration and the entry points; the rest lives in packages along the data flow."""
LOADING_ROOT = ["__init__.py", "loader.py"]
"""loading/ keeps its stages in packages (formats, selection, layouts, generator,
discriminators); its root holds only ``load_generator``."""


def test_no_import_cycle_between_modules_or_packages() -> None:
    edges = graph()
    assert len(edges) > 50  # the graph was read, not an empty folder
    assert cycles(edges) == []
    assert cycles(packages_graph(edges)) == []


def test_the_cycle_check_finds_a_cycle_closed_under_type_checking(tmp_path: Path) -> None:
    package = tmp_path / "gandoctor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from gandoctor.b import B\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gandoctor import a\n"
    )
    (package / "c.py").write_text("import gandoctor.a\n")
    assert cycles(graph(package)) == [["gandoctor.a", "gandoctor.b"]]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_import_without_torch(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(len(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "0", f"importing {module} loads torch"


def test_modules_stay_short_and_the_root_stays_small() -> None:
    long = {
        str(p.relative_to(PACKAGE_ROOT)): n
        for p in PACKAGE_ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
    top = sorted(p.name for p in PACKAGE_ROOT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    loading = sorted(p.name for p in (PACKAGE_ROOT / "loading").glob("*.py"))
    assert loading == LOADING_ROOT


def test_library_errors_name_options_and_the_cli_words_them_as_flags() -> None:
    from gandoctor.cli.common import flag
    from gandoctor.errors import ConfigError

    error = ConfigError("batch size 99 is too large; use a smaller {opt:batch_size}")
    assert error.option == "batch_size"
    assert str(error) == "batch size 99 is too large; use a smaller `batch_size`"
    assert error.worded(flag) == "batch size 99 is too large; use a smaller --batch-size"
    assert ConfigError("{opt:latent_distribution} x").worded(flag) == "--latent x"
    assert ConfigError("no option here").option is None


def test_no_library_error_spells_a_command_line_flag() -> None:
    """Messages raised outside cli/ name options as {opt:NAME}, never as --flag."""
    import ast
    import re

    flag_text = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    offenders = []
    for path in PACKAGE_ROOT.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE_ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                for part in ast.walk(node.exc):
                    is_text = isinstance(part, ast.Constant) and isinstance(part.value, str)
                    if is_text and flag_text.search(part.value):
                        offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []

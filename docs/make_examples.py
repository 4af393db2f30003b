"""Run the commands whose output the documentation shows; write their outputs to docs/generated/.

    python docs/make_examples.py                 # every example (about 6 minutes on 2 CPU cores)
    python docs/make_examples.py layers inspect  # only those

The pages include the files with pymdownx.snippets (``--8<-- "docs/generated/NAME"``), so the
site shows what the code prints today and ``mkdocs build`` runs no probe. The outputs are
committed; rerun this script when an output changes. It also copies the first example's
output into README.md, between the ``<!-- generated: ... -->`` markers.

Every command runs in a scratch folder holding a copy of examples/, so the paths it prints
are the ones a user types, and nothing but docs/generated/ and README.md is written here.
Rich's tables are drawn 100 columns wide (COLUMNS), without colour (stdout is no terminal).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"
README = ROOT / "README.md"
WIDTH = 100

PREFLIGHT_ARCH = (
    "gandoctor preflight --arch gandoctor.loading.layouts.architectures.dcgan:DCGANGenerator"
    ' --arch-kwargs \'{"latent_dim": 64, "widths": [128, 64, 32], "out_channels": 1}\''
    " --data examples/digits"
)


@dataclass(frozen=True)
class Example:
    """One command of the docs: ``NAME.txt`` holds ``$ command`` and what it printed on
    stdout (``show=False``: nothing), and ``files`` maps the files it writes in the scratch
    folder to the names they get in docs/generated/. ``setup`` runs first, unshown."""

    name: str
    command: str
    exit_code: int
    show: bool = True
    files: dict[str, str] = field(default_factory=dict)
    setup: tuple[str, ...] = ()
    excerpt: tuple[str, str] | None = None
    picture: tuple[str, str] | None = None
    """(an HTML file the command writes, a PNG in docs/images/): the page's top, drawn."""
    """Show only the lines from the first that starts with ``excerpt[0]`` to before the
    next that starts with ``excerpt[1]`` (one table of a long output)."""

    def outputs(self) -> list[str]:
        return ([f"{self.name}.txt"] if self.show else []) + list(self.files.values())


EXAMPLES = [
    # The README's quick-start command: the 25-epoch generator of the shipped example.
    Example(
        "probe-epoch25",
        "gandoctor probe examples/dcgan_digits_epoch25.safetensors --data examples/digits",
        exit_code=0,
    ),
    # The same probe's reports as files: the JSON page and the Markdown example.
    Example(
        "report-epoch25",
        "gandoctor probe examples/dcgan_digits_epoch25.safetensors --data examples/digits"
        " --json report.json --markdown report.md --quiet",
        exit_code=0,
        show=False,
        files={"report.json": "report-epoch25.json", "report.md": "report-epoch25.md"},
    ),
    # The untrained checkpoint against the trained one: the paper's worst and best case.
    Example(
        "probe-compare",
        "gandoctor probe examples/dcgan_digits_epoch0.safetensors"
        " examples/dcgan_digits_epoch25.safetensors --data examples/digits",
        exit_code=1,
    ),
    Example(
        "probe-layers",
        "gandoctor probe examples/dcgan_digits_epoch0.safetensors --data examples/digits --layers",
        exit_code=1,
    ),
    Example(
        "probe-remedies",
        "gandoctor probe examples/dcgan_digits_epoch0.safetensors --data examples/digits"
        " --remedies",
        exit_code=1,
    ),
    # A checkpoint that holds the D that trained with its G (--own-d, the default).
    Example(
        "probe-own-d",
        "gandoctor probe examples/with_d/dcgan_digits_epoch25.safetensors --data examples/digits",
        exit_code=0,
    ),
    # The 25-epoch example as the baseline, the 10-epoch checkpoint in its place.
    Example(
        "probe-baseline",
        "gandoctor probe examples/dcgan_digits_epoch10.safetensors --data examples/digits"
        " --steps 200 --baseline epoch25.json",
        exit_code=1,
        setup=(
            "gandoctor probe examples/dcgan_digits_epoch25.safetensors --data examples/digits"
            " --steps 200 --json epoch25.json --quiet",
        ),
    ),
    # The shipped epochs as the snapshots of one run, ranked (docs/runs.md, README).
    Example(
        "probe-rank",
        "gandoctor probe examples/ --data examples/digits --rank --fail-on none",
        exit_code=0,
        excerpt=("gandoctor probe: ranking", "examples/"),
    ),
    # The HTML report of the same run, for its picture on the page "Reading a report".
    Example(
        "report-html",
        "gandoctor probe examples/ --data examples/digits --fail-on none --quiet"
        " --html report.html",
        exit_code=0,
        show=False,
        picture=("report.html", "report-html.png"),
    ),
    Example("inspect", "gandoctor inspect examples/dcgan_digits_epoch25.safetensors", 0),
    Example("preflight", PREFLIGHT_ARCH, exit_code=0),
]


def outputs() -> list[str]:
    """Every file this script writes in docs/generated/, in order."""
    return [name for example in EXAMPLES for name in example.outputs()]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(COLUMNS=str(WIDTH), LINES="50", PYTHONIOENCODING="utf-8", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return env


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    if words[0] != "gandoctor":
        raise SystemExit(f"make_examples: not a gandoctor command: {command}")
    argv = [sys.executable, "-m", "gandoctor", *words[1:]]
    return subprocess.run(argv, cwd=cwd, env=_environment(), capture_output=True, text=True)


def run_example(example: Example, scratch: Path) -> list[str]:
    """Run one example in ``scratch``, write its outputs; return what went wrong."""
    for command in example.setup:
        done = _run(command, scratch)
        if done.returncode not in (0, 1):
            return [f"{example.name}: setup exited {done.returncode}: {done.stderr.strip()}"]
    done = _run(example.command, scratch)
    problems = []
    if done.returncode != example.exit_code:
        problems.append(
            f"{example.name}: exit {done.returncode}, the docs expect {example.exit_code}"
            f"; stderr: {done.stderr.strip()[-500:]}"
        )
    if example.show:
        lines = [line.rstrip() for line in done.stdout.rstrip().splitlines()]
        if example.excerpt is not None:
            lines = _excerpt(lines, *example.excerpt)
        text = "\n".join([f"$ {example.command}", *lines]) + "\n"
        (GENERATED / f"{example.name}.txt").write_text(text, encoding="utf-8")
    if example.picture is not None:
        problems += screenshot(scratch / example.picture[0], IMAGES / example.picture[1])
    for produced, name in example.files.items():
        path = scratch / produced
        if path.is_file():
            shutil.copyfile(path, GENERATED / name)
        else:
            problems.append(f"{example.name}: {produced} was not written")
    return problems


IMAGES = ROOT / "docs" / "images"


def screenshot(page: Path, target: Path) -> list[str]:
    """The top of an HTML page as headless Chromium draws it (where it is installed), in
    128 colours (a quarter of the bytes; the page's colours are few)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return [f"no chromium: {target.name} not redrawn"]
    target.parent.mkdir(exist_ok=True)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--screenshot={target}", "--window-size=1200,1150", page.as_uri()]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not target.is_file():
        return [f"chromium: {done.stderr[-300:]}"]
    from PIL import Image

    Image.open(target).convert("RGB").quantize(colors=128).save(target, optimize=True)
    return []


def _excerpt(lines: list[str], start: str, stop: str) -> list[str]:
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(first + 1, len(lines)) if lines[i].startswith(stop)), None)
    return lines[first:end]


README_BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w.-]+) -->\n```text\n)(?P<body>.*?)(```\n<!-- /generated -->)",
    re.DOTALL,
)


def readme_blocks(text: str) -> dict[str, str]:
    """The generated outputs README.md shows: {file name: the text between the markers}."""
    return {m["name"]: m["body"] for m in README_BLOCK.finditer(text)}


def update_readme() -> None:
    def fill(match: re.Match[str]) -> str:
        body = (GENERATED / match["name"]).read_text(encoding="utf-8")
        return match.group(1) + body + match.group(4)

    text = README.read_text(encoding="utf-8")
    README.write_text(README_BLOCK.sub(fill, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="examples to run (default: all)")
    names = parser.parse_args(argv).names
    known = {e.name for e in EXAMPLES}
    if unknown := [n for n in names if n not in known]:
        parser.error(f"unknown example(s) {unknown}; known: {sorted(known)}")
    GENERATED.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for example in EXAMPLES:
        if names and example.name not in names:
            continue
        print(f"make_examples: {example.command}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="gandoctor-docs-") as scratch:
            shutil.copytree(ROOT / "examples", Path(scratch) / "examples")
            problems += run_example(example, Path(scratch))
    update_readme()
    for problem in problems:
        print(f"make_examples: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

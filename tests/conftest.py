"""Shared test material: real images (scikit-learn's digits) and reference generators."""

from __future__ import annotations

import glob
import json
import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from jsonschema import Draft202012Validator
from PIL import Image
from torch import nn

from gandoctor.loading import DCGANGenerator
from gandoctor.preflight.result import SCHEMA as PREFLIGHT_SCHEMA
from gandoctor.preflight.result import PreflightReport
from gandoctor.report import merge
from gandoctor.report.model import SCHEMA as REPORT_SCHEMA
from gandoctor.report.model import Report, strict_json
from gandoctor.runtime.threads import cpu_quota

LATENT = 16
RESOLUTION = 16


SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schema"
SCHEMA_FILES = {REPORT_SCHEMA: "report.schema.json", PREFLIGHT_SCHEMA: "preflight.schema.json"}
"""The JSON Schema of each schema id gandoctor writes (schema/build.py makes them)."""


def pytest_configure(config: pytest.Config) -> None:
    """Tests that train or run models outside a probe use torch's own thread count, one per
    core of the host, which ignores a container's or CI job's CPU quota: on a 2-CPU quota of
    a many-core host every operation would share 2 CPUs between dozens of spinning threads.
    Cap it at the quota, as the probe's ``--threads auto`` does (runtime/threads.py)."""
    quota = cpu_quota()
    if quota is not None and quota < torch.get_num_threads():
        torch.set_num_threads(quota)


def pytest_report_header(config: pytest.Config) -> str:
    """The thread count in the log: the first thing to read when CI is slower than here."""
    return (
        f"torch {torch.__version__}: {torch.get_num_threads()} threads; "
        f"CPU quota {cpu_quota()}, os.cpu_count() {os.cpu_count()}"
    )


class SchemaViolation(Exception):
    """A report gandoctor made does not follow its published JSON Schema."""


@cache
def schema_validator(schema_id: str) -> Draft202012Validator:
    """The validator of ``schema_id``, compiled once per session."""
    schema = json.loads((SCHEMA_DIR / SCHEMA_FILES[schema_id]).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def check_against_schema(
    report: dict[str, Any], schema_id: str | None = None, stand_ins: bool = False
) -> None:
    """Raise SchemaViolation unless ``report``, as its JSON is written (strict JSON: NaN and
    infinities as null, tuples as lists), follows the schema of ``schema_id`` (by default
    the one its ``schema`` key names). ``stand_ins``: leave out what tests build by hand
    in place of what gandoctor computes (``stand_in_paths``)."""
    written = json.loads(strict_json(report))
    schema_id = schema_id or written.get("schema")
    skipped = stand_in_paths(written) if stand_ins else ()
    errors = sorted(
        (
            e
            for e in schema_validator(schema_id).iter_errors(written)
            if not any(
                e.json_path == p or e.json_path.startswith((f"{p}.", f"{p}[")) for p in skipped
            )
        ),
        key=lambda e: e.json_path,
    )
    if errors:
        shown = "\n".join(f"  {e.json_path}: {e.message[:300]}" for e in errors[:8])
        more = f"\n  ... and {len(errors) - 8} more" if len(errors) > 8 else ""
        raise SchemaViolation(
            f"a {schema_id} report does not follow schema/{SCHEMA_FILES[schema_id]} "
            f"(edit schema/build.py and run it where a key was added or changed):\n"
            f"{shown}{more}"
        )


def stand_in_paths(written: dict[str, Any]) -> list[str]:
    """The parts of a report that a test built by hand, which gandoctor never writes:

    - a checkpoint whose ``data`` is ``{}`` (gandoctor always describes the data) holds a
      test's stand-in generator and data entries (tests/test_collapse.py);
    - one that also has a summary without a single measurement (judge.summarise refuses an
      empty series) was built from hand-made records (tests/test_baseline.py): nothing of
      it is what gandoctor computes.

    The rest of such a report (settings, the baseline comparison, ...) is checked."""
    paths = []
    for i, c in enumerate(written.get("checkpoints") or []):
        if not isinstance(c, dict) or c.get("data") != {}:
            continue
        at = f"$.checkpoints[{i}]"
        series = c.get("series") or {}
        if c.get("summary") is not None and not series.get("step"):
            paths.append(at)
        else:
            paths += [f"{at}.generator", f"{at}.data"]
    return paths


def check_cli_output(
    args: Any,
    returncode: int | None,
    stdout: Any,
    check: Callable[[dict[str, Any]], None] = check_against_schema,
) -> None:
    """Validate the JSON report a finished ``gandoctor`` process wrote with ``--json``:
    the file (each shard's, for a ``{rank}`` path), or stdout for ``--json -``. Anything
    that is not one of gandoctor's reports (an inspect, a usage error's exit 2) is left
    alone: the test that ran it judges that."""
    if not isinstance(args, Sequence) or isinstance(args, str | bytes):
        return
    argv = [str(a) for a in args]
    if not any(Path(a).name == "gandoctor" for a in argv) or "--json" not in argv:
        return
    at = argv.index("--json") + 1
    if returncode in (None, 2) or at >= len(argv):
        return
    target = argv[at]
    if target == "-":
        texts = [stdout.decode() if isinstance(stdout, bytes) else stdout]
    else:
        pattern = glob.escape(target).replace(glob.escape("{rank}"), "*")
        texts = [Path(p).read_bytes().decode(errors="replace") for p in glob.glob(pattern)]
    for text in texts:
        try:
            report = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            continue
        if isinstance(report, dict) and report.get("schema") in SCHEMA_FILES:
            check(report)


_violations: list[str] = []
"""What the hook found during the current test: a report made inside the CLI raises where
typer's CliRunner catches it (exit code 1), so the test is failed afterwards as well."""


def hooked_check(report: dict[str, Any]) -> None:
    """check_against_schema, remembering a violation for the test's teardown."""
    try:
        check_against_schema(report, stand_ins=True)
    except SchemaViolation as violation:
        _violations.append(str(violation))
        raise


@contextmanager
def schema_violation_expected(match: str | None = None) -> Iterator[None]:
    """For tests of the hook itself: a violation must be raised inside, and is forgotten."""
    before = len(_violations)
    with pytest.raises(SchemaViolation, match=match):
        yield
    del _violations[before:]


def _validating(to_dict: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def validated(self: Any) -> dict[str, Any]:
        report = to_dict(self)
        hooked_check(report)
        return report

    validated.__wrapped__ = to_dict  # type: ignore[attr-defined]
    return validated


@pytest.fixture(autouse=True, scope="session")
def _reports_follow_their_schema() -> Iterator[None]:
    """Every report the tests make is validated against its published JSON Schema: a
    probe's (Report.to_dict), a merge's (merge_reports), a preflight's
    (PreflightReport.to_dict), and the JSON a ``gandoctor`` subprocess writes with
    ``--json`` (checked when the test collects the process's output). A report that does
    not follow it raises SchemaViolation in the test that made it."""
    merge_reports = merge.merge_reports
    communicate = subprocess.Popen.communicate

    def merged(*args: Any, **kwargs: Any) -> dict[str, Any]:
        report = merge_reports(*args, **kwargs)
        hooked_check(report)
        return report

    def communicated(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        out, err = communicate(self, *args, **kwargs)
        check_cli_output(self.args, self.returncode, out, hooked_check)
        return out, err

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Report, "to_dict", _validating(Report.to_dict))
        patch.setattr(PreflightReport, "to_dict", _validating(PreflightReport.to_dict))
        patch.setattr(merge, "merge_reports", merged)
        patch.setattr(subprocess.Popen, "communicate", communicated)
        yield


@pytest.fixture(autouse=True)
def _no_schema_violation() -> Iterator[None]:
    """Fail a test in which the hook found a report off its schema, even where the error
    was caught on the way (CliRunner turns it into exit code 1)."""
    del _violations[:]
    yield
    if _violations:
        found = list(_violations)
        del _violations[:]
        pytest.fail("\n\n".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch) -> None:
    """Each test gets its own empty cache of decoded images, never the user's."""
    monkeypatch.setenv("GANDOCTOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@cache
def _digits(resolution: int) -> torch.Tensor:
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0
    images = F.interpolate(images, size=resolution, mode="bilinear", align_corners=False)
    return images * 2 - 1  # the range of a tanh generator


@pytest.fixture
def digits() -> torch.Tensor:
    """1797 real 16x16 grayscale digits in [-1, 1]."""
    return _digits(RESOLUTION).clone()


@pytest.fixture
def digits32() -> torch.Tensor:
    """The same digits at 32x32, where the default probe D has three conv layers."""
    return _digits(32).clone()


def dcgan_init(module: nn.Module) -> nn.Module:
    """The DCGAN paper's initialisation, as in the PyTorch example."""
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d | nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


def untrained_dcgan(seed: int = 0, widths: tuple[int, ...] = (32, 16)) -> DCGANGenerator:
    """A freshly initialised DCGAN generator, as saved before any training step: 16x16
    with two widths, 32x32 with three."""
    torch.manual_seed(seed)
    return dcgan_init(DCGANGenerator(LATENT, widths, 1)).eval()  # type: ignore[return-value]


def calibrated_dcgan(seed: int = 0) -> DCGANGenerator:
    """A random DCGAN generator whose BatchNorm statistics were set from its own batches, so
    its eval-mode samples vary as much as real images do (an untrained generator's fresh
    statistics shrink its samples to almost nothing)."""
    torch.manual_seed(seed)
    g = DCGANGenerator(LATENT, [32, 16], 1)
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batches
    g.train()
    with torch.no_grad():
        for _ in range(20):
            g(torch.randn(256, LATENT, 1, 1))
    return g.eval()


def samples_of(generator: nn.Module, n: int, seed: int) -> torch.Tensor:
    """Samples of ``generator``: real data that follow its own distribution exactly."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return torch.cat(
            [generator(torch.randn(256, LATENT, 1, 1, generator=rng)) for _ in range(n // 256)]
        )


def write_pngs(folder, images: torch.Tensor) -> None:
    """Write images in [-1, 1] as 8-bit grayscale PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = ((images[:, 0].numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image, mode="L").save(folder / f"{i:04d}.png")


class PoolGenerator(nn.Module):
    """A generator whose samples follow a fixed pool of images exactly: z's first coordinate
    picks one uniformly (through the normal CDF). With ``noise`` > 0, z's second coordinate
    adds one of 4096 fixed Gaussian noise images of that standard deviation. Its one
    parameter, an output scale of 1, lets gradients reach it."""

    def __init__(self, pool: torch.Tensor, noise: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("pool", pool.clone())
        bank = torch.randn((4096, *pool.shape[1:]), generator=torch.Generator().manual_seed(0))
        self.register_buffer("noise", noise * bank)
        self.scale = nn.Parameter(torch.ones(()))

    def _pick(self, z: torch.Tensor, n: int) -> torch.Tensor:
        return (torch.special.ndtr(z) * n).long().clamp(0, n - 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.flatten(1)
        image = self.pool[self._pick(z[:, 0], len(self.pool))]
        return (image + self.noise[self._pick(z[:, 1], len(self.noise))]) * self.scale


def pool_and_data(digits: torch.Tensor, pool_size: int = 897) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits split at random (seed 0) into a generator's pool and disjoint real data.
    A split by index would not match: a fresh D tells the first 897 digits from the others
    with held-out accuracy 0.66."""
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    return digits[order[:pool_size]], digits[order[pool_size:]]


def drop_timings(probe: dict) -> dict:
    """A report's ``probe`` block without what depends on the machine's speed: its
    seconds, and the plan's timed prediction (its level and settings stay)."""
    probe.pop("seconds")
    plan = probe.get("plan") or {}
    for key in ("predicted_seconds", "full_seconds", "budget_seconds", "reason"):
        plan.pop(key, None)
    return probe

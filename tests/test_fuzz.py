"""Property: whatever bytes a checkpoint or an image holds, gandoctor ends with exit 0, 1 or
2, never with a traceback, and says what went wrong in one line (issue 8).

Hypothesis mutates valid files: the shipped 32x32 DCGAN checkpoint (safetensors), a
``torch.save`` of a 16x16 DCGAN's weights (a zip holding a pickle), an NVlabs-format
StyleGAN2 training snapshot (a plain pickle of persistent objects), and PNG, JPEG, GIF,
TIFF and 16-bit PNG images. Half the edits land in the first bytes, where headers are.
Checkpoints go through ``gandoctor inspect`` (loading is where their bytes matter), images
through a one-step probe beside five valid images. The default run tries 25 + 25 cases;
``pytest -m slow tests/test_fuzz.py -s`` tries thousands and prints what happened (its
last result is in the README, section Security).
"""

from __future__ import annotations

import io
import os
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import _digits, untrained_dcgan, write_pngs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from stylegan_snapshots import small_generator, snapshot, snapshot_bytes
from typer.testing import CliRunner, Result

from gandoctor.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHIPPED = EXAMPLES / "dcgan_digits_epoch0.safetensors"
HEAD = 64
"""Bytes at the start of a file where half the edits land: the safetensors length and the
start of its JSON header, a zip's first local header, an image's signature and header."""

OUTCOMES: Counter[str] = Counter()
"""What each case ended with, for the slow run's summary."""


def _torch_save_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}, buffer)
    return buffer.getvalue()


def _image_bytes() -> dict[str, bytes]:
    digit = ((_digits(16)[0, 0].numpy() + 1) * 127.5).astype(np.uint8)
    rgb = Image.fromarray(np.stack([digit, 255 - digit, digit], axis=-1))
    found = {}
    for name, image, fmt in (
        ("png", Image.fromarray(digit), "PNG"),
        ("jpg", rgb, "JPEG"),
        ("gif", rgb.convert("P"), "GIF"),
        ("tif", rgb, "TIFF"),
        ("16.png", Image.fromarray(digit.astype(np.uint16) * 257), "PNG"),
    ):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        found[name] = buffer.getvalue()
    return found


CHECKPOINTS = {
    "safetensors": SHIPPED.read_bytes(),
    "pt": _torch_save_bytes(),
    # An NVlabs-format training snapshot: read by the restricted unpickler, not torch.load.
    "pkl": snapshot_bytes(snapshot(small_generator(0))),
}
IMAGES = _image_bytes()


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` after 1 to 8 edits: bit flips, overwritten bytes, cuts, insertions,
    deletions, and runs of 0x00 or 0xff (sizes and offsets at their extremes)."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        end = len(data) if draw(st.booleans()) else min(HEAD, len(data))
        at = draw(st.integers(0, max(0, end - 1)))
        edit = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "delete", "run"]))
        if edit == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "byte" and data:
            data[at] = draw(st.integers(0, 255))
        elif edit == "truncate":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "run":
            size = draw(st.integers(1, 8))
            data[at : at + size] = bytes([draw(st.sampled_from([0, 255]))]) * size
    return bytes(data)


def invoke(args: list[str]) -> Result:
    """Run the command; Python warnings (which pytest would otherwise capture, and which a
    terminal shows as several lines) fail the case."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, args)
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    return result


def check_ending(result: Result, case: str) -> None:
    """Exit 0, 1 or 2; no traceback; an error is one line, warnings one line each."""
    assert result.exit_code in (0, 1, 2), (case, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        case,
        repr(result.exception),
    )
    assert "Traceback" not in result.stderr, (case, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("gandoctor: ") for line in lines), (case, result.stderr)
    if result.exit_code == 2:
        assert len(lines) == 1 and lines[0].startswith("gandoctor: error: "), (case, lines)
    else:
        assert len(lines) <= 1, (case, lines)  # at most the warning about skipped images
    skipped = ", skipped with a warning" if lines and result.exit_code != 2 else ""
    OUTCOMES[f"{case}: exit {result.exit_code}{skipped}"] += 1


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the cases write their files: one file name each, overwritten every case."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def generator(folder: Path) -> Path:
    """A 16x16 DCGAN checkpoint for the image cases (5 valid digits beside each case)."""
    from safetensors.torch import save_file

    path = folder / "g.safetensors"
    save_file({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}, str(path))
    write_pngs(folder / "imgs", _digits(16)[:5])
    return path


def fuzz_checkpoint(folder: Path, kind: str, content: bytes) -> None:
    path = folder / f"mutated.{kind}"
    path.write_bytes(content)
    check_ending(invoke(["inspect", str(path)]), kind)


def fuzz_image(folder: Path, generator: Path, kind: str, content: bytes) -> None:
    for earlier in (folder / "imgs").glob("mutated.*"):  # one mutated image per case
        earlier.unlink()
    (folder / "imgs" / f"mutated.{kind}").write_bytes(content)
    args = ["probe", str(generator), "--data", str(folder / "imgs"), "--steps", "1",
            "--batch-size", "2", "--grad-batches", "1", "--json", "-"]  # fmt: skip
    check_ending(invoke(args), f"image {kind}")


SETTINGS = {
    "deadline": None,
    "derandomize": True,  # the same cases on every run: CI does not flake
    "database": None,  # writes no .hypothesis folder
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
checkpoint_cases = st.sampled_from(sorted(CHECKPOINTS)).flatmap(
    lambda kind: st.tuples(st.just(kind), mutated(CHECKPOINTS[kind]))
)
image_cases = st.sampled_from(sorted(IMAGES)).flatmap(
    lambda kind: st.tuples(st.just(kind), mutated(IMAGES[kind]))
)


@settings(max_examples=25, **SETTINGS)
@given(case=checkpoint_cases)
def test_mutated_checkpoints_end_cleanly(folder: Path, case: tuple[str, bytes]) -> None:
    fuzz_checkpoint(folder, *case)


@settings(max_examples=25, **SETTINGS)
@given(content=mutated(CHECKPOINTS["pkl"]))
def test_mutated_stylegan_snapshots_end_cleanly(folder: Path, content: bytes) -> None:
    """The restricted unpickler on damaged snapshots: a refused global, a broken nested
    storage archive or a cut stream each end in one line."""
    fuzz_checkpoint(folder, "pkl", content)


@settings(max_examples=25, **SETTINGS)
@given(case=image_cases)
def test_mutated_images_end_cleanly(folder: Path, generator: Path, case: tuple[str, bytes]) -> None:
    fuzz_image(folder, generator, *case)


@pytest.mark.slow
def test_long_fuzz_run(folder: Path, generator: Path) -> None:
    """Thousands of cases (``GANDOCTOR_FUZZ_CASES``, default 2000 of each kind); prints the
    outcomes and the time taken."""
    cases = int(os.environ.get("GANDOCTOR_FUZZ_CASES", "2000"))
    long = {**SETTINGS, "derandomize": False, "max_examples": cases}
    OUTCOMES.clear()
    started = time.perf_counter()
    settings(**long)(given(case=checkpoint_cases)(lambda case: fuzz_checkpoint(folder, *case)))()
    settings(**long)(given(case=image_cases)(lambda case: fuzz_image(folder, generator, *case)))()
    seconds = time.perf_counter() - started
    print(f"\n{sum(OUTCOMES.values())} cases in {seconds:.0f} s:")
    for outcome, count in sorted(OUTCOMES.items()):
        print(f"  {outcome}: {count}")

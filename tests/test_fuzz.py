"""Property: whatever bytes a checkpoint or an image holds, gandoctor ends with exit 0, 1 or
2, never with a traceback, and says what went wrong in one line (issue 8).

Hypothesis mutates valid files: the shipped 32x32 DCGAN checkpoint (safetensors), a
``torch.save`` of a 16x16 DCGAN's weights (a zip holding a pickle), an NVlabs-format
StyleGAN2 training snapshot (a plain pickle of persistent objects), and PNG, JPEG, GIF,
TIFF and 16-bit PNG images. Half the edits land in the first bytes, where headers are.
Checkpoints go through ``gandoctor inspect`` (loading is where their bytes matter), images
through a one-step probe beside five valid images. Data archives (issue 24) go through a
one-step probe as ``--data``: an NVlabs dataset ZIP and a rosinality LMDB, each made the way
its tool makes it (tests/datasets_made.py) and mutated, and ZIPs that Hypothesis lays out
itself, with hostile member names (``../``, absolute, drive letters), compression methods
and ``dataset.json`` contents; a climbing name must end in exit 2, and no LMDB read may
leave a lock file. The default run tries 25 cases of each kind;
``pytest -m slow tests/test_fuzz.py -s`` tries thousands and prints what happened (its
last result is in the README, section Security).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import _digits, untrained_dcgan, write_pngs
from datasets_made import nvlabs_name, nvlabs_zip, rosinality_lmdb
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


def _archive_bytes() -> dict[str, bytes]:
    """A dataset_tool.py ZIP and a prepare_data.py LMDB's data.mdb of five 16x16 digits."""
    digits = ((_digits(16)[:5, 0].numpy() + 1) * 127.5).round().astype(np.uint8)
    with tempfile.TemporaryDirectory() as made:
        archive = nvlabs_zip(Path(made) / "made.zip", digits, [0, 1, 2, 1, 0])
        pictures = [Image.fromarray(d) for d in digits]
        records = rosinality_lmdb(Path(made) / "made_lmdb", pictures, (8, 16))
        return {"zip": archive.read_bytes(), "lmdb": (records / "data.mdb").read_bytes()}


CHECKPOINTS = {
    "safetensors": SHIPPED.read_bytes(),
    "pt": _torch_save_bytes(),
    # An NVlabs-format training snapshot: read by the restricted unpickler, not torch.load.
    "pkl": snapshot_bytes(snapshot(small_generator(0))),
}
IMAGES = _image_bytes()
ARCHIVES = _archive_bytes()


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


def probe_data(generator: Path, data: Path) -> list[str]:
    return ["probe", str(generator), "--data", str(data), "--steps", "1", "--batch-size", "2",
            "--grad-batches", "1", "--json", "-"]  # fmt: skip


def fuzz_archive(folder: Path, generator: Path, kind: str, content: bytes) -> None:
    """A mutated ZIP, or an LMDB folder whose data.mdb is mutated, as ``--data``."""
    if kind == "zip":
        path = folder / "mutated.zip"
        path.write_bytes(content)
    else:
        path = folder / "mutated_lmdb"
        path.mkdir(exist_ok=True)
        (path / "data.mdb").write_bytes(content)
    check_ending(invoke(probe_data(generator, path)), f"archive {kind}")
    if kind == "lmdb":
        assert os.listdir(path) == ["data.mdb"]  # read-only: no lock file, nothing written


NAMES = ["a.png", "b/c.png", "dataset.json", "../up.png", "x/../../up.png", "/abs.png",
         "\\\\server\\x.png", "C:x.png", "..\\win.png", ".hidden.png", "dir/"]  # fmt: skip
"""Member names: valid, hidden, a folder, and ones that climb out in each way."""
# No NUL: zipfile cuts a name there, and a name cut to nothing cannot be written.
ANY_NAME = st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=12)
MEMBER_NAMES = st.sampled_from(NAMES) | ANY_NAME.map(lambda name: name + ".png")
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@st.composite
def zip_layouts(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A ZIP of five valid images and drawn members (valid or mutated images, drawn JSON for
    dataset.json) under drawn names and methods; and whether a name climbs out (then the
    ending must be 2)."""
    buffer = io.BytesIO()
    climbs = False
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(5):  # enough samples for a probe whatever the drawn members hold
            archive.writestr(f"valid/{index}.png", IMAGES["png"])
        for index in range(draw(st.integers(0, 6))):
            name = draw(MEMBER_NAMES) if draw(st.booleans()) else nvlabs_name(index)
            if name == "dataset.json":
                pairs = st.tuples(st.sampled_from([nvlabs_name(i) for i in range(6)]), JSON_VALUES)
                labels = draw(st.lists(pairs.map(list), max_size=6) | JSON_VALUES)
                content = json.dumps({"labels": labels} if draw(st.booleans()) else labels)
                data = content.encode()
            else:
                original = IMAGES["png"]
                data = draw(mutated(original)) if draw(st.booleans()) else original
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                           zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile's "Duplicate name" warning
                archive.writestr(name, data, compress_type=method)
            stored = archive.infolist()[-1].filename
            parts = stored.replace("\\", "/").split("/")
            climbs |= stored.startswith(("/", "\\")) or ".." in parts or stored[1:2] == ":"
    return buffer.getvalue(), climbs


def fuzz_zip_layout(folder: Path, generator: Path, content: bytes, climbs: bool) -> None:
    path = folder / "layout.zip"
    path.write_bytes(content)
    result = invoke(probe_data(generator, path))
    check_ending(result, "zip layout")
    assert not climbs or result.exit_code == 2, result.output


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
archive_cases = st.sampled_from(sorted(ARCHIVES)).flatmap(
    lambda kind: st.tuples(st.just(kind), mutated(ARCHIVES[kind]))
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


@settings(max_examples=25, **SETTINGS)
@given(case=archive_cases)
def test_mutated_archives_end_cleanly(
    folder: Path, generator: Path, case: tuple[str, bytes]
) -> None:
    fuzz_archive(folder, generator, *case)


@settings(max_examples=25, **SETTINGS)
@given(layout=zip_layouts())
def test_hostile_zip_layouts_end_cleanly(
    folder: Path, generator: Path, layout: tuple[bytes, bool]
) -> None:
    fuzz_zip_layout(folder, generator, *layout)


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
    settings(**long)(
        given(case=archive_cases)(lambda case: fuzz_archive(folder, generator, *case))
    )()
    settings(**long)(
        given(layout=zip_layouts())(lambda layout: fuzz_zip_layout(folder, generator, *layout))
    )()
    seconds = time.perf_counter() - started
    print(f"\n{sum(OUTCOMES.values())} cases in {seconds:.0f} s:")
    for outcome, count in sorted(OUTCOMES.items()):
        print(f"  {outcome}: {count}")

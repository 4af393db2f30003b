"""The cache of decoded image folders: hits skip decoding, any change misses it."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from gandoctor.config import DataOptions
from gandoctor.data import cache, images, load_real_data, parallel
from gandoctor.errors import ConfigError

SHAPE, RANGE = (1, 8, 8), (-1.0, 1.0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "real"
    root.mkdir()
    for i in range(6):
        pixels = rng.integers(0, 256, (12, 12), dtype=np.uint8)
        Image.fromarray(pixels, mode="L").save(root / f"{i}.png")
    (root / "broken.png").write_bytes(b"not a png")
    return root


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every file the loader decodes."""
    seen: list[str] = []
    decode = images._decode_image

    def counting(file: str, mode: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
        seen.append(file)
        return decode(file, mode, size)

    monkeypatch.setattr(images, "_decode_image", counting)
    return seen


def _load(root: Path, warnings: list[str] | None = None, **options: object):  # type: ignore[no-untyped-def]
    sink = warnings.append if warnings is not None else None
    return load_real_data(root, sample_shape=SHAPE, value_range=RANGE,
                          options=DataOptions(**options), on_warning=sink)  # type: ignore[arg-type]  # fmt: skip


def test_second_read_comes_from_the_cache_with_the_same_pixels_and_warning(folder, decodes):
    first_warnings: list[str] = []
    first = _load(folder, first_warnings)
    assert len(decodes) == 7
    second_warnings: list[str] = []
    second = _load(folder, second_warnings)
    assert len(decodes) == 7  # nothing decoded again
    assert second.samples.equal(first.samples)
    assert (second.used, second.skipped, second.conversion) == (6, 1, first.conversion)
    assert second_warnings == first_warnings and "broken.png" in first_warnings[0]
    assert len(list(cache.cache_dir().glob("images-*.npz"))) == 1


def test_a_changed_file_or_setting_misses_the_cache(folder, decodes):
    _load(folder)
    os.utime(folder / "0.png", ns=(1, 1))  # same bytes, another modification time
    _load(folder)
    assert len(decodes) == 14
    load_real_data(folder, sample_shape=(1, 6, 6), value_range=RANGE)  # another size
    assert len(decodes) == 21


def test_no_cache_writes_nothing(folder, decodes):
    _load(folder, cache=False)
    _load(folder, cache=False)
    assert len(decodes) == 14
    assert not cache.cache_dir().exists() or not any(cache.cache_dir().iterdir())


def test_a_corrupt_entry_or_an_unwritable_cache_is_skipped(folder, decodes, monkeypatch, tmp_path):
    reference = _load(folder)
    for entry in cache.cache_dir().glob("images-*.npz"):
        entry.write_bytes(b"garbage")
    assert _load(folder).samples.equal(reference.samples)
    assert len(decodes) == 14
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GANDOCTOR_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert _load(folder).samples.equal(reference.samples)


def test_the_cache_lives_in_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("GANDOCTOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "gandoctor"


def test_worker_processes_decode_the_same_pixels_in_the_same_order(tmp_path, monkeypatch):
    """Enough files for worker processes (where the CPUs allow): the same samples, the same
    order and the same skipped file as decoding in this process."""
    rng = np.random.default_rng(1)
    root = tmp_path / "many"
    root.mkdir()
    for i in range(2 * parallel.MIN_FILES_PER_WORKER):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), mode="L").save(
            root / f"{i:04d}.png"
        )
    (root / "0100.png").write_bytes(b"broken")
    warnings: list[list[str]] = [[], []]
    loaded = []
    for setting, sink in zip(("", "0"), warnings, strict=True):
        monkeypatch.setenv(parallel.WORKERS_VARIABLE, setting)
        loaded.append(_load(root, sink, cache=False))
    assert loaded[0].samples.equal(loaded[1].samples)
    assert loaded[0].used == 2 * parallel.MIN_FILES_PER_WORKER - 1
    assert warnings[0] == warnings[1] and "0100.png" in warnings[0][0]


def test_worker_count_follows_the_cpus_the_files_and_the_override(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 4)
    assert parallel.worker_count(100, {}) == 0  # too few files to pay for a process
    assert parallel.worker_count(10_000, {}) == 4
    assert parallel.worker_count(10_000, {parallel.WORKERS_VARIABLE: "0"}) == 0
    with pytest.raises(ConfigError, match="GANDOCTOR_DECODE_WORKERS must be a whole number"):
        parallel.worker_count(10_000, {parallel.WORKERS_VARIABLE: "two"})
    daemon = SimpleNamespace(daemon=True)  # e.g. inside a multiprocessing pool's worker
    monkeypatch.setattr(parallel.multiprocessing, "current_process", lambda: daemon)
    assert parallel.worker_count(10_000, {}) == 0

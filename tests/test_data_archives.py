"""Data as training code has it: NVlabs dataset ZIPs, rosinality LMDBs and class folders
(issue 24, part 1). Every fixture is made in the test the way the tool makes it
(datasets_made). Pixels are compared with the same image files read from a folder; labels,
their counts and the labels the fakes are drawn with are checked by number."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets_made import (
    class_folders,
    nvlabs_folder,
    nvlabs_name,
    nvlabs_zip,
    random_images,
    rgb_pictures,
    rosinality_lmdb,
    rosinality_records,
)
from PIL import Image
from torch import nn

import gandoctor
from gandoctor.config import DataOptions, LoadOptions, ProbeConfig
from gandoctor.data import RealData, load_real_data, parallel
from gandoctor.data.archives import lmdb_records, zipped
from gandoctor.data.labels import conditioned
from gandoctor.errors import DataError
from gandoctor.nn.latent import LatentSpec

RGB8 = (3, 8, 8)


def load(path: Path, shape: tuple[int, ...] = RGB8, warnings: list[str] | None = None,
         **options: object) -> RealData:  # fmt: skip
    sink = warnings.append if warnings is not None else None
    return load_real_data(path, sample_shape=shape, value_range=(-1.0, 1.0),
                          options=DataOptions(**options), on_warning=sink)  # type: ignore[arg-type]  # fmt: skip


def tree(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``folder``: size, modification time and content digest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = (path.stat().st_size, path.stat().st_mtime_ns,
                                                    digest)  # fmt: skip
    return found


@contextmanager
def untouched(folder: Path) -> Iterator[None]:
    """The block leaves every file under ``folder`` as it was and adds none (no lock file,
    no extracted member, no cache)."""
    before = tree(folder)
    yield
    assert tree(folder) == before


def lmdb_folder(tmp_path: Path, count: int = 10, sizes: tuple[int, ...] = (8, 16),
                **kwargs: object) -> Path:  # fmt: skip
    """An LMDB as prepare_data.py leaves it, without the lock file its writer made (a
    reader must not bring one back)."""
    path = rosinality_lmdb(tmp_path / "lmdb", rgb_pictures(count), sizes, **kwargs)  # type: ignore[arg-type]
    (path / "lock.mdb").unlink()
    return path


# --- NVlabs ZIPs ------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_zip_decodes_to_the_same_tensor_as_its_pngs_in_a_folder(
    tmp_path: Path, channels: int
) -> None:
    images = random_images(9, 8, channels)
    archive = nvlabs_zip(tmp_path / "data.zip", images)
    folder = nvlabs_folder(tmp_path / "folder", images)
    for shape in ((channels, 8, 8), (channels, 6, 6), (3 if channels == 1 else 1, 12, 12)):
        from_zip, from_folder = load(archive, shape), load(folder, shape)
        assert from_zip.samples.equal(from_folder.samples)
        assert from_zip.conversion == from_folder.conversion
    data = load(archive, (channels, 8, 8))
    assert (data.kind, data.found, data.used, data.skipped) == ("zip", 9, 9, 0)
    expected = torch.from_numpy(images.astype(np.float32)) / 127.5 - 1
    expected = expected.permute(0, 3, 1, 2) if channels == 3 else expected[:, None]
    assert torch.allclose(data.samples, expected, atol=1e-6)  # 8x8 stays 8x8: no resampling


def test_zip_labels_from_dataset_json_follow_their_images(tmp_path: Path) -> None:
    labels = [0] * 12 + [1] * 6 + [2] * 2
    # Each image is a solid grey that names its class, so the tensor shows which it is.
    images = np.stack([np.full((8, 8), 60 * c + 10, dtype=np.uint8) for c in labels])
    archive = nvlabs_zip(tmp_path / "data.zip", images, labels)
    data = load(archive, (1, 8, 8))
    assert data.describe()["labels"] == "from dataset.json, 3 classes"
    assert data.describe()["label_counts"] == [12, 6, 2]
    assert data.labels is not None and data.labels.tolist() == labels
    capped = load(archive, (1, 8, 8), max_images=7, seed=3)
    assert capped.labels is not None and len(capped.labels) == 7
    grey = ((capped.samples[:, 0, 0, 0] + 1) * 127.5).round()
    assert ((grey - 10) / 60).tolist() == capped.labels.float().tolist()


def test_a_member_that_is_not_an_image_is_skipped_and_the_labels_stay_aligned(
    tmp_path: Path,
) -> None:
    labels = [0, 1, 2, 0, 1, 2]
    images = np.stack([np.full((8, 8), 60 * c + 10, dtype=np.uint8) for c in labels])
    archive = nvlabs_zip(tmp_path / "data.zip", images, labels)
    rewritten = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            broken = info.filename == nvlabs_name(1)  # intact in the ZIP, not a PNG inside
            target.writestr(info, b"not a png" if broken else source.read(info))
    warnings: list[str] = []
    data = load(rewritten, (1, 8, 8), warnings)
    assert (data.used, data.skipped) == (5, 1)
    assert len(warnings) == 1 and nvlabs_name(1) in warnings[0]
    assert data.labels is not None and data.labels.tolist() == [0, 2, 0, 1, 2]
    assert data.label_counts() == [2, 1, 2]


def test_labels_null_one_hot_vectors_and_other_vectors(tmp_path: Path) -> None:
    images = random_images(4)
    assert "labels" not in load(nvlabs_zip(tmp_path / "none.zip", images)).describe()
    one_hot = [[0, 1], [1, 0], [0, 1], [0, 1]]
    data = load(nvlabs_zip(tmp_path / "hot.zip", images, one_hot))  # type: ignore[arg-type]
    assert data.labels is not None and data.labels.tolist() == [1, 0, 1, 1]
    assert data.classes == 2
    warnings: list[str] = []
    vectors = [[0.5, 0.2], [1.0, 0.0], [0.0, 1.0], [0.3, 0.3]]
    data = load(nvlabs_zip(tmp_path / "vec.zip", images, vectors), warnings=warnings)  # type: ignore[arg-type]
    assert data.labels is None and "label vectors" in warnings[0]


def test_zip_of_class_folders_without_dataset_json(tmp_path: Path) -> None:
    images = random_images(5)
    path = tmp_path / "pets.zip"
    with zipfile.ZipFile(path, "w") as archive:  # zipped folder: one top folder, then classes
        for i, name in enumerate(["pets/dog/a.png", "pets/cat/b.png", "pets/dog/c.png",
                                  "pets/cat/d.png", "pets/emu/e.png"]):  # fmt: skip
            buffer = io.BytesIO()
            Image.fromarray(images[i]).save(buffer, format="png")
            archive.writestr(name, buffer.getvalue())
        archive.writestr("__MACOSX/pets/._a.png", b"resource fork")  # hidden: not an image
    data = load(path)
    assert data.found == 5 and data.label_source == "class folders"
    # Sorted member names: cat/b, cat/d, dog/a, dog/c, emu/e; classes cat 0, dog 1, emu 2.
    assert data.labels is not None and data.labels.tolist() == [0, 0, 1, 1, 2]


def test_zip_is_streamed_never_extracted_nor_written(tmp_path: Path) -> None:
    archive = nvlabs_zip(tmp_path / "data.zip", random_images(6), [0, 1, 0, 1, 0, 1])
    with untouched(tmp_path):
        load(archive, cache=False)
        load(archive, (3, 4, 4), cache=False)


def test_the_cache_serves_zips_and_lmdbs_and_misses_on_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    original = zipped.decode_bytes

    def counting(name: str, *args: object) -> object:
        decoded.append(name)
        return original(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(zipped, "decode_bytes", counting)
    monkeypatch.setattr(lmdb_records, "decode_bytes", counting)
    archive = nvlabs_zip(tmp_path / "data.zip", random_images(6), [0, 1, 0, 1, 0, 1])
    first = load(archive)
    second = load(archive)
    assert len(decoded) == 6 and second.samples.equal(first.samples)
    assert second.labels is not None and second.labels.equal(first.labels)  # type: ignore[arg-type]
    os.utime(archive, ns=(1, 1))  # the same bytes, another modification time: decoded again
    load(archive)
    assert len(decoded) == 12
    records = lmdb_folder(tmp_path)
    load(records)
    load(records)
    assert len(decoded) == 22
    load(records, (3, 16, 16))  # another resolution's records: another entry
    assert len(decoded) == 32


def test_zip_with_worker_processes_gives_the_same_samples_and_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 2 * parallel.MIN_FILES_PER_WORKER
    labels = [i % 5 for i in range(count)]
    archive = nvlabs_zip(tmp_path / "data.zip", random_images(count, 4, 1), labels)
    loaded = []
    for workers in ("2", "0"):
        monkeypatch.setenv(parallel.WORKERS_VARIABLE, workers)
        loaded.append(load(archive, (1, 4, 4), cache=False))
    assert loaded[0].samples.equal(loaded[1].samples)
    assert loaded[0].labels.tolist() == loaded[1].labels.tolist() == labels  # type: ignore[union-attr]


# --- rosinality LMDBs -------------------------------------------------------------------


@pytest.mark.parametrize(("side", "resolution"), [(8, 8), (16, 16), (12, 16), (6, 8), (32, 16)])
def test_lmdb_decodes_like_its_jpegs_in_a_folder_at_the_nearest_resolution(
    tmp_path: Path, side: int, resolution: int
) -> None:
    """The generator's size where stored, else the nearest larger (resized down), else the
    largest (resized up); the pixels are those of the same JPEG bytes read from files."""
    records = lmdb_folder(tmp_path, count=7)
    folder = tmp_path / "jpegs"
    folder.mkdir()
    for key, content in rosinality_records(rgb_pictures(7), (8, 16)).items():
        if key.startswith(f"{resolution}-"):
            (folder / f"{key}.jpg").write_bytes(content)
    shape = (3, side, side)
    data, reference = load(records, shape), load(folder, shape)
    assert data.samples.equal(reference.samples)
    assert (data.kind, data.found, data.used) == ("lmdb", 7, 7)
    assert f"the {resolution} px records; the LMDB holds 8, 16" in data.conversion
    assert data.labels is None


def test_lmdb_is_opened_read_only_without_a_lock_file(tmp_path: Path) -> None:
    records = lmdb_folder(tmp_path)
    with untouched(tmp_path):
        load(records, cache=False)
        load(records, (1, 16, 16), cache=False)
    assert sorted(os.listdir(records)) == ["data.mdb"]


def test_lmdb_data_file_given_itself(tmp_path: Path) -> None:
    records = lmdb_folder(tmp_path)
    single = tmp_path / "faces.mdb"
    single.write_bytes((records / "data.mdb").read_bytes())
    with untouched(tmp_path):
        assert load(single).samples.equal(load(records).samples)


def test_lmdb_without_the_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = lmdb_folder(tmp_path)
    monkeypatch.setitem(sys.modules, "lmdb", None)  # import lmdb now raises ImportError
    with pytest.raises(DataError, match=r'needs the lmdb package: pip install "gandoctor\[runs\]"'):
        load(records)


# --- class folders ----------------------------------------------------------------------


def test_class_folders_are_labels_in_sorted_order(tmp_path: Path) -> None:
    images = random_images(7)
    root = class_folders(
        tmp_path / "pets", images, ["dog", "cat", "dog", "emu", "cat", "dog", "dog"]
    )
    data = load(root)
    assert data.describe()["labels"] == "from class folders, 3 classes"
    assert data.describe()["label_counts"] == [2, 4, 1]  # cat, dog, emu
    # Files sort as cat/0001, cat/0004, dog/0000, dog/0002, dog/0005, dog/0006, emu/0003.
    assert data.labels is not None and data.labels.tolist() == [0, 0, 1, 1, 1, 1, 2]
    order = [1, 4, 0, 2, 5, 6, 3]
    expected = torch.from_numpy(images[order].astype(np.float32)).permute(0, 3, 1, 2) / 127.5 - 1
    assert torch.allclose(data.samples, expected, atol=1e-6)


def test_folders_that_are_not_classes_give_no_labels(tmp_path: Path) -> None:
    images = random_images(4)
    plain = class_folders(tmp_path / "plain", images[:3], ["a", "b", "b"])
    Image.fromarray(images[3]).save(plain / "top.png")  # an image beside the folders
    assert load(plain).labels is None and load(plain).found == 4
    single = class_folders(tmp_path / "single", images, ["images"] * 4)
    assert load(single).labels is None
    nvlabs = class_folders(tmp_path / "nvlabs", images, ["00000", "00000", "00001", "00001"])
    (nvlabs / "dataset.json").write_text(json.dumps({"labels": None}))  # dataset.json decides
    assert load(nvlabs).labels is None


def test_dataset_json_in_a_folder_gives_its_labels(tmp_path: Path) -> None:
    folder = nvlabs_folder(tmp_path / "folder", random_images(5), [3, 1, 1, 0, 3])
    data = load(folder)
    assert data.labels is not None and data.labels.tolist() == [3, 1, 1, 0, 3]
    assert data.classes == 4 and data.label_counts() == [1, 2, 0, 2]


# --- the labels the fakes get -----------------------------------------------------------


def real_with(labels: list[int], source: str = "dataset.json", classes: int = 0) -> RealData:
    values = torch.tensor(labels)
    return RealData(torch.zeros(len(labels), 2), "data.zip", "zip", len(labels), len(labels), 0,
                    "", values, source, classes or int(values.max()) + 1)  # fmt: skip


def test_fakes_get_labels_at_the_datas_class_frequencies() -> None:
    spec = conditioned(LatentSpec((4,), num_classes=4), real_with([0] * 6 + [1] * 3 + [2]))
    assert spec.label_weights == (0.6, 0.3, 0.1, 0.0)  # class 3 is absent from the data
    assert "at the data's class frequencies" in spec.describe()
    _, labels = spec.sample(20_000, torch.Generator().manual_seed(0))
    shares = torch.bincount(labels, minlength=4) / 20_000
    assert torch.allclose(shares, torch.tensor([0.6, 0.3, 0.1, 0.0]), atol=0.01)
    again = spec.sample(50, torch.Generator().manual_seed(0))[1]
    assert again.equal(spec.sample(50, torch.Generator().manual_seed(0))[1])


def test_labels_stay_uniform_without_labels_or_where_the_folders_do_not_fit() -> None:
    spec = LatentSpec((4,), num_classes=2)
    unlabelled = RealData(torch.zeros(4, 2), "x", "npy", 4, 4, 0)
    assert conditioned(spec, unlabelled) is spec
    assert conditioned(LatentSpec((4,)), real_with([0, 1])) == LatentSpec((4,))
    assert conditioned(spec, real_with([0, 1, 2], "class folders")) is spec
    # Class folders of another count are no classes of G's (train/, val/): uniform.
    three = LatentSpec((4,), num_classes=3)
    assert conditioned(three, real_with([0, 1], "class folders")) is three
    assert conditioned(spec, real_with([0, 0, 1], "class folders")).label_weights == (2 / 3, 1 / 3)
    with pytest.raises(DataError, match=r"name 3 classes, the generator takes 2.*num_classes"):
        conditioned(spec, real_with([0, 1, 2]))


class RecordingConditional(nn.Module):
    """G(z, y) for 8x8 RGB that keeps every label it is called with."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(3, 16)
        self.net = nn.Linear(16, 3 * 8 * 8)
        self.seen: list[torch.Tensor] = []

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.seen.append(labels.detach().cpu())
        return torch.tanh(self.net(z.flatten(1) + self.embed(labels))).view(-1, 3, 8, 8)


@pytest.mark.parametrize("labelled", [True, False])
def test_the_probe_draws_the_fakes_labels_from_the_data(tmp_path: Path, labelled: bool) -> None:
    labels = [0] * 70 + [1] * 20 + [2] * 10
    archive = nvlabs_zip(tmp_path / "data.zip", random_images(100), labels if labelled else None)
    generator = RecordingConditional()
    config = ProbeConfig(steps=40, batch_size=32, grad_batches=2)
    options = LoadOptions(num_classes=3)
    report = gandoctor.probe(generator, archive, latent_shape=(16,), load_options=options,
                             config=config)  # fmt: skip
    seen = torch.cat(generator.seen)
    shares = torch.bincount(seen, minlength=3) / len(seen)
    assert len(seen) > 1000
    expected = [0.7, 0.2, 0.1] if labelled else [1 / 3] * 3
    assert torch.allclose(shares, torch.tensor(expected), atol=0.04), shares
    data = report.checkpoints[0].data
    assert data.get("labels") == ("from dataset.json, 3 classes" if labelled else None)


# --- broken and hostile archives --------------------------------------------------------


def zip_bytes(tmp_path: Path, labels: list[int] | None = None) -> bytes:
    return nvlabs_zip(tmp_path / "made.zip", random_images(4), labels).read_bytes()


def central_entries(raw: bytes) -> list[int]:
    """Offsets of the central directory's entries."""
    found, at = [], raw.find(b"PK\x01\x02")
    while at != -1:
        found.append(at)
        at = raw.find(b"PK\x01\x02", at + 4)
    return found


def patched(raw: bytes, offset: int, value: bytes) -> bytes:
    return raw[:offset] + value + raw[offset + len(value) :]


def with_members(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(random_images(1)[0]).save(buffer, format="png")
    return buffer.getvalue()


Broken = Callable[[Path], Path]
ZIP_CASES: dict[str, tuple[Broken, str]] = {
    "climbing member": (
        lambda t: with_members(t / "d.zip", {"a.png": png_bytes(), "../evil.png": png_bytes()}),
        "member ../evil.png climbs out of the archive",
    ),
    "absolute member": (
        lambda t: with_members(t / "d.zip", {"a.png": png_bytes(), "/etc/x.png": png_bytes()}),
        "climbs out",
    ),
    "windows climbing member": (
        lambda t: with_members(t / "d.zip", {"a.png": png_bytes(), "..\\x.png": png_bytes()}),
        "climbs out",
    ),
    "zip bomb": (
        lambda t: with_members(
            t / "d.zip", {"a.png": png_bytes(), "b.png": bytes(8 * 2**20)}, zipfile.ZIP_DEFLATED
        ),
        "zip bomb: member b.png declares 8388608 bytes",
    ),
    "overlapping members": (
        lambda t: _overlapping(t / "d.zip"),
        "members overlap",
    ),
    "truncated": (
        lambda t: _write(t / "d.zip", zip_bytes(t)[: len(zip_bytes(t)) // 2]),
        "cannot read",
    ),
    "corrupt member": (
        lambda t: _write(t / "d.zip", patched(zip_bytes(t), 200, b"\xff\x00\xff")),
        "damaged member 00000/img00000000.png: Bad CRC-32",
    ),
    "encrypted member": (
        lambda t: _encrypted(t / "d.zip"),
        "is encrypted",
    ),
    "not a zip": (lambda t: _write(t / "d.zip", b"PK\x03\x04" + bytes(100)), "as a ZIP archive"),
    "no images": (lambda t: with_members(t / "d.zip", {"notes.txt": b"hi"}), "no image files"),
}


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _overlapping(path: Path) -> Path:
    """The second member's central entry points at the first one's bytes (the
    non-recursive zip bomb's trick)."""
    raw = with_members(path, {"a.png": png_bytes(), "b.png": png_bytes()}).read_bytes()
    second = central_entries(raw)[1]
    return _write(path, patched(raw, second + 42, (0).to_bytes(4, "little")))


def _encrypted(path: Path) -> Path:
    raw = with_members(path, {"a.png": png_bytes(), "b.png": png_bytes()}).read_bytes()
    first = central_entries(raw)[0]
    return _write(path, patched(raw, first + 8, (1).to_bytes(2, "little")))


def json_zip(path: Path, dataset_json: bytes) -> Path:
    return with_members(path, {nvlabs_name(0): png_bytes(), nvlabs_name(1): png_bytes(),
                               "dataset.json": dataset_json})  # fmt: skip


JSON_CASES: dict[str, tuple[bytes, str]] = {
    "not json": (b"{labels", "dataset.json is not valid JSON"),
    "nested": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "no labels": (b'{"classes": 3}', 'must be an object with "labels"'),
    "labels not a list": (b'{"labels": {"a": 1}}', '"labels" must be a list'),
    "not a pair": (b'{"labels": [["00000/img00000000.png"]]}', "entry 0 is not a [file name"),
    "negative": (b'{"labels": [["00000/img00000000.png", -1]]}', "is -1, not a class"),
    "boolean": (b'{"labels": [["00000/img00000000.png", true]]}', "neither a class"),
    "mixed": (
        json.dumps({"labels": [[nvlabs_name(0), 1], [nvlabs_name(1), [0, 1]]]}).encode(),
        "not of the same kind",
    ),
    "an image without a label": (
        json.dumps({"labels": [[nvlabs_name(0), 1], ["elsewhere.png", 0]]}).encode(),
        "has no label for 1 of 2 images (first: 00000/img00000001.png)",
    ),
}


@pytest.mark.parametrize("name", sorted(ZIP_CASES) + [f"json: {n}" for n in sorted(JSON_CASES)])
def test_broken_or_hostile_zip_is_one_line_and_untouched(tmp_path: Path, name: str) -> None:
    if name.startswith("json: "):
        content, needle = JSON_CASES[name.removeprefix("json: ")]
        path = json_zip(tmp_path / "d.zip", content)
    else:
        make, needle = ZIP_CASES[name]
        path = make(tmp_path)
    with untouched(tmp_path), pytest.raises(DataError) as raised:
        load(path, cache=False)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and needle in message, message


def test_limits_on_declared_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = with_members(tmp_path / "d.zip", {"a.png": png_bytes(), "b.png": png_bytes()})
    monkeypatch.setattr(zipped, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(DataError, match=r"member a\.png declares \d+ bytes, more than 0 MiB"):
        load(path)


LMDB_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "no length": (lambda t: lmdb_folder(t, length=-1), "no 'length' record"),
    "length not a count": (
        lambda t: lmdb_folder(t, length=-1, extra={b"length": b"ten"}),
        "'length' record is 'ten', not a count",
    ),
    "length beyond the records": (
        lambda t: lmdb_folder(t, count=5, length=9),
        "'length' is 9, but 4 of its 8 px records are missing (first: 8-00005)",
    ),
    "length of a billion": (  # the keys are made as asked for, never listed
        lambda t: lmdb_folder(t, count=3, length=10**9),
        "'length' is 1000000000, but 10000 of its 8 px records are missing",
    ),
    "no image records": (
        lambda t: lmdb_folder(t, sizes=(), length=3),
        "holds no '<size>-<index>' image records",
    ),
    "cut short": (lambda t: _cut(lmdb_folder(t)), "is cut short"),
    "not an lmdb": (lambda t: _garbage(lmdb_folder(t)), "cannot read"),
}


def _cut(path: Path) -> Path:
    data = path / "data.mdb"
    data.write_bytes(data.read_bytes()[: 3 * 4096])
    return path


def _garbage(path: Path) -> Path:
    (path / "data.mdb").write_bytes(b"\x00" * 10_000)
    return path


@pytest.mark.parametrize("name", sorted(LMDB_CASES))
def test_broken_lmdb_is_one_line_and_untouched(tmp_path: Path, name: str) -> None:
    make, needle = LMDB_CASES[name]
    path = make(tmp_path)
    with untouched(tmp_path), pytest.raises(DataError) as raised:
        load(path, cache=False)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and needle in message, message

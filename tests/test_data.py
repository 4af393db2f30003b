"""Tests for gandoctor.data: tiny images and arrays written to tmp_path, answers by hand."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from gandoctor.config import DataOptions
from gandoctor.data import RealData, load_real_data, real_data_from_tensor
from gandoctor.errors import ConfigError, DataError

RGB32 = (3, 32, 32)
TANH = (-1.0, 1.0)
SIGMOID = (0.0, 1.0)


def solid(
    path: Path, color: int | tuple[int, ...], mode: str = "RGB", size: tuple[int, int] = (8, 8)
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)
    return path


def load(
    path: Path,
    shape: tuple[int, ...] = RGB32,
    value_range: tuple[float, float] = TANH,
    **kwargs: Any,
) -> RealData:
    return load_real_data(path, sample_shape=shape, value_range=value_range, **kwargs)


def test_solid_images_scale_to_the_ends_of_the_range(tmp_path: Path) -> None:
    solid(tmp_path / "a_white.png", (255, 255, 255))
    solid(tmp_path / "b_black.png", (0, 0, 0))
    data = load(tmp_path)
    assert data.samples.dtype == torch.float32
    assert data.samples.shape == (2, 3, 32, 32)
    assert torch.equal(data.samples[0], torch.ones(3, 32, 32))
    assert torch.equal(data.samples[1], -torch.ones(3, 32, 32))
    assert data.describe() == {
        "conversion": "RGB 8x8 -> RGB 32x32 (centre crop to the aspect ratio, bicubic resize), "
        "values 0..255 -> [-1, 1]",
        "source": str(tmp_path),
        "kind": "image folder",
        "found": 2,
        "used": 2,
        "skipped": 0,
        "shape": [2, 3, 32, 32],
    }


def test_mid_grey_under_zero_one_and_tanh(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (128, 64, 0))
    solid(tmp_path / "b.png", (0, 0, 0))
    first = load(tmp_path, value_range=SIGMOID).samples[0]
    assert torch.allclose(first[:, 5, 7], torch.tensor([128 / 255, 64 / 255, 0.0]), atol=1e-6)
    # 127.5 is the middle of 0..255 and maps to 0 under tanh: 128 sits half a step above it.
    first = load(tmp_path, value_range=TANH).samples[0]
    assert first[0, 0, 0].item() == pytest.approx(0.5 / 127.5, abs=1e-6)


def test_upscale_from_8x8_keeps_a_solid_colour(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (10, 100, 200), size=(8, 8))
    solid(tmp_path / "b.png", (10, 100, 200), size=(8, 8))
    samples = load(tmp_path, value_range=(0.0, 255.0)).samples
    expected = torch.tensor([10.0, 100.0, 200.0]).view(3, 1, 1).expand(3, 32, 32)
    assert torch.allclose(samples[0], expected, atol=1e-4)


def test_non_square_image_is_centre_cropped(tmp_path: Path) -> None:
    # 40 wide, 20 high: red | green (middle 20 columns) | blue. The square crop is all green.
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :10, 0] = 255
    pixels[:, 10:30, 1] = 255
    pixels[:, 30:, 2] = 255
    for name in ("a.png", "b.png"):
        Image.fromarray(pixels).save(tmp_path / name)
    samples = load(tmp_path, value_range=SIGMOID).samples
    green = torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1).expand(3, 32, 32)
    assert torch.allclose(samples[0], green, atol=1e-6)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:, :8] = (255, 0, 0)  # stored: left half red, right half blue
    pixels[:, 8:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: the left half goes on top
    for name in ("a.png", "b.png"):
        Image.fromarray(pixels).save(tmp_path / name, exif=exif)
    image = load(tmp_path, shape=(3, 16, 16), value_range=SIGMOID).samples[0]
    assert image[:, 2, 2].tolist() == [1.0, 0.0, 0.0]
    assert image[:, 13, 13].tolist() == [0.0, 0.0, 1.0]


def test_grayscale_and_rgb_conversions(tmp_path: Path) -> None:
    solid(tmp_path / "gray" / "a.png", 200, mode="L")
    solid(tmp_path / "gray" / "b.png", 200, mode="L")
    rgb = load(tmp_path / "gray", value_range=(0.0, 255.0)).samples
    assert torch.allclose(rgb, torch.full_like(rgb, 200.0))
    solid(tmp_path / "rgb" / "a.png", (255, 0, 0))
    solid(tmp_path / "rgb" / "b.png", (0, 255, 0))
    gray = load(tmp_path / "rgb", shape=(1, 32, 32), value_range=(0.0, 255.0)).samples
    assert gray.shape == (2, 1, 32, 32)
    # ITU-R 601 luma, rounded to 8 bits by Pillow: 0.299 * 255 = 76.2, 0.587 * 255 = 149.7.
    assert gray[0, 0, 0, 0].item() == 76.0
    assert gray[1, 0, 0, 0].item() == 150.0


def test_palette_rgba_cmyk_and_16_bit_images(tmp_path: Path) -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    palette.save(tmp_path / "a_palette.png")
    transparent = Image.new("P", (8, 8), 1)
    transparent.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    transparent.save(tmp_path / "b_palette_transparent.png", transparency=1)
    solid(tmp_path / "c_rgba_opaque.png", (200, 100, 50, 255), mode="RGBA")
    solid(tmp_path / "d_rgba_clear.png", (200, 100, 50, 0), mode="RGBA")
    solid(tmp_path / "e_rgba_half.png", (200, 100, 50, 128), mode="RGBA")
    solid(tmp_path / "f_cmyk.tif", (255, 0, 0, 0), mode="CMYK")
    for name, value in (("g_16bit_white.png", 65535), ("h_16bit_mid.png", 128 * 257)):
        Image.fromarray(np.full((8, 8), value, np.uint16)).save(tmp_path / name)
    with Image.open(tmp_path / "g_16bit_white.png") as check:
        assert check.mode.startswith("I")  # really a 16-bit file
    data = load(tmp_path, value_range=(0.0, 255.0))
    assert data.used == 8
    corners = data.samples[:, :, 0, 0].tolist()
    assert corners[0] == [10.0, 20.0, 30.0]  # palette entry 1
    assert corners[1] == [0.0, 0.0, 0.0]  # transparent palette entry: composited on black
    assert corners[2] == [200.0, 100.0, 50.0]
    assert corners[3] == [0.0, 0.0, 0.0]
    assert corners[4] == pytest.approx([100.4, 50.2, 25.1], abs=1.0)  # half alpha on black
    assert corners[5] == [0.0, 255.0, 255.0]  # full cyan ink
    assert corners[6] == [255.0, 255.0, 255.0]  # 16-bit white
    assert corners[7] == [128.0, 128.0, 128.0]  # scaled, not clipped to 255 as Pillow would


def test_jpeg_large_image_is_drafted_and_resized(tmp_path: Path) -> None:
    solid(tmp_path / "a.jpg", (128, 128, 128), size=(512, 384))
    solid(tmp_path / "b.JPEG", (128, 128, 128), size=(64, 64))
    data = load(tmp_path, value_range=(0.0, 255.0))
    assert data.used == 2
    assert torch.allclose(data.samples, torch.full_like(data.samples, 128.0), atol=2.0)


def test_recursive_sorted_and_hidden_skipped(tmp_path: Path) -> None:
    solid(tmp_path / "b" / "deep" / "x.png", (255, 255, 255))
    solid(tmp_path / "a.png", (0, 0, 0))
    solid(tmp_path / ".hidden.png", (128, 128, 128))
    solid(tmp_path / ".cache" / "y.png", (128, 128, 128))
    (tmp_path / "notes.txt").write_text("not an image")
    data = load(tmp_path)
    assert (data.found, data.used, data.skipped) == (2, 2, 0)
    assert data.samples[0].max().item() == -1.0  # a.png sorts before b/deep/x.png
    assert data.samples[1].min().item() == 1.0


def test_cap_is_exact_and_seeded(tmp_path: Path) -> None:
    for value in range(20):
        solid(tmp_path / f"{value:02d}.png", value * 10, mode="L", size=(4, 4))

    def picked(seed: int) -> list[int]:
        options = DataOptions(max_images=5, seed=seed)
        data = load(tmp_path, shape=(1, 4, 4), value_range=(0.0, 255.0), options=options)
        assert (data.found, data.used) == (20, 5)
        return [round(v) // 10 for v in data.samples[:, 0, 0, 0].tolist()]

    first = picked(0)
    assert len(set(first)) == 5 and first == sorted(first)
    assert picked(0) == first
    assert picked(1) != first
    capped = DataOptions(max_images=5, seed=7)
    first_run = load(tmp_path, shape=(1, 4, 4), options=capped).samples
    assert torch.equal(first_run, load(tmp_path, shape=(1, 4, 4), options=capped).samples)


def test_cap_decodes_only_the_chosen_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in range(30):
        solid(tmp_path / f"{value:02d}.png", value, mode="L", size=(4, 4))
    opened: list[str] = []
    original = Image.open

    def spy(fp: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(fp))
        return original(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    load(tmp_path, shape=(1, 4, 4), options=DataOptions(max_images=4))
    assert len(opened) == 4


def test_unreadable_file_is_counted_and_warned_once(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (0, 0, 0))
    solid(tmp_path / "b.png", (0, 0, 0))
    (tmp_path / "c.png").write_bytes(b"this is not a png")
    warnings: list[str] = []
    data = load(tmp_path, on_warning=warnings.append)
    assert (data.found, data.used, data.skipped) == (3, 2, 1)
    assert data.samples.shape[0] == 2
    assert len(warnings) == 1
    assert warnings[0].startswith("skipped 1 of 3 files that could not be read as images")
    assert "c.png" in warnings[0]


def test_decompression_bomb_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    solid(tmp_path / "a.png", (0, 0, 0), size=(8, 8))
    solid(tmp_path / "b.png", (0, 0, 0), size=(8, 8))
    solid(tmp_path / "c_big.png", (0, 0, 0), size=(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64*64 > 2 * 1000: a "bomb"
    warnings: list[str] = []
    data = load(tmp_path, on_warning=warnings.append)
    assert (data.used, data.skipped) == (2, 1)
    assert "c_big.png" in warnings[0]


def test_data_folder_is_not_written(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (1, 2, 3))
    solid(tmp_path / "b.jpg", (1, 2, 3))
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    load(tmp_path)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d.mkdir(), "no image files found in {d} (looked for .png, .jpg"),
        (lambda d: (d.mkdir(), (d / "a.png").write_bytes(b"x")), "0 of 1 image files in {d}"),
        (lambda d: None, "data path not found: {d}"),
    ],
)
def test_folder_errors(tmp_path: Path, setup: Callable[[Path], object], message: str) -> None:
    folder = tmp_path / "data"
    setup(folder)
    with pytest.raises(DataError) as caught:
        load(folder)
    assert message.format(d=folder) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_single_image_and_other_files_are_refused(tmp_path: Path) -> None:
    image = solid(tmp_path / "x.png", (0, 0, 0))
    with pytest.raises(DataError, match="single image; pass the folder"):
        load(image)
    other = tmp_path / "x.csv"
    other.write_text("1,2,3")
    with pytest.raises(DataError, match=r"unsupported data path .*x\.csv"):
        load(other)


def test_only_one_readable_image_is_not_enough(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (0, 0, 0))
    with pytest.raises(DataError, match="1 of 1 image files"):
        load(tmp_path)


def test_unreadable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locked"
    solid(folder / "a.png", 0, "L")
    listdir = os.listdir

    def locked(path: Any = ".") -> list[str]:  # chmod 000 would not stop root
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return listdir(path)

    monkeypatch.setattr(os, "listdir", locked)
    with pytest.raises(DataError, match=f"cannot read data folder {folder}: Permission denied"):
        load(folder)


def test_folder_needs_a_one_or_three_channel_image_generator(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (0, 0, 0))
    with pytest.raises(DataError, match="1 or 3 channels, not 4"):
        load(tmp_path, shape=(4, 32, 32))
    with pytest.raises(DataError, match=r"makes 784-vectors: save \(N, 784\) \.npy"):
        load(tmp_path, shape=(784,))


# --- arrays -------------------------------------------------------------------------------


def save(tmp_path: Path, array: np.ndarray, name: str = "data.npy") -> Path:
    path = tmp_path / name
    np.save(path, array)
    return path


@pytest.mark.parametrize(("white", "dtype"), [(255, np.uint8), (1.0, np.float32)])
def test_npy_layouts(tmp_path: Path, white: float, dtype: type) -> None:
    gray = np.zeros((4, 8, 8), dtype)
    gray[1] = white
    expected = torch.tensor([-1.0, 1.0, -1.0, -1.0])
    # (N, H, W), (N, H, W, C) and (N, C, H, W): the same images, the same result.
    for array in (gray, gray[..., None].repeat(3, axis=3), gray[:, None].repeat(3, axis=1)):
        data = load(save(tmp_path, array), shape=(3, 32, 32))
        assert data.kind == "npy" and data.samples.shape == (4, 3, 32, 32)
        assert torch.equal(data.samples[:, 0, 0, 0], expected)
        assert torch.equal(data.samples.amin(dim=(1, 2, 3)), data.samples.amax(dim=(1, 2, 3)))


def test_npy_float_ranges(tmp_path: Path) -> None:
    base = np.linspace(0, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    # 0..1, -1..1 and 0..255 are recognised; each one's ends map onto the ends of 0..1.
    for array in (base, base * 2 - 1, base * 255, (base * 255).astype(np.int64)):
        data = load(save(tmp_path, array), shape=(1, 8, 8), value_range=SIGMOID)
        assert data.samples[-1, 0, -1, -1].item() == pytest.approx(1.0)
        assert data.samples[0, 0, 0, 0].item() == pytest.approx(0.0)
    half = load(save(tmp_path, base * 2 - 1), shape=(1, 8, 8), value_range=(0.0, 255.0))
    assert half.samples.flatten().tolist() == pytest.approx(((base * 2 - 1) + 1).ravel() * 127.5)
    mid = np.array([0.0, 127.5, 255.0], np.float32).repeat(16).reshape(3, 4, 4)
    data = load(save(tmp_path, mid), shape=(1, 4, 4), value_range=SIGMOID)
    assert data.samples[:, 0, 0, 0].tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(DataError, match="rescale"):
        load(save(tmp_path, base * 1000), shape=(1, 8, 8))
    with pytest.raises(DataError, match=r"outside 0\.\.255"):
        load(save(tmp_path, np.full((2, 8, 8), 300, np.int16)), shape=(1, 8, 8))


def test_npy_rgb_to_gray_uses_luma_and_rgba_drops_alpha(tmp_path: Path) -> None:
    array = np.zeros((2, 4, 4, 4), np.uint8)
    array[0, ..., 0] = 255  # red, alpha 0: alpha is dropped, not composited
    array[1, ..., 1] = 255
    data = load(save(tmp_path, array), shape=(1, 4, 4), value_range=(0.0, 255.0))
    assert data.samples[:, 0, 0, 0].tolist() == pytest.approx([0.299 * 255, 0.587 * 255], rel=1e-5)


def test_npy_resize_and_centre_crop(tmp_path: Path) -> None:
    array = np.zeros((2, 20, 40), np.float32)
    array[:, :, 10:30] = 1.0  # the centre square
    data = load(save(tmp_path, array), shape=(1, 32, 32), value_range=TANH)
    assert torch.equal(data.samples, torch.ones(2, 1, 32, 32))


def test_npy_nan_bool_object_and_shape_errors(tmp_path: Path) -> None:
    bad = np.zeros((3, 8, 8), np.float32)
    bad[2, 1, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        load(save(tmp_path, bad), shape=(1, 8, 8))
    with pytest.raises(DataError, match="bool"):
        load(save(tmp_path, np.zeros((3, 8, 8), bool)), shape=(1, 8, 8))
    with pytest.raises(DataError, match=r"\(N, H, W\)"):
        load(save(tmp_path, np.zeros((3, 8, 8, 5), np.uint8)), shape=(1, 8, 8))
    with pytest.raises(DataError, match="at least 2"):
        load(save(tmp_path, np.zeros((1, 8, 8), np.uint8)), shape=(1, 8, 8))


def _touch(path: str) -> None:
    Path(path).touch()


class _Payload:
    """Unpickling this object creates a file: proof of whether pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_touch, (str(self.marker),))


def test_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = np.array([_Payload(marker), _Payload(marker)], dtype=object)
    npy = save(tmp_path, payload, "objects.npy")
    np.savez(tmp_path / "objects.npz", images=payload)
    for path in (npy, tmp_path / "objects.npz"):
        with pytest.raises(DataError, match=r"(?i)object|pickle") as caught:
            load(path, shape=(2,))
        assert str(path) in str(caught.value)
    assert not marker.exists()
    np.load(npy, allow_pickle=True)  # the payload is real: loading with pickle runs it
    assert marker.exists()


def test_npz_key_selection(tmp_path: Path) -> None:
    ones, zeros = np.ones((2, 4, 4), np.float32), np.zeros((2, 4, 4), np.float32)
    np.savez(tmp_path / "single.npz", whatever=ones)
    np.savez(tmp_path / "keyed.npz", labels=zeros, x=ones, data=zeros)
    np.savez(tmp_path / "ambiguous.npz", a=ones, b=zeros)
    for name in ("single.npz", "keyed.npz"):
        data = load(tmp_path / name, shape=(1, 4, 4))
        assert data.kind == "npz" and torch.equal(data.samples, torch.ones(2, 1, 4, 4))
    with pytest.raises(DataError, match="holds arrays a, b; expected one array or one named"):
        load(tmp_path / "ambiguous.npz", shape=(1, 4, 4))


def test_vector_npy_is_taken_as_is_and_capped(tmp_path: Path) -> None:
    array = np.arange(50 * 3, dtype=np.float64).reshape(50, 3) - 70  # -70 .. 79: not rescaled
    path = save(tmp_path, array)
    data = load(path, shape=(3,), options=DataOptions(max_images=10, seed=3))
    assert (data.found, data.used, data.samples.shape) == (50, 10, (10, 3))
    rows = (data.samples[:, 0].numpy() + 70) / 3
    assert np.array_equal(rows, np.sort(rows)) and len(set(rows.tolist())) == 10
    assert torch.equal(data.samples, torch.from_numpy(array[rows.astype(int)].astype(np.float32)))
    again = load(path, shape=(3,), options=DataOptions(max_images=10, seed=3))
    assert torch.equal(again.samples, data.samples)
    with pytest.raises(DataError, match=r"expected \(N, 4\)"):
        load(path, shape=(4,))


def test_real_data_from_tensor() -> None:
    data = real_data_from_tensor(np.zeros((4, 3), np.float64), sample_shape=(3,), value_range=TANH)
    assert data.samples.dtype == torch.float32 and data.kind == "tensor" and data.used == 4
    with pytest.raises(DataError, match="do not fit"):
        real_data_from_tensor(torch.zeros(4, 3, 8, 8), sample_shape=(3, 16, 16), value_range=TANH)
    with pytest.raises(DataError, match="NaN"):
        real_data_from_tensor(torch.full((4, 2), float("nan")), sample_shape=(2,), value_range=TANH)
    with pytest.raises(ConfigError):
        real_data_from_tensor(torch.zeros(4, 2), sample_shape=(2,), value_range=(1.0, 1.0))


def test_conversion_names_what_was_stored_and_what_it_became(tmp_path: Path) -> None:
    solid(tmp_path / "a.png", (10, 20, 30))
    solid(tmp_path / "b.png", (10, 20, 30))
    solid(tmp_path / "c.png", 128, mode="L", size=(40, 20))
    conversion = load(tmp_path, shape=(1, 16, 16), value_range=(0.0, 1.0)).conversion
    assert conversion.startswith("RGB 8x8 (2), L 40x20 (1) -> L 16x16")
    assert conversion.endswith("values 0..255 -> [0, 1]")
    np.save(tmp_path / "x.npy", np.zeros((4, 8, 8, 3), dtype=np.uint8))
    array = load(tmp_path / "x.npy", shape=(1, 16, 16)).conversion
    assert array.startswith("uint8 (8, 8, 3) as hwc -> (1, 16, 16)")
    assert array.endswith("values [0, 255] -> [-1, 1]")

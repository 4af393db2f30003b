"""Write scikit-learn's digits dataset as a folder of 32x32 grayscale PNGs.

The digits dataset (1797 images, 8x8 pixels, values 0..16) ships inside scikit-learn, so
this needs no download. The output layout is ``<out>/<label>/<index:04d>.png``: one folder
per class, which is what most image-folder loaders (and ``gandoctor probe --data``) expect.

Usage::

    python examples/make_digits.py            # writes examples/digits/
    python examples/make_digits.py --out /tmp/digits

The result is deterministic: no randomness is involved, and Pillow's bicubic resize is a
fixed function of its input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

# 32x32 is the smallest size a standard DCGAN stack (4 -> 8 -> 16 -> 32) produces, and it
# keeps the PNGs tiny.
SIZE = 32
# The dataset's pixel values are counts of set pixels in 4x4 blocks of the original
# 32x32 bitmaps, so they run from 0 to 16.
MAX_VALUE = 16.0


def digit_to_image(pixels: np.ndarray, size: int = SIZE) -> Image.Image:
    """Turn one 8x8 array of values in 0..16 into a ``size``x``size`` grayscale image."""
    scaled = np.clip(pixels * (255.0 / MAX_VALUE), 0.0, 255.0)
    # Round instead of truncate so 16 maps exactly to 255 and the scale is symmetric.
    small = Image.fromarray(np.rint(scaled).astype(np.uint8), mode="L")
    # Bicubic smooths the 8x8 blocks into strokes; Pillow clamps overshoot to 0..255.
    return small.resize((size, size), Image.Resampling.BICUBIC)


def write_digits(out: Path, size: int = SIZE) -> int:
    """Write every digit as a PNG under ``out/<label>/``; return how many were written."""
    digits = load_digits()
    images: np.ndarray = digits.images
    labels: np.ndarray = digits.target
    for label in np.unique(labels):
        (out / str(int(label))).mkdir(parents=True, exist_ok=True)
    for index, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        # The index is global (not per class), so a file name identifies the sample in
        # load_digits() order regardless of its folder.
        path = out / str(int(label)) / f"{index:04d}.png"
        # optimize=True makes the files smaller; the pixels are unchanged.
        digit_to_image(pixels, size).save(path, optimize=True)
    return len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "digits",
        help="output folder (default: examples/digits next to this script)",
    )
    args = parser.parse_args()
    count = write_digits(args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*.png"))
    print(f"wrote {count} images to {args.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

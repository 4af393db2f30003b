"""``--html`` and ``--samples``: a self-contained page with the samples beside the figures,
and the sample grids as PNG files, for one checkpoint and for several."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import html5lib
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.report.html import MIN_SHOWN_PIXELS, render_html
from gandoctor.report.pictures import GAP, checkpoint_grids, grid, png_bytes
from gandoctor.report.plots import panels_svg
from gandoctor.results.sample_images import GRID_SAMPLES, to_pixels

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EPOCHS = [EXAMPLES / f"dcgan_digits_epoch{n}.safetensors" for n in (0, 25)]
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_pixels_map_the_value_range_onto_0_to_255() -> None:
    values = np.array([[[[-1.0, 0.0, 1.0, 3.0, float("nan")]]]])  # (1, 1, 1, 5)
    pixels = to_pixels(values, (-1.0, 1.0))
    assert pixels.shape == (1, 1, 5, 1) and pixels.dtype == np.uint8
    # the ends land on the ends; out-of-range values clip; NaN shows as black
    assert pixels[0, 0, :, 0].tolist() == [0, 128, 255, 255, 0]


def test_grid_places_images_in_rows_of_eight_with_white_gaps() -> None:
    images = np.zeros((10, 4, 3, 1), dtype=np.uint8)
    for index in range(10):
        images[index] = index * 10
    out = grid(images)
    assert out.shape == (2 * 4 + GAP, 8 * 3 + 7 * GAP, 1)
    assert out[0, 0, 0] == 0 and out[0, 3 + GAP, 0] == 10  # second image of the first row
    assert out[4 + GAP, 3 + GAP, 0] == 90  # the tenth, second of the second row
    assert out[4, 0, 0] == 255  # the gap between the rows
    assert (out[4 + GAP :, 2 * (3 + GAP) :] == 255).all()  # the unused places stay white
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(out))))
    assert np.array_equal(decoded, out[:, :, 0])  # PNG is lossless


@pytest.fixture(scope="module")
def reports() -> dict[str, gandoctor.Report]:
    config = ProbeConfig(steps=20)
    data = EXAMPLES / "digits"
    one = gandoctor.probe(EPOCHS[1], data, config=config, fail_on="none")
    two = gandoctor.probe(EPOCHS, data, config=config, fail_on="none")
    return {"one": one, "two": two}


def _images(page: str) -> list[tuple[str, np.ndarray, int, int]]:
    """(alt, decoded pixels, shown width, shown height) of every <img>, parsed strictly."""
    document = html5lib.HTMLParser(strict=True).parse(page)  # raises on any parse error
    found = []
    for img in document.iter(f"{XHTML}img"):
        prefix = "data:image/png;base64,"
        src = img.get("src")
        assert src.startswith(prefix), src[:40]
        pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :]))))
        found.append((img.get("alt"), pixels, int(img.get("width")), int(img.get("height"))))
    return found


def test_one_checkpoint_shows_its_samples_beside_held_out_real_ones(reports) -> None:
    report = reports["one"]
    (c,) = report.checkpoints
    page = render_html(report, panels_svg(report))
    images = _images(page)
    assert [alt for alt, *_ in images] == ["generated samples", "held-out real samples"]
    samples = c.outcome.samples
    assert samples is not None and samples.count == GRID_SAMPLES
    assert samples.generated.shape == (GRID_SAMPLES, 32, 32, 1)  # the data's resolution
    for (_, pixels, width, height), kind in zip(images, ("generated", "real"), strict=True):
        expected = checkpoint_grids(c)[kind][:, :, 0]
        assert np.array_equal(pixels, expected)  # the very pixels, not a resampled copy
        scale = width // pixels.shape[1]
        assert width == pixels.shape[1] * scale >= MIN_SHOWN_PIXELS
        assert height == pixels.shape[0] * scale
    # the real grid holds the probe's held-out real samples, scaled like the fakes
    assert samples.value_range == (-1.0, 1.0)
    for finding in c.outcome.findings:
        assert finding.code in page and finding.message.split("(")[0].strip() in page
        if finding.margin is not None:
            assert f"margin: {finding.margin.figure} = {finding.margin.value:.4g}" in page
    assert page.count("<svg") == 1 and page.count('id="axes_') == 3  # Figures 1-3 inline


def test_several_checkpoints_get_a_row_of_samples_each(reports) -> None:
    report = reports["two"]
    images = _images(render_html(report, None))
    assert [alt for alt, *_ in images] == [
        "held-out real samples",
        "samples of epoch0",
        "samples of epoch25",
    ]
    first, last = (checkpoint_grids(c)["generated"] for c in report.checkpoints)
    assert not np.array_equal(first, last)  # each row shows its own checkpoint
    assert np.array_equal(images[1][1], first[:, :, 0])


def test_the_page_loads_nothing_from_outside() -> None:
    page = render_html(_single_report(), None)
    assert "matplotlib" in page  # without matplotlib, the page says what the panels need
    for attribute in re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", page):
        assert attribute.startswith("data:"), attribute
    assert "<script" not in page and "<link" not in page and "@import" not in page


def _single_report() -> gandoctor.Report:
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 3 * 8 * 8), nn.Tanh(), nn.Unflatten(1, (3, 8, 8)))
    real = torch.rand(64, 3, 8, 8) * 2 - 1
    return gandoctor.probe(
        generator, real, latent_shape=(4,), output_range=(-1, 1),
        config=ProbeConfig(steps=2, batch_size=16, grad_batches=1, heldout_min=16),
        fail_on="none",
    )  # fmt: skip


def test_text_from_files_is_escaped(tmp_path: Path) -> None:
    report = _single_report()
    named = type(report)(
        [type(report.checkpoints[0])(**{**vars(report.checkpoints[0]), "checkpoint": "<b>x"})],
        report.settings, report.fail_on, report.version,
    )  # fmt: skip
    page = render_html(named, None)
    assert "<b>x" not in page and "&lt;b&gt;x" in page
    html5lib.HTMLParser(strict=True).parse(page)


def test_vector_samples_have_no_grid() -> None:
    generator = nn.Sequential(nn.Linear(4, 6))
    report = gandoctor.probe(
        generator, torch.randn(64, 6), latent_shape=(4,),
        config=ProbeConfig(steps=2, batch_size=16, grad_batches=1, heldout_min=16),
        fail_on="none",
    )  # fmt: skip
    assert report.checkpoints[0].outcome.samples is None
    page = render_html(report, None)
    assert "not images" in page and "<img" not in page


def test_cli_writes_the_page_and_the_grids(tmp_path: Path) -> None:
    out, page = tmp_path / "grids", tmp_path / "report.html"
    args = ["probe", *map(str, EPOCHS), "--data", str(EXAMPLES / "digits"), "--steps", "10"]
    result = CliRunner().invoke(
        app, [*args, "--fail-on", "none", "-q", "--html", str(page), "--samples", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "1_dcgan_digits_epoch0_generated.png",
        "1_dcgan_digits_epoch0_real.png",
        "2_dcgan_digits_epoch25_generated.png",
        "2_dcgan_digits_epoch25_real.png",
    ]
    generated = np.asarray(Image.open(out / names[0]))
    assert generated.shape == (8 * 32 + 7 * GAP, 8 * 32 + 7 * GAP)
    shown = [pixels for alt, pixels, *_ in _images(page.read_text(encoding="utf-8"))]
    assert np.array_equal(shown[1], generated)  # the file and the page show the same grid


@pytest.mark.parametrize(
    ("option", "where", "message"),
    [
        ("--samples", "data", "would write into the real data"),
        ("--html", "data/report.html", "would write into the real data"),
        ("--samples", "a_file", "is a file, not a folder"),
        ("--samples", "missing/grids", "parent folder does not exist"),
    ],
)
def test_bad_output_places_fail_before_the_probe(
    tmp_path: Path, option: str, where: str, message: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / "digits", data)
    (tmp_path / "a_file").write_text("x")
    before = sorted(p.name for p in data.iterdir())
    result = CliRunner().invoke(
        app, ["probe", str(EPOCHS[0]), "--data", str(data), option, str(tmp_path / where)]
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert sorted(p.name for p in data.iterdir()) == before


def _browser() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.mark.skipif(
    _browser() is None,
    reason="no headless browser here (Debian: apt-get install chromium chromium-driver); "
    "the page is still checked by html5lib's strict parser in the tests above",
)
def test_the_page_renders_in_a_headless_browser(reports, tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test extra")
    chromium, driver_path = _browser()  # type: ignore[misc]
    report = reports["two"]
    page = tmp_path / "report.html"
    page.write_text(render_html(report, panels_svg(report)), encoding="utf-8")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.get(page.as_uri())
        loaded = browser.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
        )
        assert len(loaded) == 3
        assert all(done and width > 0 for done, width, _ in loaded), loaded
        svg_width = browser.execute_script(
            "return document.querySelector('svg').getBoundingClientRect().width"
        )
        assert svg_width > 300  # the panels take room on the page
        assert browser.title == f"gandoctor: {report.verdict}"
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert errors == []
    finally:
        browser.quit()

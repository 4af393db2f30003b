"""Hostile and broken inputs through the real command line (issue 8).

Every bad input ends with exit code 2 and exactly one line on stderr that names the file and
the problem, no traceback, nothing on stdout, and no file written or changed anywhere in the
test's folder or in the shared inputs. Inputs that are odd but valid (float64 or bfloat16
weights, palette/CMYK/16-bit images, file names that are not UTF-8) load and are probed.
Every case builds its inputs in its own ``tmp_path``; probes run 2 steps at batch 8.

A few cases need a real process (``python -m gandoctor``): Python warnings and stream
encodings behave there as in a terminal, and CliRunner cannot send a signal.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import _digits, untrained_dcgan, write_pngs
from PIL import Image
from safetensors.torch import save_file
from typer.testing import CliRunner, Result

import gandoctor.runtime.resources
from gandoctor.cli import app

runner = CliRunner()
N_IMAGES = 64
FAST = ("--steps", "2", "--batch-size", "8")

ARCH_FILE = textwrap.dedent(
    """
    import sys

    import torch
    from torch import nn


    class Base(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 256)

        def image(self, z):
            return torch.tanh(self.fc(z)).view(-1, 1, 16, 16)

        def forward(self, z):
            return self.image(z)


    class FiveD(Base):
        def forward(self, z):
            return self.image(z).unsqueeze(1)


    class Pair(Base):
        def forward(self, z):
            return self.image(z), z


    class BigBatchFails(Base):
        def forward(self, z):
            if z.shape[0] > 4:
                raise ValueError("no batches above 4")
            return self.image(z)


    class Exits(Base):
        def forward(self, z):
            sys.exit(3)


    class NaNs(Base):
        def forward(self, z):
            return self.image(z) * float("nan")


    class Chatty(Base):
        def forward(self, z):
            print("chatty forward")
            return self.image(z)
    """
)
CHATTY_FILE = ARCH_FILE + '\nprint("chatty import")\n'


class Payload:
    """A pickle that creates ``marker`` when unpickled: the side effect shows code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


class RaisesInForward(torch.nn.Module):
    """Scripted to TorchScript: its forward raises whatever the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(16, 256)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[0] > 0:
            raise RuntimeError("scripted failure")
        return self.fc(z)


def scripted(path: Path) -> Path:
    with warnings.catch_warnings():  # torch deprecates TorchScript for new models
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(RaisesInForward()).save(str(path))
    return path


@dataclass(frozen=True)
class Inputs:
    """Valid inputs shared by the cases, read-only."""

    root: Path
    ckpt: Path
    """An untrained 16x16 grayscale DCGAN, DCGANGenerator(16, [32, 16], 1)."""
    imgs: Path
    """64 digit PNGs."""
    arch: Path
    """ARCH_FILE: generators of the same weights that misbehave in forward."""
    mlp: Path
    """The weights of ARCH_FILE's Base."""

    @property
    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    root = tmp_path_factory.mktemp("inputs")
    ckpt = root / "g.safetensors"
    save_file({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}, str(ckpt))
    write_pngs(root / "imgs", _digits(16)[:N_IMAGES])
    arch = root / "models.py"
    arch.write_text(ARCH_FILE)
    torch.manual_seed(0)
    mlp = root / "mlp.safetensors"
    layer = torch.nn.Linear(16, 256)
    save_file({"fc.weight": layer.weight.detach(), "fc.bias": layer.bias.detach()}, str(mlp))
    return Inputs(root, ckpt, root / "imgs", arch, mlp)


# --- helpers --------------------------------------------------------------------------------


def invoke(*args: object) -> Result:
    """Run the command. A Python warning fails the test: pytest would capture it, but a
    terminal shows it as several lines of stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, [os.fspath(a) if isinstance(a, Path) else str(a) for a in args])
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    return result


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line_error(result: Result, needles: tuple[str, ...]) -> str:
    """Exit 2, nothing on stdout, one line on stderr holding every needle, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gandoctor: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: kind, size, mtime and content digest (links: target)."""
    found: dict[str, object] = {}
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            key = os.path.relpath(path, folder)
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                found[key] = ("file", info.st_size, info.st_mtime_ns, digest)
            else:
                found[key] = ("other", stat.S_IFMT(info.st_mode))
    return found


def safetensors_parts(path: Path) -> tuple[dict[str, object], bytes]:
    """The JSON header and the data bytes of a safetensors file."""
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + size]), raw[8 + size :]


def write_safetensors(path: Path, header: dict[str, object], data: bytes) -> Path:
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return path


def non_utf8(folder: Path, stem: bytes, suffix: str) -> Path:
    """A path in ``folder`` whose file name is not valid UTF-8."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + stem + b"\xff" + suffix.encode()))


# --- the matrix of bad inputs: exit 2, one line --------------------------------------------

Case = Callable[[Path, Inputs, pytest.MonkeyPatch], tuple[list[object], tuple[str, ...]]]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__.removeprefix("case_")] = function
    return function


def probe_args(checkpoint: object, data: object, *extra: object) -> list[object]:
    return ["probe", checkpoint, "--data", data, *FAST, *extra]


@case
def case_missing_checkpoint(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "missing.safetensors"
    return probe_args(path, inputs.imgs), (str(path), "not found")


@case
def case_folder_instead_of_checkpoint(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    folder = tmp / "empty_folder"
    folder.mkdir()
    return probe_args(folder, inputs.imgs), (str(folder), "holds no checkpoint")


@case
def case_inspect_folder_without_weights(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    folder = tmp / "hf"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return ["inspect", folder], (str(folder),)


@case
def case_empty_checkpoint(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    path.write_bytes(b"")
    return probe_args(path, inputs.imgs), (str(path), "empty")


@case
def case_truncated_safetensors(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    raw = inputs.ckpt.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return probe_args(path, inputs.imgs), (str(path), "not a valid safetensors file")


@case
def case_header_offsets_past_the_end(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    header, data = safetensors_parts(inputs.ckpt)
    entry = header["main.0.weight"]
    assert isinstance(entry, dict)
    entry["data_offsets"] = [entry["data_offsets"][0], 10**12]
    path = write_safetensors(tmp / "g.safetensors", header, data)
    return probe_args(path, inputs.imgs), (str(path), "offset")


@case
def case_header_offsets_overlap(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    header, data = safetensors_parts(inputs.ckpt)
    entry = header["main.0.weight"]
    assert isinstance(entry, dict)
    start, end = entry["data_offsets"]
    entry["data_offsets"] = [0, end - start]  # claims bytes another tensor owns
    path = write_safetensors(tmp / "g.safetensors", header, data)
    return probe_args(path, inputs.imgs), (str(path), "offset")


@case
def case_header_shape_lies_about_size(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    header, data = safetensors_parts(inputs.ckpt)
    entry = header["main.0.weight"]
    assert isinstance(entry, dict)
    entry["shape"] = [16, 32, 4, 5]  # 25 % more elements than its bytes hold
    path = write_safetensors(tmp / "g.safetensors", header, data)
    return probe_args(path, inputs.imgs), (str(path), "not a valid safetensors file")


@case
def case_huge_header_length(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + inputs.ckpt.read_bytes()[8:])
    return probe_args(path, inputs.imgs), (str(path), "header too large")


@case
def case_header_not_utf8(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    path.write_bytes(struct.pack("<Q", 20) + b"{" + b"\xff" * 19 + bytes(64))
    return probe_args(path, inputs.imgs), (str(path), "UTF-8")


@case
def case_metadata_nested_too_deeply(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    deep = "[" * 100_000 + "]" * 100_000  # valid JSON that recursion cannot parse
    save_file(inputs.state, str(path), metadata={"gandoctor.arch_kwargs": deep})
    return probe_args(path, inputs.imgs), (str(path), "nested too deeply")


@case
def case_integer_weights(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    state = {k: v.to(torch.int32) if v.is_floating_point() else v for k, v in inputs.state.items()}
    save_file(state, str(path))
    return probe_args(path, inputs.imgs), (str(path), "dtype torch.int32")


@case
def case_wrong_shape_for_the_architecture(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    save_file({**inputs.state, "main.0.weight": torch.zeros(16, 32, 3, 3)}, str(path))
    return probe_args(path, inputs.imgs), (str(path), "shape mismatch", "(16, 32, 3, 3)")


@case
def case_zip_that_is_not_a_checkpoint(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photos/cat.txt", "not a tensor")
    return probe_args(path, inputs.imgs), (str(path), "not a torch checkpoint")


@case
def case_pickled_payload_in_torch_save(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.pt"
    torch.save({"state": Payload(tmp / "ran")}, path)
    return probe_args(path, inputs.imgs), (str(path), "pickled Python objects (it needs getattr)")


@case
def case_plain_pickle_payload(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    # Protocol 4, which torch.load warns about on several lines before refusing.
    path = tmp / "g.pth"
    path.write_bytes(pickle.dumps(Payload(tmp / "ran"), protocol=4))
    return probe_args(path, inputs.imgs), (str(path), "pickled Python objects")


@case
def case_torchscript_without_trust(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = scripted(tmp / "g.pt")
    return probe_args(path, inputs.imgs), (str(path), "--trust-pickle")


@case
def case_torchscript_raising_in_forward(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = scripted(tmp / "g.pt")
    args = probe_args(path, inputs.imgs, "--trust-pickle")
    return args, (str(path), "forward failed", "TorchScript RuntimeError: scripted failure")


@case
def case_forward_returns_five_dims(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    args = probe_args(inputs.mlp, inputs.imgs, "--arch", f"{inputs.arch}:FiveD")
    return args, (str(inputs.mlp), "returned shape (4, 1, 1, 16, 16)")


@case
def case_forward_returns_a_tuple(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    args = probe_args(inputs.mlp, inputs.imgs, "--arch", f"{inputs.arch}:Pair")
    return args, (str(inputs.mlp), "returned a tuple")


@case
def case_forward_fails_at_the_probes_batch(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    # Passes the loader's batch of 4, fails on the probe's batch of 8.
    args = probe_args(inputs.mlp, inputs.imgs, "--arch", f"{inputs.arch}:BigBatchFails")
    return args, (str(inputs.mlp), "failed on a batch of 8 latents: ValueError: no batches above 4")


@case
def case_forward_calls_sys_exit(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    args = probe_args(inputs.mlp, inputs.imgs, "--arch", f"{inputs.arch}:Exits")
    return args, (str(inputs.mlp), "SystemExit: 3")


@case
def case_checkpoint_link_loop(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    path.symlink_to(path)
    return probe_args(path, inputs.imgs), (str(path), "loop of symbolic links")


@case
def case_checkpoint_is_a_fifo(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "g.safetensors"
    os.mkfifo(path)  # a read would block forever
    return probe_args(path, inputs.imgs), (str(path), "not a regular file")


@case
def case_checkpoint_larger_than_memory(tmp: Path, inputs: Inputs, mp: pytest.MonkeyPatch):
    mp.setattr(gandoctor.runtime.resources, "available_memory", lambda: 100_000)
    # The weights as float32 (16,736 parameters and the BatchNorm buffers), twice: as read
    # and in the module: 135 kB.
    needed = 2 * sum(v.numel() * (4 if v.is_floating_point() else 8) for v in inputs.state.values())
    needles = (str(inputs.ckpt), f"needs about {needed / 1000:.0f} kB", "only 100 kB")
    return probe_args(inputs.ckpt, inputs.imgs), needles


@case
def case_torch_file_larger_than_memory(tmp: Path, inputs: Inputs, mp: pytest.MonkeyPatch):
    path = tmp / "g.pt"
    torch.save(inputs.state, path)
    mp.setattr(gandoctor.runtime.resources, "available_memory", lambda: 100_000)
    return probe_args(path, inputs.imgs), (str(path), "memory")


@case
def case_non_utf8_name_of_a_broken_file(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = non_utf8(tmp, b"g", ".safetensors")
    path.write_bytes(b"junk that is not a checkpoint")
    return probe_args(path, inputs.imgs), ("\\udcff", "not a valid safetensors file")


@case
def case_json_would_overwrite_the_checkpoint(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    args = probe_args(inputs.ckpt, inputs.imgs, "--json", inputs.ckpt)
    return args, ("--json", str(inputs.ckpt), "would overwrite the checkpoint")


@case
def case_plot_would_write_into_the_data(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    args = probe_args(inputs.ckpt, inputs.imgs, "--plot", inputs.imgs / "figures.png")
    return args, ("--plot", "would write into the real data")


@case
def case_json_in_a_missing_folder(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "no" / "such" / "folder" / "report.json"
    args = probe_args(inputs.ckpt, inputs.imgs, "--json", path)
    return args, (str(path), "does not exist")


@case
def case_folder_with_no_images(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    folder = tmp / "imgs"
    folder.mkdir()
    (folder / "notes.txt").write_text("no images here")
    return probe_args(inputs.ckpt, folder), (str(folder), "no image files")


@case
def case_folder_of_corrupt_images(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    folder = tmp / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        (folder / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(200))
    (folder / "5.jpg").write_bytes(b"\xff\xd8\xff" + rng.bytes(200))
    return probe_args(inputs.ckpt, folder), (str(folder), "0 of 6 image files", "could be read")


@case
def case_data_link_loop(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "imgs"
    path.symlink_to(path)
    return probe_args(inputs.ckpt, path), (str(path), "symbolic links")


@case
def case_data_is_a_fifo(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "data.npy"
    os.mkfifo(path)
    return probe_args(inputs.ckpt, path), (str(path), "unsupported data path")


@case
def case_npy_of_objects_is_not_unpickled(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "data.npy"
    np.save(path, np.array([Payload(tmp / "ran"), None], dtype=object), allow_pickle=True)
    return probe_args(inputs.ckpt, path), (str(path), "Python objects")


@case
def case_npz_of_objects_is_not_unpickled(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "data.npz"
    np.savez(path, images=np.array([Payload(tmp / "ran"), None], dtype=object))
    return probe_args(inputs.ckpt, path), (str(path), "allow_pickle=False")


@case
def case_truncated_npy(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = tmp / "data.npy"
    np.save(path, np.zeros((100, 16, 16), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:300])
    return probe_args(inputs.ckpt, path), (str(path),)


@case
def case_data_larger_than_memory(tmp: Path, inputs: Inputs, mp: pytest.MonkeyPatch):
    path = tmp / "data.npy"
    np.save(path, np.zeros((2000, 16, 16), dtype=np.uint8))  # 2 MB as float32
    # the checkpoint fits
    mp.setattr(gandoctor.runtime.resources, "available_memory", lambda: 1_000_000)
    return probe_args(inputs.ckpt, path), (str(path), "memory", "--max-images")


@case
def case_seed_beyond_64_bits(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    return probe_args(inputs.ckpt, inputs.imgs, "--seed", 2**64), ("seed", str(2**64))


@case
def case_meta_device(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    return probe_args(inputs.ckpt, inputs.imgs, "--device", "meta"), ("meta",)


for _arch, _needle in {
    "": "--arch must look like",
    "dcgan": "--arch must look like",
    ":": "--arch must look like",
    "models.py:": "--arch must look like",
    "no_such_file.py:G": "not found",
    "no_such_module_xyz:G": "cannot import module",
    "os:path": "not a class or function that returns a torch.nn.Module",
    "{arch}:Missing": "has no attribute 'Missing'",
    "{arch}:Base": "missing keys",  # builds, but the DCGAN weights do not fit it
}.items():

    def _bad_arch(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch, arch=_arch, needle=_needle):
        value = arch.format(arch=inputs.arch)
        return probe_args(inputs.ckpt, inputs.imgs, "--arch", value), (needle,)

    CASES[f"bad_arch[{_arch}]"] = _bad_arch

for _kwargs, _needle in {
    "{bad": "not valid JSON",
    "[1]": "must be a JSON object",
    '{"a":' * 50_000 + "1" + "}" * 50_000: "nested too deeply",
    '{"unknown": 1}': "unexpected keyword argument 'unknown'",
}.items():

    def _bad_kwargs(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch, kw=_kwargs, needle=_needle):
        arch = f"{inputs.arch}:Base"
        args = probe_args(inputs.mlp, inputs.imgs, "--arch", arch, "--arch-kwargs", kw)
        return args, (needle,)

    CASES[f"bad_arch_kwargs[{_kwargs[:12]}]"] = _bad_kwargs


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_writes_nothing(
    name: str, inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, needles = CASES[name](tmp_path, inputs, monkeypatch)
    before, shared_before = snapshot(tmp_path), snapshot(inputs.root)
    assert_one_line_error(invoke(*args), needles)
    assert snapshot(tmp_path) == before  # no report, temp file, cache or __pycache__
    assert snapshot(inputs.root) == shared_before
    assert not (tmp_path / "ran").exists()  # no pickled payload ran


def test_the_matrix_has_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
@pytest.mark.parametrize("what", ["checkpoint", "data folder"])
def test_unreadable_input_is_one_line(what: str, inputs: Inputs, tmp_path: Path) -> None:
    ckpt, imgs = tmp_path / "g.safetensors", tmp_path / "imgs"
    shutil.copy(inputs.ckpt, ckpt)
    shutil.copytree(inputs.imgs, imgs)
    locked = ckpt if what == "checkpoint" else imgs
    locked.chmod(0)
    try:
        result = invoke(*probe_args(ckpt, imgs))
    finally:
        locked.chmod(0o755)
    assert_one_line_error(result, (str(locked), "ermission denied"))


# --- payloads that would run code: the side effect is real, and does not happen -----------


def test_the_payloads_run_when_unpickled_by_trust(inputs: Inputs, tmp_path: Path) -> None:
    """The control for the cases above: the same payloads do create the marker once the
    user trusts the file, so "the marker is absent" there means "the code did not run"."""
    marker = tmp_path / "ran"
    path = tmp_path / "g.pth"
    path.write_bytes(pickle.dumps(Payload(marker), protocol=4))
    result = invoke(*probe_args(path, inputs.imgs, "--trust-pickle"))
    assert marker.exists()
    assert_one_line_error(result, (str(path),))  # it unpickles to a file handle, no module
    marker.unlink()
    np.save(tmp_path / "a.npy", np.array([Payload(marker)], dtype=object), allow_pickle=True)
    np.load(tmp_path / "a.npy", allow_pickle=True)
    assert marker.exists()


# --- odd but valid inputs load and are probed -----------------------------------------------


def probe_json(*args: object) -> tuple[dict, Result]:
    result = invoke(*args, "--json", "-")
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert len(report["checkpoints"]) == 1
    return report["checkpoints"][0], result


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_float64_bf16_and_fp16_weights_load_as_float32(
    dtype: torch.dtype, inputs: Inputs, tmp_path: Path
) -> None:
    path = tmp_path / "g.safetensors"
    stored = {k: v.to(dtype) if v.is_floating_point() else v for k, v in inputs.state.items()}
    save_file(stored, str(path))
    checkpoint, result = probe_json(*probe_args(path, inputs.imgs))
    assert result.stderr == ""
    assert checkpoint["generator"]["parameters"] == 16736
    assert checkpoint["verdict"] != "broken"
    assert checkpoint["summary"]["steps_run"] == 2


def test_generator_with_nan_output_is_broken(inputs: Inputs) -> None:
    args = probe_args(inputs.mlp, inputs.imgs, "--arch", f"{inputs.arch}:NaNs")
    checkpoint, result = probe_json(*args)
    assert result.exit_code == 1
    assert checkpoint["verdict"] == "broken"
    assert checkpoint["health"]["nonfinite_output_share"] == 1.0


def test_user_code_prints_go_to_stderr_and_leave_no_pycache(inputs: Inputs, tmp_path: Path) -> None:
    arch = tmp_path / "chatty.py"
    arch.write_text(CHATTY_FILE)
    checkpoint, result = probe_json(
        *probe_args(inputs.mlp, inputs.imgs, "--arch", f"{arch}:Chatty")
    )
    assert checkpoint["generator"]["output_shape"] == [1, 16, 16]  # stdout was the JSON alone
    assert "chatty import" in result.stderr and "chatty forward" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chatty.py"]  # no __pycache__


def write_odd_images(folder: Path) -> int:
    """Palette (with transparency), CMYK JPEG, 16-bit, RGBA, LA, 1-bit and float images of
    mixed sizes; returns how many."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    count = 0
    for i in range(4):
        rgb = Image.fromarray(rng.integers(0, 256, (20 + 7 * i, 17 + 11 * i, 3), dtype=np.uint8))
        palette = rgb.convert("P")
        palette.info["transparency"] = 0
        palette.save(folder / f"p{i}.png")
        rgb.convert("CMYK").save(folder / f"cmyk{i}.jpg")
        wide = rng.integers(0, 65536, (30 + i, 12 + i), dtype=np.uint16)
        Image.fromarray(wide).save(folder / f"i16_{i}.png")
        rgb.convert("RGBA").save(folder / f"rgba{i}.png")
        rgb.convert("LA").save(folder / f"la{i}.png")
        rgb.convert("1").save(folder / f"bw{i}.bmp")
        Image.fromarray(rng.random((9, 40), dtype=np.float32)).save(folder / f"f{i}.tif")
        count += 7
    return count


def test_mixed_sizes_and_modes_load_converted(inputs: Inputs, tmp_path: Path) -> None:
    count = write_odd_images(tmp_path / "odd")
    checkpoint, result = probe_json(*probe_args(inputs.ckpt, tmp_path / "odd"))
    assert result.stderr == ""
    assert (checkpoint["data"]["used"], checkpoint["data"]["skipped"]) == (count, 0)
    assert "-> L 16x16" in checkpoint["data"]["conversion"]


def test_decompression_bombs_are_skipped_with_one_warning(
    inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's guard stays on. Above Image.MAX_IMAGE_PIXELS Pillow only warns (on several
    lines); gandoctor skips such images like those above twice the limit, where Pillow
    refuses. Scaled down: a limit of 1000 pixels, images of 1600 and 4096 pixels."""
    folder = tmp_path / "imgs"
    shutil.copytree(inputs.imgs, folder)
    Image.new("L", (40, 40)).save(folder / "warns.png")
    Image.new("L", (64, 64)).save(folder / "refused.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    checkpoint, result = probe_json(*probe_args(inputs.ckpt, folder))
    assert (checkpoint["data"]["used"], checkpoint["data"]["skipped"]) == (N_IMAGES, 2)
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("gandoctor: warning: skipped 2 of 66")
    assert "decompression bomb" in lines[0]


def test_link_loops_in_the_data_folder_are_not_followed(inputs: Inputs, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    shutil.copytree(inputs.imgs, folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)  # a folder loop
    (folder / "self.png").symlink_to("self.png")  # a file loop
    checkpoint, result = probe_json(*probe_args(inputs.ckpt, folder))
    assert (checkpoint["data"]["found"], checkpoint["data"]["used"]) == (N_IMAGES + 1, N_IMAGES)
    assert "self.png" in stderr_lines(result)[0]


def test_non_utf8_file_names_load(inputs: Inputs, tmp_path: Path) -> None:
    folder = non_utf8(tmp_path, b"imgs", "")
    folder.mkdir()
    for i, image in enumerate(sorted(inputs.imgs.iterdir())):
        shutil.copy(image, non_utf8(folder, b"%d" % i, ".png"))
    path = non_utf8(tmp_path, b"g", ".safetensors")
    shutil.copy(inputs.ckpt, path)
    checkpoint, result = probe_json(*probe_args(path, folder))
    assert result.stderr == ""
    assert checkpoint["checkpoint"] == str(path)  # JSON escapes the lone surrogate
    assert checkpoint["data"]["used"] == N_IMAGES
    assert checkpoint["generator"]["architecture"] == "dcgan"


# --- the real entry point -------------------------------------------------------------------


def run_main(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gandoctor", *map(os.fspath, args)],
        capture_output=True, text=True, timeout=120, errors="backslashreplace",
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )  # fmt: skip


def test_entry_point_refuses_a_pickle_in_one_line(
    inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As CliRunner shows it: torch's multi-line warning about the pickle protocol would go
    to the terminal's stderr too."""
    args, needles = CASES["plain_pickle_payload"](tmp_path, inputs, monkeypatch)
    completed = run_main(*args)
    assert completed.returncode == 2 and completed.stdout == ""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and all(needle in lines[0] for needle in needles), completed.stderr
    assert not (tmp_path / "ran").exists()


def test_entry_point_prints_non_utf8_names_on_a_strict_stream(
    inputs: Inputs, tmp_path: Path
) -> None:
    """A UTF-8 stdout with strict errors (PYTHONIOENCODING=utf-8, common outside a C
    locale) cannot print a lone surrogate; the name is shown escaped instead of the run
    failing after the probe."""
    path = non_utf8(tmp_path, b"g", ".safetensors")
    shutil.copy(inputs.ckpt, path)
    completed = run_main("inspect", path, env={"PYTHONIOENCODING": "utf-8", "COLUMNS": "200"})
    assert completed.returncode == 0, completed.stderr
    assert "g\\udcff.safetensors" in completed.stdout
    assert completed.stderr == ""


def test_a_message_of_user_code_is_cut_to_three_lines_and_kept_whole_in_a_log(
    tmp_path: Path,
) -> None:
    """A generator whose forward raises with its whole input in the message (72 145
    characters in a real adapter) prints a few readable lines; the log holds the rest."""
    module_file = tmp_path / "loud.py"
    module_file.write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            class Loud(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(16, 256)

                def forward(self, z):
                    raise ValueError("cannot use " + repr(z.tolist()) * 40)
            """
        )
    )
    weights = tmp_path / "g.safetensors"
    layer = torch.nn.Linear(16, 256)
    save_file({"fc.weight": layer.weight.detach(), "fc.bias": layer.bias.detach()}, str(weights))
    result = invoke("inspect", weights, "--arch", f"{module_file}:Loud", "--latent-shape", "16")
    line = assert_one_line_error(result, ("ValueError: cannot use",))
    assert len(line) < 600
    log = Path(line.rsplit(" characters more in ", 1)[1].rstrip(")"))
    whole = log.read_text(encoding="utf-8")
    assert len(whole) > 20_000 and "ValueError: cannot use" in whole
    log.unlink()


# --- data archives (issue 24): broken and hostile ZIPs and LMDBs ---------------------------
# Made the way dataset_tool.py and prepare_data.py make them (tests/datasets_made.py), then
# broken. Each ends in exit 2 and one line, and leaves the archive as it was: no lock file,
# no extracted member.


def digit_pixels(count: int = 6) -> np.ndarray:
    return ((_digits(16)[:count, 0].numpy() + 1) * 127.5).round().astype(np.uint8)


def nvlabs_archive(tmp: Path, labels: list[int] | None = None) -> Path:
    from datasets_made import nvlabs_zip

    return nvlabs_zip(tmp / "data.zip", digit_pixels(), labels)


def replaced_member(path: Path, name: str, content: bytes, method: int = zipfile.ZIP_STORED):
    """The archive with member ``name``'s bytes replaced (written as ``method``)."""
    members = {}
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data, compress_type=method)
    return path


def records(tmp: Path, **kwargs: object) -> Path:
    """prepare_data.py's LMDB of six digits at 16 px, its writer's lock file removed."""
    from datasets_made import rosinality_lmdb

    pictures = [Image.fromarray(p) for p in digit_pixels()]
    path = rosinality_lmdb(tmp / "lmdb", pictures, (16,), **kwargs)  # type: ignore[arg-type]
    (path / "lock.mdb").unlink()
    return path


ARCHIVE_CASES: dict[str, Case] = {}


def archive_case(function: Case) -> Case:
    ARCHIVE_CASES[function.__name__.removeprefix("case_")] = function
    return function


@archive_case
def case_zip_bomb(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = replaced_member(nvlabs_archive(tmp), "00000/img00000003.png", bytes(16 * 2**20),
                           zipfile.ZIP_DEFLATED)  # fmt: skip
    return probe_args(inputs.ckpt, path), (str(path), "zip bomb", "00000/img00000003.png")


@archive_case
def case_zip_member_climbs_out(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = replaced_member(nvlabs_archive(tmp), "../../outside.png", b"\x89PNG")
    return probe_args(inputs.ckpt, path), (str(path), "../../outside.png", "climbs out")


@archive_case
def case_truncated_zip(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = nvlabs_archive(tmp)
    path.write_bytes(path.read_bytes()[:-200])  # the central directory cut off
    return probe_args(inputs.ckpt, path), (str(path), "cut short?")


@archive_case
def case_zip_with_a_corrupt_member(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = nvlabs_archive(tmp)
    raw = bytearray(path.read_bytes())
    raw[120] ^= 0xFF  # inside the first PNG's bytes: its CRC no longer matches
    path.write_bytes(bytes(raw))
    return probe_args(inputs.ckpt, path), (str(path), "damaged member", "Bad CRC-32")


@archive_case
def case_dataset_json_malformed(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = replaced_member(nvlabs_archive(tmp, [0] * 6), "dataset.json", b'{"labels": [1, 2')
    return probe_args(inputs.ckpt, path), (str(path), "dataset.json is not valid JSON")


@archive_case
def case_dataset_json_labels_do_not_match(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    labels = json.dumps({"labels": [["00000/img00000000.png", 1], ["other.png", 2]]}).encode()
    path = replaced_member(nvlabs_archive(tmp, [0] * 6), "dataset.json", labels)
    return probe_args(inputs.ckpt, path), (str(path), "no label for 5 of 6 images")


@archive_case
def case_lmdb_without_length(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = records(tmp, length=-1)
    return probe_args(inputs.ckpt, path), (str(path), "no 'length' record")


@archive_case
def case_lmdb_length_beyond_its_records(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = records(tmp, length=60)
    return probe_args(inputs.ckpt, path), (str(path), "54 of its 16 px records are missing")


@archive_case
def case_lmdb_cut_short(tmp: Path, inputs: Inputs, _: pytest.MonkeyPatch):
    path = records(tmp)
    data = path / "data.mdb"
    data.write_bytes(data.read_bytes()[: 3 * 4096])
    return probe_args(inputs.ckpt, path), (str(path), "cut short")


@archive_case
def case_lmdb_without_the_package(tmp: Path, inputs: Inputs, mp: pytest.MonkeyPatch):
    path = records(tmp)
    mp.setitem(sys.modules, "lmdb", None)  # import lmdb raises ImportError
    return probe_args(inputs.ckpt, path), (str(path), 'pip install "gandoctor[runs]"')


@pytest.mark.parametrize("name", sorted(ARCHIVE_CASES))
def test_bad_archive_is_one_line_and_writes_nothing(
    name: str, inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, needles = ARCHIVE_CASES[name](tmp_path, inputs, monkeypatch)
    before = snapshot(tmp_path)
    assert_one_line_error(invoke(*args), needles)
    assert snapshot(tmp_path) == before  # no lock file, extracted member, report or cache


def test_archives_and_class_folders_are_probed(inputs: Inputs, tmp_path: Path) -> None:
    """The three forms load through the command line and say so in the JSON."""
    from datasets_made import class_folders, nvlabs_zip, rosinality_lmdb

    pixels = digit_pixels(32)
    classes = [i % 3 for i in range(32)]
    zipped = nvlabs_zip(tmp_path / "data.zip", pixels, classes)
    lmdb = rosinality_lmdb(tmp_path / "lmdb", [Image.fromarray(p) for p in pixels], (16, 32))
    folders = class_folders(tmp_path / "classes", pixels, ["abc"[c] for c in classes])
    for data, kind, labels in (
        (zipped, "zip", "from dataset.json, 3 classes"),
        (lmdb, "lmdb", None),
        (folders, "image folder", "from class folders, 3 classes"),
    ):
        checkpoint, _ = probe_json(*probe_args(inputs.ckpt, data))
        assert (checkpoint["data"]["kind"], checkpoint["data"]["used"]) == (kind, 32)
        assert checkpoint["data"].get("labels") == labels

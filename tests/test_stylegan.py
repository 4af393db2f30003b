"""StyleGAN2-ADA training snapshots: read without running their code, rebuilt as gandoctor's
own StyleGAN2, and checked against outputs NVlabs' code computed (../shared, where present)
and against synthetic snapshots of the same format (everywhere)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from stylegan_snapshots import (
    Persistent,
    architecture_fixture,
    small_generator,
    snapshot,
    write_snapshot,
)
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError
from gandoctor.loading import load_generator
from gandoctor.loading.formats.nvlabs_pickle import read_snapshot
from gandoctor.loading.layouts.nvlabs_snapshot import load_snapshot_generator

runner = CliRunner()
Z = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))


def outputs(module: torch.nn.Module, labels: torch.Tensor | None = None) -> torch.Tensor:
    with torch.no_grad():
        return module.eval()(Z) if labels is None else module.eval()(Z, labels)


def test_a_snapshot_loads_as_its_g_ema_with_the_same_outputs(tmp_path: Path) -> None:
    g_ema, g = small_generator(0), small_generator(1)
    path = write_snapshot(tmp_path / "network-snapshot-000100.pkl", snapshot(g_ema, g))
    loaded = load_generator(path)
    info = loaded.info
    assert (info.format, info.key, info.latent_shape) == ("stylegan-snapshot", "G_ema", (8,))
    assert info.output_range == (-1.0, 1.0) and info.range_source == "architecture"
    assert info.details["augment_p"] == pytest.approx(0.25)
    assert info.details["mapping_layers"] == 2 and info.details["resolution"] == 8
    assert info.details["training_set_kwargs"]["resolution"] == 8
    assert torch.equal(outputs(loaded.module), outputs(g_ema))
    other = load_generator(path, LoadOptions(key="G"))
    assert other.info.key == "G" and torch.equal(outputs(other.module), outputs(g))
    assert not torch.equal(outputs(other.module), outputs(g_ema))


def test_truncation_pulls_w_towards_w_avg(tmp_path: Path) -> None:
    g = small_generator(0)
    path = write_snapshot(tmp_path / "s.pkl", snapshot(g))
    full = outputs(load_generator(path).module)
    none = outputs(load_generator(path, LoadOptions(truncation=0.0)).module)
    # psi = 0 maps every z to w_avg: one image for all.
    assert torch.allclose(none, none[:1].expand_as(none), atol=1e-6)
    assert not torch.allclose(full, full[:1].expand_as(full), atol=1e-3)


@pytest.mark.parametrize("architecture", ["orig", "resnet"])
def test_the_other_synthesis_architectures_load(tmp_path: Path, architecture: str) -> None:
    g = small_generator(0, architecture=architecture)
    loaded = load_generator(write_snapshot(tmp_path / "s.pkl", snapshot(g)))
    assert loaded.info.details["synthesis_architecture"] == architecture
    assert torch.equal(outputs(loaded.module), outputs(g))


def test_a_conditional_snapshot_is_probed_with_its_labels(tmp_path: Path) -> None:
    g = small_generator(0, c_dim=3)
    loaded = load_generator(write_snapshot(tmp_path / "s.pkl", snapshot(g)))
    assert loaded.info.num_classes == 3 and loaded.info.classes(None) == 3
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.equal(outputs(loaded.module, labels), outputs(g, labels))
    assert not torch.equal(outputs(loaded.module, labels), outputs(loaded.module, labels.roll(1)))


def test_the_embedded_source_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "the-source-ran"
    source = f"open({str(marker)!r}, 'w').write('ran')\nimport torch\n"
    path = write_snapshot(tmp_path / "s.pkl", snapshot(small_generator(0), source=source))
    load_generator(path)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert not marker.exists()


class _Reduces:
    def __reduce__(self) -> tuple[object, ...]:
        import os

        return (os.system, ("echo pwned",))


def test_a_foreign_global_is_refused_with_its_name(tmp_path: Path) -> None:
    stored = snapshot(small_generator(0), extra=_Reduces())
    path = write_snapshot(tmp_path / "s.pkl", stored)
    with pytest.raises(CheckpointError, match=r"names (posix|nt)\.system, which a snapshot"):
        load_generator(path)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "system" in result.stderr


def test_a_stylegan3_snapshot_is_refused_as_not_supported_yet(tmp_path: Path) -> None:
    stored = snapshot(small_generator(0))
    synthesis = stored["G_ema"].meta["state"]["_modules"]["synthesis"]
    fourier = {"_parameters": {}, "_buffers": {}, "_modules": {}, "_init_args": (),
               "_init_kwargs": {}}  # fmt: skip
    synthesis.meta["state"]["_modules"]["input"] = Persistent("SynthesisInput", fourier, "")
    path = write_snapshot(tmp_path / "s.pkl", stored)
    with pytest.raises(CheckpointError, match=r"StyleGAN3 .* not build StyleGAN3 generators yet"):
        load_generator(path)


def test_weights_that_do_not_fit_the_kwargs_end_in_one_line(tmp_path: Path) -> None:
    stored = snapshot(small_generator(0))
    stored["G_ema"].meta["state"]["_init_kwargs"]["w_dim"] = 16
    path = write_snapshot(tmp_path / "s.pkl", stored)
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "does not fit the StyleGAN2 built from its own init_kwargs" in result.stderr
    missing = write_snapshot(tmp_path / "m.pkl", snapshot(small_generator(0)))
    result = runner.invoke(app, ["inspect", str(missing), "--key", "D"])
    assert result.exit_code == 2 and "has no entry 'D'" in result.stderr


def test_records_hold_plain_data(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "s.pkl", snapshot(small_generator(0)))
    stored = read_snapshot(str(path), torch.device("cpu"))
    record = stored["G_ema"]
    assert record.class_name == "Generator" and record.init_kwargs["z_dim"] == 8
    assert "mapping.w_avg" in record.state_dict()
    with pytest.raises(pickle.UnpicklingError):
        record.__setstate__({})


# --- Snapshots made by NVlabs' own code (../shared/fixtures/stylegan) ---------------------

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "stylegan"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"needs the StyleGAN reference snapshots in {SHARED} (CI has them)"
)
SNAPSHOTS = ["stylegan2-ada_rgb32", "stylegan2-ada_cond4_gray32"]


def reference(name: str) -> tuple[Path, dict[str, np.ndarray]]:
    path = SHARED / f"{name}.pkl"
    return path, dict(np.load(SHARED / f"{name}.expected.npz"))


def run_as(module: torch.nn.Module, expected: dict[str, np.ndarray], train: bool) -> torch.Tensor:
    z, c = torch.from_numpy(expected["z"]), torch.from_numpy(expected["c"])
    labels = (c.argmax(1),) if c.shape[1] else ()
    with torch.no_grad():
        return module.train(train)(z, *labels)


@needs_shared
@pytest.mark.parametrize("name", SNAPSHOTS)
@pytest.mark.parametrize(("key", "psi", "output"), [("G_ema", 1.0, "G_ema"),
                         ("G_ema", 0.7, "G_ema_psi07"), ("G", 1.0, "G")])  # fmt: skip
def test_nvlabs_outputs_are_reproduced(name: str, key: str, psi: float, output: str) -> None:
    """Run as NVlabs' code ran it (fp16 blocks, fused float32 blocks at inference), the rebuilt
    generator reproduces NVlabs' outputs within 1.5 float16 rounding steps of the output's scale
    (2**-10): the last bits of a float16 convolution on a CPU depend on the CPU's kernels (on
    the machine that made the references they agree to 1e-6; on CI's they differed by up to
    1.0e-3 of the scale). The probe's float32 build stays within three such steps. The
    reference G output came from G in training mode (unfused), the G_ema ones in eval mode."""
    path, expected = reference(name)
    options = LoadOptions(key=key, truncation=psi)
    train = key == "G"
    want = torch.from_numpy(expected[output])
    scale = float(want.abs().max())
    exact, _, _ = load_snapshot_generator(str(path), options, torch.device("cpu"), as_trained=True)
    assert float((run_as(exact, expected, train) - want).abs().max()) <= 2**-10 * 1.5 * scale
    probed = load_generator(path, options).module
    assert float((run_as(probed, expected, train) - want).abs().max()) <= 3e-3 * scale


@needs_shared
def test_inspect_shows_the_snapshot_s_facts() -> None:
    path, _ = reference("stylegan2-ada_cond4_gray32")
    result = runner.invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    import json

    facts = json.loads(result.stdout)
    details = facts["details"]
    assert (details["z_dim"], details["w_dim"], details["c_dim"]) == (64, 64, 4)
    assert (details["resolution"], details["channels"], details["mapping_layers"]) == (32, 1, 2)
    assert details["augment_p"] == pytest.approx(0.231)
    assert details["training_set_kwargs"]["use_labels"] is True
    assert facts["num_classes"] == 4 and facts["key"] == "G_ema"


# --- The three synthesis architectures against NVlabs' code (tests/fixtures) --------------


@pytest.mark.parametrize("architecture", ["skip", "orig", "resnet"])
def test_each_synthesis_architecture_reproduces_nvlabs(architecture: str) -> None:
    """Weights drawn at random, outputs computed by NVlabs' Generator with force_fp32
    (tests/fixtures/make_stylegan2_architectures.py says how)."""

    from gandoctor.loading.layouts.architectures.stylegan2.generator import StyleGAN2Generator

    kwargs, state, stored = architecture_fixture(architecture)
    g = StyleGAN2Generator(**kwargs)
    g.load_state_dict(state, strict=True)
    want = torch.from_numpy(stored[f"{architecture}/output"])
    with torch.no_grad():
        got = g.eval()(torch.from_numpy(stored["z"]))
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())


def test_layers_are_grouped_by_mapping_layer_and_synthesis_block() -> None:
    from conftest import _digits

    from gandoctor.config import ProbeConfig
    from gandoctor.probing.loop import run_probe

    outcome = run_probe(small_generator(0, c_dim=0), (8,), _digits(8).clone(),
                        ProbeConfig(steps=4, per_layer=True, batch_size=16))  # fmt: skip
    assert outcome.layers is not None
    groups = {layer.name: layer for layer in outcome.layers.layers}
    assert set(groups) == {"mapping.fc0", "mapping.fc1", "synthesis.b4", "synthesis.b8"}
    assert groups["synthesis.b8"].kind == "SynthesisBlock"
    # Every parameter in exactly one group: the parameter counts add up.
    assert sum(g.parameters for g in groups.values()) == sum(
        p.numel() for p in small_generator(0).parameters()
    )

"""The checkpoints' own discriminators, rebuilt (issue 16's first step): NVlabs' snapshot
``D`` (three architectures, minibatch std, label projection) and rosinality's ``d`` give the
logits their authors' code computed."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from stylegan_snapshots import architecture_fixture

from gandoctor.loading.formats.nvlabs_pickle import read_snapshot
from gandoctor.loading.layouts.architectures.stylegan2.discriminator import (
    NVlabsDiscriminator,
    minibatch_std,
)
from gandoctor.loading.layouts.architectures.stylegan2.rosinality_d import (
    RosinalityDiscriminator,
    recognise,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "stylegan"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"needs the StyleGAN reference checkpoints in {SHARED} (CI has them)",
)


@pytest.mark.parametrize("architecture", ["skip", "orig", "resnet"])
def test_each_discriminator_architecture_reproduces_nvlabs(architecture: str) -> None:
    kwargs, state, stored = architecture_fixture(f"D/{architecture}")
    d = NVlabsDiscriminator(**kwargs)
    d.load_state_dict(state, strict=True)
    want = torch.from_numpy(stored[f"D/{architecture}/logits"])
    with torch.no_grad():
        got = d.eval()(torch.from_numpy(stored["resnet/output"]))
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())


def test_minibatch_std_is_taken_per_group() -> None:
    """Samples 0, 2 and 1, 3 form the groups (the group index varies slowest): their own
    spread, not the whole batch's, goes into the extra channel."""
    x = torch.tensor([0.0, 10.0, 2.0, 10.0]).reshape(4, 1, 1, 1).expand(4, 1, 2, 2)
    extra = minibatch_std(x.contiguous(), group_size=2)[:, 1, 0, 0]
    assert torch.allclose(extra, torch.tensor([1.0, 0.0, 1.0, 0.0]), atol=1e-3)
    with pytest.raises(ValueError, match="does not split"):
        minibatch_std(torch.zeros(3, 1, 2, 2), group_size=2)


@needs_shared
@pytest.mark.parametrize("name", ["stylegan2-ada_rgb32", "stylegan2-ada_cond4_gray32"])
def test_a_snapshot_s_d_gives_its_reference_logits(name: str) -> None:
    """D(G_ema(z), c) as NVlabs' code computed it (its fp16 blocks in float16): exactly, run
    as trained; within float16's rounding in float32."""
    stored = read_snapshot(str(SHARED / f"{name}.pkl"), torch.device("cpu"))
    expected = np.load(SHARED / f"{name}.expected.npz")
    record = stored["D"]
    images, c = torch.from_numpy(expected["G_ema"]), torch.from_numpy(expected["c"])
    labels = (c.argmax(1),) if c.shape[1] else ()
    want = torch.from_numpy(expected["D_logits_of_G_ema"]).reshape(-1, 1)
    for as_trained, tolerance in ((True, 1e-4), (False, 3e-3)):
        d = NVlabsDiscriminator(*record.init_args, **record.init_kwargs, as_trained=as_trained)
        d.load_state_dict(record.state_dict(), strict=True)
        with torch.no_grad():
            got = d.eval()(images, *labels)
        assert float((got - want).abs().max()) <= tolerance * float(want.abs().max())


@needs_shared
def test_rosinality_s_d_gives_its_reference_logits() -> None:
    with torch.serialization.safe_globals([argparse.Namespace]):
        stored = torch.load(SHARED / "rosinality_000100.pt", weights_only=True)
    expected = np.load(SHARED / "rosinality_000100.expected.npz")
    d = RosinalityDiscriminator(**recognise(stored["d"]))  # type: ignore[arg-type]
    d.load_state_dict(stored["d"], strict=True)
    want = torch.from_numpy(expected["d_logits_of_g_ema"]).reshape(-1, 1)
    with torch.no_grad():
        got = d.eval()(torch.from_numpy(expected["g_ema"]))
    assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())

"""gan-face-generate's training checkpoint (the DCGAN of PyTorch's faces tutorial): G from
``netG_state_dict`` and its own D from ``netD_state_dict``, with no option, reproducing the
package's own networks (tests/fixtures/make_gan_face_generate.py made the files with the
package's classes and its train.py's checkpoint dict)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gandoctor.loading import load_generator
from gandoctor.loading.discriminators.checkpoint import find_own_discriminator

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHECKPOINT = FIXTURES / "gan_face_generate" / "checkpoint.tar"
REFERENCE = dict(np.load(FIXTURES / "gan_face_generate.npz"))
CPU = torch.device("cpu")


def test_its_generator_loads_from_the_training_checkpoint_with_no_option() -> None:
    loaded = load_generator(CHECKPOINT)
    assert loaded.info.key == "netG_state_dict"
    assert loaded.info.output_shape == (3, 64, 64) and loaded.info.latent_shape == (8, 1, 1)
    with torch.no_grad():
        got = loaded.module(torch.from_numpy(REFERENCE["z"]))
    assert np.abs(got.numpy() - REFERENCE["g_out"]).max() <= 1e-5


def test_its_own_d_is_found_under_netd_state_dict_and_reads_logits() -> None:
    own = find_own_discriminator(str(CHECKPOINT), CPU)
    assert own is not None and own.source == "netD_state_dict"
    with torch.no_grad():
        logits = own.module(torch.from_numpy(REFERENCE["images"]))
    # The package's D ends in a Sigmoid; gandoctor's reads the logits before it.
    want = REFERENCE["d_out"].reshape(-1)
    assert np.abs(torch.sigmoid(logits).reshape(-1).numpy() - want).max() <= 1e-5


def test_the_same_file_named_as_the_d_checkpoint_is_read_too() -> None:
    own = find_own_discriminator(str(CHECKPOINT), CPU, disc_checkpoint=str(CHECKPOINT))
    assert own is not None and own.architecture.startswith("dcgan D")

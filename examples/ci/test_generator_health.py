"""A pytest gate on a generator checkpoint, with gandoctor.check.

Copy into a GAN repository's tests and point the paths at its checkpoint and data. A failed
gate raises gandoctor.GeneratorCheckFailed, an AssertionError whose message lists the
findings the gate names. This file runs in gandoctor's own test suite on the shipped
example: the DCGAN trained 25 epochs on digits, and the same DCGAN untrained.
"""

from pathlib import Path

import pytest

import gandoctor
from gandoctor import DataOptions, ProbeConfig

EXAMPLES = Path(__file__).resolve().parents[1]
TRAINED = EXAMPLES / "dcgan_digits_epoch25.safetensors"
UNTRAINED = EXAMPLES / "dcgan_digits_epoch0.safetensors"
DATA = EXAMPLES / "digits"

# A short probe keeps the test suite fast: 30 D steps, one latent batch per measurement,
# already separate the untrained generator (held-out accuracy 1.0) from the trained one
# (about 0.55). A real gate probes longer: the default is 500 steps (steps = ... in
# [tool.gandoctor]).
QUICK = ProbeConfig(steps=30, grad_batches=1)
FEW_IMAGES = DataOptions(max_images=600)


def test_trained_generator_passes_the_gate() -> None:
    report = gandoctor.check(TRAINED, DATA, config=QUICK, data_options=FEW_IMAGES)
    assert report.exit_code == 0


def test_untrained_generator_fails_the_gate() -> None:
    # fail_on="saturation": any saturation finding, the warning included.
    with pytest.raises(gandoctor.GeneratorCheckFailed, match="saturation") as failed:
        gandoctor.check(
            UNTRAINED, DATA, config=QUICK, data_options=FEW_IMAGES, fail_on="saturation"
        )
    (checkpoint,) = failed.value.report.checkpoints
    assert checkpoint.outcome.summary is not None
    assert checkpoint.outcome.summary.final_accuracy > 0.99

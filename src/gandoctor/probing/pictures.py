"""The probe's sample images for the report (results.sample_images): the first
GRID_SAMPLES generated held-out samples and as many held-out real ones."""

from __future__ import annotations

import torch

from gandoctor.results.sample_images import GRID_SAMPLES, SampleImages, shows_as_image, to_pixels


def sample_images(
    generated: list[torch.Tensor],
    heldout_real: torch.Tensor,
    output_range: tuple[float, float] | None,
) -> SampleImages | None:
    """None where the samples are not images (vectors, odd channel counts).

    Without a known output range (a module passed in by a library user) the real data's own
    range is used for both, which is the range the generator is probed in.
    """
    shape = tuple(heldout_real.shape[1:])
    if not shows_as_image(shape) or not generated:
        return None
    kept, count = [], 0
    for batch in generated:  # only the batches the grid needs, not a copy of them all
        kept.append(batch[: GRID_SAMPLES - count])
        count += len(kept[-1])
        if count >= GRID_SAMPLES:
            break
    fake = torch.cat(kept).detach().float().cpu().reshape(-1, *shape)
    real = heldout_real[:GRID_SAMPLES].detach().float().cpu()
    if output_range is None:
        output_range = (float(real.min()), float(real.max()))
    if not output_range[0] < output_range[1]:
        return None  # constant real data: nothing to scale by
    return SampleImages(
        to_pixels(fake.numpy(), output_range), to_pixels(real.numpy(), output_range), output_range
    )

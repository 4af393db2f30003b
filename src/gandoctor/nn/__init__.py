"""Tensor building blocks: latent draws, pure tensor metrics, the frozen generator with its
health checks, and the probe discriminators."""

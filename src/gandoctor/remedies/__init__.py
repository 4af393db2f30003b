"""Remedy checks (``--remedies``): the instance-noise sweep (``sweep``) and a WGAN-GP
critic (``critic``), each against the same frozen generator, split and latents as the probe.
Their records are in ``gandoctor.results.remedies``."""

"""The generator once built: what loading returns (``info``), its latent shape, output
shape and range (``inspection``), how the probe calls it (``forward``), how failures of its
forward become one line (``guard``), and modules the caller already holds
(``in_memory``)."""

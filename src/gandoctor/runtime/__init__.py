"""Where the probe runs: devices (``--device``), precision (``--precision``) and the
memory and worker resources of the machine. Torch is imported only where a choice is
resolved, so the command line starts without it."""

"""Whole training runs: a run folder's snapshots and options (folders), which snapshots to
probe (selection)."""

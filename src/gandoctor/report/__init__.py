"""The report: the model and its JSON (``model``), format-neutral views (``views``), the
terminal (``terminal``), Markdown, plots, merged shards (``merge``) and reading a saved
report back (``saved``). Torch-free: a report can be read, merged and rendered without it.
"""

from gandoctor.report.model import SCHEMA, CheckpointReport, Report

__all__ = ["SCHEMA", "CheckpointReport", "Report"]

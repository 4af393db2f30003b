"""The report for a terminal, as Rich renderables: the figures table and comparison
tables (``tables``), and the blocks of the baseline, layers, remedies and sample figures."""

"""From figures to verdicts, in pure Python (no torch): the summary of a series
(``summarise``), the paper's rules (``rules``), the sample rules (``samples``), the verdict
(``verdict``), the gate (``gate``) and the comparison with a baseline (``baseline``)."""

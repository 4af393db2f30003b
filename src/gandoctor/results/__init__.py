"""Torch-free records that flow between the stages: the measured series and summary
(``series``), the per-layer gradients (``layers``), the sample figures (``samples``), the
findings and a probe's outcome (``outcome``), the remedy checks (``remedies``) and the
baseline comparison (``baseline``), plus how figures are read off series (``readings``).

Records only: what computes them lives upstream (probing, analyses, remedies), what judges
them downstream (judge), what shows them further down (report).
"""

"""Analyses beyond the paper, run by the probe: sample diversity (``collapse``), D's
overfitting (``overfitting``) and per-layer gradients (``layers``). Their records are in
``gandoctor.results``."""

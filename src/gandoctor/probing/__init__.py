"""The probe itself: a fresh discriminator trained against the frozen generator, measured.

- ``setup``: the held-out split, the seeded draws and the measurement schedule, in one place
  (the remedies' critic and preflight use it too, so they see the same data and latents);
- ``loop``: ``run_probe``, which trains D and measures at the scheduled steps;
- ``steps``: one D step and one measurement (held-out figures, both gradient norms);
- ``noise``: instance noise on D's inputs; ``budget``: the time budget;
  ``interrupt``: Ctrl-C keeps what was measured.

Named ``probing`` rather than ``probe`` so that ``gandoctor.probe`` stays the function.
"""

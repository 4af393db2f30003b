"""The reference cases' table (docs/science.md, "Reference cases"), measured now.

    python benchmarks/reference.py          # six probes at the command line's defaults (minutes)

Each shipped example is probed against the shipped digits at the command line's defaults
(seed 0, fp32, 2 threads, early stopping on), the untrained one also with ``--train-mode``,
and the 25-epoch generator against 2000 of its own samples ("matched": real and generated
data follow the same distribution exactly). It prints one Markdown row per case, in the
columns of the documentation's table, so that the table is pasted from what the code
measures today.
"""

from __future__ import annotations

import sys

from plan import cases

import gandoctor
from gandoctor.config import ProbeConfig
from gandoctor.results.series import Summary


def row(name: str, checkpoint: str, data: object, train_mode: bool = False) -> str:
    config = ProbeConfig(threads=2, train_mode=train_mode)
    result = gandoctor.probe(checkpoint, data, config=config)  # type: ignore[arg-type]
    c = result.checkpoints[0]
    s: Summary | None = c.outcome.summary
    if s is None:
        return f"| {name} | {c.verdict} | no summary | | | | | | | |"
    stopped = ", stopped early" if s.steps_run < config.steps else ""
    growth = (f"{s.nonsat_growth_after_peak:.2f} ± {s.nonsat_growth_uncertainty:.2f}"
              if s.minimax_declined else "not counted (no minimax decline)")  # fmt: skip
    findings = "; ".join(
        f"{f.code} ({f.severity}{', borderline' if f.borderline else ''})" for f in c.findings
    )
    cells = [
        name, f"{c.verdict} ({result.exit_code})", f"{s.steps_run}{stopped}",
        str(s.steps_to_saturation or "—"), f"{s.final_accuracy:.3f}", f"{s.final_d_fake:.2g}",
        f"{s.final_js_lower_bound:.3f}",
        f"{s.minimax_decades_lost:.2f} ± {s.minimax_decades_uncertainty:.2f}",
        f"{s.nonsat_decades_gained:.2f} / {growth}",
        findings or "none",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    found = cases([0, 1, 10, 25])
    for name, checkpoint, data in found:
        print(row(name, checkpoint, data), flush=True)
        if name == "epoch 0":
            print(row("epoch 0, --train-mode", checkpoint, data, train_mode=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

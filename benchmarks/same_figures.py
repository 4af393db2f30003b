"""Guard for refactors: the four shipped examples' series and summaries, bit for bit.

    python benchmarks/same_figures.py record   # before a refactor: writes the figures
    python benchmarks/same_figures.py check    # after each step: exits 1 on any difference

Runs each example with ``--precision fp32`` at the default settings, in one thread of
intra-op parallelism (thread count changes float rounding, so it is fixed here), and keeps
the measured series and the summary of each. The figures file is written to
``benchmarks/.same_figures.json`` (ignored by git); it is a record of this machine, not a
reference for other machines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gandoctor
from gandoctor.config import ProbeConfig

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / f"dcgan_digits_epoch{e}.safetensors" for e in (0, 1, 10, 25)]
RECORD = Path(__file__).with_name(".same_figures.json")


def figures() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for path in EXAMPLES:
        report = gandoctor.probe(
            str(path), ROOT / "examples" / "digits", config=ProbeConfig(precision="fp32", threads=1)
        )
        entry = json.loads(report.to_json())["checkpoints"][0]
        out[path.name] = {
            "series": entry["series"],
            "summary": entry["summary"],
            "findings": [(f["code"], f["severity"]) for f in entry["findings"]],
            "verdict": entry["verdict"],
        }
        print(f"{path.name}: {entry['verdict']}", file=sys.stderr)
    return out


def main(mode: str) -> int:
    now = figures()
    if mode == "record":
        RECORD.write_text(json.dumps(now, indent=1), encoding="utf-8")
        print(f"recorded {len(now)} examples in {RECORD}")
        return 0
    then = json.loads(RECORD.read_text(encoding="utf-8"))
    now = json.loads(json.dumps(now))  # the same JSON round trip as the record
    differ = [name for name in then if then[name] != now.get(name)]
    for name in differ:
        for key in then[name]:
            if then[name][key] != now[name][key]:
                print(f"{name}: {key} differs")
    print("same figures" if not differ else f"{len(differ)} examples differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))

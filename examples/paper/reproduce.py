"""Reproduce Arjovsky & Bottou (2017), Figures 1-3, on the shipped digits.

The paper's protocol: train a DCGAN for 1, 10 and 25 epochs; freeze each generator; train a
fresh discriminator from scratch against it and follow D's accuracy (Figure 1), the
generator's gradient under the minimax cost (Figure 2) and under the -log D cost (Figure 3).

This script makes the digits and trains the DCGAN if their files are missing (about two
minutes on a laptop CPU; the shipped ones are used otherwise), then probes the three
checkpoints in one run with early stopping off, so every curve runs the full length:

    python examples/paper/reproduce.py            # writes figures.png and report.json here
    python examples/paper/reproduce.py --steps 4000   # the paper's length (about 25 min)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
EPOCHS = (1, 10, 25)


def run(*args: str) -> int:
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="D steps per checkpoint")
    parser.add_argument("--out", type=Path, default=HERE, help="where the figure and report go")
    args = parser.parse_args()

    if not (EXAMPLES / "digits").is_dir():
        run(sys.executable, str(EXAMPLES / "make_digits.py"))
    checkpoints = [EXAMPLES / f"dcgan_digits_epoch{e}.safetensors" for e in EPOCHS]
    if not all(path.exists() for path in checkpoints):
        saves = ",".join(str(e) for e in EPOCHS)
        run(sys.executable, str(EXAMPLES / "train_dcgan_digits.py"), "--save-epochs", saves)

    code = run(
        sys.executable, "-m", "gandoctor", "probe",
        *(str(path) for path in checkpoints),
        "--data", str(EXAMPLES / "digits"),
        "--steps", str(args.steps),
        "--no-early-stop",
        "--plot", str(args.out / "figures.png"),
        "--json", str(args.out / "report.json"),
        "--fail-on", "none",  # a reproduction, not a gate
    )  # fmt: skip
    sys.exit(code)


if __name__ == "__main__":
    main()

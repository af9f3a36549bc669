"""The release's smoke set: what a new user does first with installed stgcn packages.

Run by ``nox -s build`` (on the built wheels) and ``nox -s smoke`` (per Python version)
with the environment's own Python, never from the source tree:

    python tools/smoke_release.py WORK_FOLDER DISTRIBUTION...

It checks that ``stgcn --version`` lists each DISTRIBUTION with one version and that
``stgcn plugins`` loads them all, trains the demo (a tiny ``stgcn run`` on the built-in
synthetic dataset), exports the best checkpoint to ONNX and predicts a clip with both
engines (the same top-5), and holds the synthetic dataset to the contract kit. Each
step prints its time; the first failure ends the run with its output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: the demo's training, made tiny: seconds on a CPU (stgcn.testing.helpers.TINY_RUN)
TINY_RUN = [
    "--data-option", "train_size=16",
    "--data-option", "val_size=8",
    "--data-option", "frames=12",
    "--batch-size", "8",
    "--epochs", "1",
    "--seed", "5",
]  # fmt: skip
#: the contract kit's checks of the synthetic dataset, in a fresh interpreter
CONTRACT = (
    "from stgcn.testing import check_dataset; "
    "check_dataset('synthetic', options={'train_size': 8, 'val_size': 8, 'frames': 12}); "
    "print('contract kit: synthetic passes')"
)
#: the packages run are the installed ones, not a source tree on the path
INSTALLED = (
    "import sys, stgcn; where = stgcn.__file__; "
    "assert where.startswith(sys.prefix), f'stgcn is imported from {where}, not installed'"
)
#: a clip of the synthetic dataset as stgcn predict reads a .npy: (C, T, V, M)
CLIP = (
    "import sys, numpy; from stgcn.data.synthetic import generate; "
    "numpy.save(sys.argv[1], generate(1, seed=123, frames=12)[0][0])"
)


def stgcn_command() -> list[str]:
    """The installed ``stgcn`` script beside this interpreter (as a user runs it)."""
    script = Path(sys.executable).with_name("stgcn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stgcn"]


def step(title: str, command: list[str]) -> str:
    """Run one step; its stdout is returned, its failure ends the smoke run."""
    started = time.monotonic()
    # a plugin that fails to load fails the step, instead of being left out with a warning
    env = {**os.environ, "STGCN_STRICT_PLUGINS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        sys.exit(f"smoke: {title} failed (exit {result.returncode}): {' '.join(command)}")
    print(f"smoke: {title}: ok ({seconds:.1f} s)", flush=True)
    return result.stdout


def check_versions(listing: str, expected: list[str]) -> None:
    """``stgcn --version`` names every expected distribution, all at one version."""
    rows = dict(line.split()[:2] for line in listing.splitlines()[1:] if line.strip())
    missing = sorted(set(expected) - set(rows))
    if missing:
        sys.exit(f"smoke: stgcn --version does not list {missing}:\n{listing}")
    versions = {rows[name] for name in expected}
    if len(versions) != 1:
        sys.exit(f"smoke: the packages are at different versions:\n{listing}")
    print(listing, end="")


def main(work: Path, expected: list[str]) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stgcn = stgcn_command()
    step("stgcn is the installed package", [sys.executable, "-c", INSTALLED])
    check_versions(step("stgcn --version", [*stgcn, "--version"]), expected)
    print(step("stgcn plugins", [*stgcn, "plugins"]), end="")
    run = work / "run"
    step("stgcn run (synthetic, tiny)", [*stgcn, "run", "--work-dir", str(run), *TINY_RUN])
    checkpoint = run / "checkpoints" / "best.pth.tar"
    onnx_file = work / "stgcn.onnx"
    export = ["export", "onnx", "--checkpoint", str(checkpoint), "--output", str(onnx_file)]
    step("stgcn export onnx", [*stgcn, *export])
    clip = work / "clip.npy"
    step("a clip to predict", [sys.executable, "-c", CLIP, str(clip)])
    predict = [*stgcn, "predict", "--input", str(clip), "--json"]
    by_onnx = step("stgcn predict --onnx", [*predict, "--onnx", str(onnx_file)])
    by_torch = step("stgcn predict --checkpoint", [*predict, "--checkpoint", str(checkpoint)])
    onnx_top = [row["class"] for row in json.loads(by_onnx)["top"]]
    torch_top = [row["class"] for row in json.loads(by_torch)["top"]]
    if onnx_top != torch_top or len(onnx_top) != 5:
        sys.exit(f"smoke: onnxruntime's top-5 {onnx_top} is not PyTorch's {torch_top}")
    step("contract kit (synthetic)", [sys.executable, "-c", CONTRACT])
    print(f"smoke: every step passed on Python {sys.version.split()[0]}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python tools/smoke_release.py WORK_FOLDER DISTRIBUTION...")
    main(Path(sys.argv[1]), sys.argv[2:])

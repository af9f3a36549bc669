"""The ModelZoo port's ``pthtar2onnx.py``, on stgcn: ``python3 pthtar2onnx.py``.

Writes ``stgcn_npu.onnx`` as the port does: opset 11, the fixed input 64 x 3 x 150 x
18 x 2 (batch, channels, frames, joints, persons), input ``actual_input_1`` and output
``output1`` (the names the port's ATC and inference scripts use), from the best
checkpoint ``test/train_full_1p.sh`` saved. ``stgcn export onnx`` does the export and
checks it in onnxruntime against PyTorch; this script only renames the graph's input
and output. ``--checkpoint`` and ``--output`` choose other files; for dynamic batch,
frames and persons use ``stgcn export onnx`` itself.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CHECKPOINT = Path("work_dir/ST-GCN_bs64_1p_acc/checkpoints/best.pth.tar")
SHAPE = {"batch": 64, "frames": 150, "persons": 2}
NAMES = {"skeleton": "actual_input_1", "logits": "output1"}


def rename(model, names: dict[str, str]) -> None:
    """Rename graph inputs and outputs everywhere they are referenced."""
    for value in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        value.name = names.get(value.name, value.name)
    for node in model.graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.output[:] = [names.get(name, name) for name in node.output]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=ROOT / CHECKPOINT)
    parser.add_argument("--output", type=Path, default=Path("stgcn_npu.onnx"))
    args = parser.parse_args(argv)
    if not args.checkpoint.is_file():
        print(
            f"pthtar2onnx.py: error: checkpoint not found: {args.checkpoint} "
            "(train with test/train_full_1p.sh, or pass --checkpoint FILE)",
            file=sys.stderr,
        )
        return 1
    try:
        import onnx
    except ImportError:
        print(
            "pthtar2onnx.py: error: needs stgcn-export: pip install ./packages/stgcn-export",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory() as folder:
        exported = Path(folder) / "model.onnx"
        paths = [f"--checkpoint={args.checkpoint}", f"--output={exported}"]
        shape = [f"--{key}={value}" for key, value in SHAPE.items()]
        command = [sys.executable, "-m", "stgcn", "export", "onnx", *paths]
        command += ["--opset", "11", "--static", *shape]
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            return done.returncode
        model = onnx.load(str(exported))
    rename(model, NAMES)
    onnx.checker.check_model(model)
    onnx.save(model, str(args.output))
    print(f"wrote {args.output}: input actual_input_1 64x3x150x18x2, output output1, opset 11")
    return 0


if __name__ == "__main__":
    sys.exit(main())

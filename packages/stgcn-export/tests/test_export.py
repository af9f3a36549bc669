"""``stgcn export onnx`` on a checkpoint from ``stgcn run``: the file, its dynamic axes,
its parity with PyTorch in onnxruntime, and the refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from export_helpers import assert_one_line_error
from stgcn_export.onnx_export import export_onnx
from stgcn_export.verification import VerificationError, verify_onnx

import stgcn
from stgcn.data.synthetic import CLASS_NAMES
from stgcn.errors import StgcnError
from stgcn.plugins.registry import get_registry
from stgcn.records import EXPORTERS
from stgcn.testing.helpers import run_stgcn, stgcn_in_process

SMALL = ["--batch", "1", "--frames", "12"]


def dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def run_both(path: Path, model: torch.nn.Module, shape: tuple[int, ...], seed: int):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    (actual,) = session.run(["logits"], {"skeleton": inputs})
    with torch.no_grad():
        expected = model(torch.from_numpy(inputs)).numpy()
    return actual, expected


@pytest.mark.parametrize("opset", [11, 17])
def test_export_writes_the_opset_with_named_dynamic_axes(exports, opset: int) -> None:
    path, printed = exports[opset]
    model = onnx.load(path)
    assert {i.domain: i.version for i in model.opset_import}[""] == opset
    assert "Einsum" not in {node.op_type for node in model.graph.node}
    assert "MatMul" in {node.op_type for node in model.graph.node}
    (skeleton,) = model.graph.input
    (logits,) = model.graph.output
    assert skeleton.name == "skeleton" and logits.name == "logits"
    assert dims(skeleton) == ["batch", 3, "frames", 18, "persons"]
    assert dims(logits) == ["batch", len(CLASS_NAMES)]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["stgcn.dataset"] == "synthetic"
    assert json.loads(metadata["stgcn.class_names"]) == list(CLASS_NAMES)
    assert json.loads(metadata["stgcn.model_config"])["num_class"] == len(CLASS_NAMES)
    # verified by default: at two shapes other than the example's 1x16x2
    assert "onnx.checker passed" in printed
    found = re.search(r"relative error (\S+) at (\S+), (\S+) at (\S+) \(tolerance", printed)
    assert found, printed
    errors, shapes = [float(found[1]), float(found[3])], [found[2], found[4]]
    assert all(0 <= error <= 1e-4 for error in errors), printed
    assert "1x3x16x18x2" not in shapes and len(set(shapes)) == 2, printed


@pytest.mark.parametrize("opset", [11, 17])
def test_dynamic_axes_take_other_batch_frames_and_persons(exports, checkpoint, opset) -> None:
    path, _ = exports[opset]
    model = stgcn.load_model(checkpoint)
    for shape in [(2, 3, 9, 18, 1), (1, 3, 20, 18, 3), (4, 3, 5, 18, 2)]:
        actual, expected = run_both(path, model, shape, seed=sum(shape))
        assert actual.shape == (shape[0], len(CLASS_NAMES))
        assert relative_error(actual, expected) < 1e-4, shape


def test_batch3_72_frames_and_batch1_150_frames_match_pytorch(exports, checkpoint) -> None:
    """The acceptance shapes, on the file the real command wrote at opset 17."""
    path, _ = exports[17]
    model = stgcn.load_model(checkpoint)
    for shape in [(3, 3, 72, 18, 2), (1, 3, 150, 18, 2)]:
        actual, expected = run_both(path, model, shape, seed=7)
        assert relative_error(actual, expected) < 1e-4, shape


def test_static_export_takes_only_its_example_shape(checkpoint, tmp_path: Path) -> None:
    out = tmp_path / "static.onnx"
    ran = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(out),
        "--static",
        "--batch",
        "2",
        "--frames",
        "12",
        "--opset",
        "11",
    )
    assert ran.returncode == 0, ran.stderr
    assert "relative error" in ran.stdout and "at 2x3x12x18x2" in ran.stdout
    model = onnx.load(out)
    assert dims(model.graph.input[0]) == [2, 3, 12, 18, 2]
    assert dims(model.graph.output[0]) == [2, len(CLASS_NAMES)]
    actual, expected = run_both(out, stgcn.load_model(checkpoint), (2, 3, 12, 18, 2), seed=1)
    assert relative_error(actual, expected) < 1e-4
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):
        run_both(out, stgcn.load_model(checkpoint), (3, 3, 12, 18, 2), seed=1)


def test_bare_state_dict_exports_with_given_dataset_and_no_verify(checkpoint, tmp_path) -> None:
    bare = tmp_path / "bare.pt"
    torch.save(torch.load(checkpoint, weights_only=True)["model"], bare)
    out = tmp_path / "bare.onnx"
    ran = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(bare),
        "--output",
        str(out),
        "--no-verify",
        "--dataset",
        "synthetic",
        "--num-class",
        str(len(CLASS_NAMES)),
        *SMALL,
    )
    assert ran.returncode == 0, ran.stderr
    assert "not verified" in ran.stdout and "relative error" not in ran.stdout
    metadata = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert json.loads(metadata["stgcn.class_names"]) == list(CLASS_NAMES)
    actual, expected = run_both(out, stgcn.load_model(checkpoint), (1, 3, 10, 18, 2), seed=2)
    assert relative_error(actual, expected) < 1e-4


def test_custom_layout_is_given_with_a_json_file(tmp_path: Path) -> None:
    edges = [(0, 1), (1, 2), (2, 3), (3, 4)]
    layout = stgcn.Layout.custom(5, edges, center=2, name="chain")
    bare = tmp_path / "chain.pt"
    torch.save(stgcn.STGCN(4, layout=layout).state_dict(), bare)
    out = tmp_path / "chain.onnx"
    args = ["export", "onnx", "--checkpoint", str(bare), "--output", str(out), *SMALL]
    assert_one_line_error(stgcn_in_process(*args), "cannot tell the layout", "--layout")
    assert not out.exists()
    spec = tmp_path / "chain.json"
    spec.write_text(json.dumps({"num_node": 5, "edges": edges, "center": 2}))
    ran = stgcn_in_process(*args, "--layout", str(spec), "--strategy", "spatial")
    assert ran.returncode == 0, ran.stderr
    assert dims(onnx.load(out).graph.input[0]) == ["batch", 3, "frames", 5, "persons"]


def test_failed_verification_leaves_the_existing_file(exports, checkpoint, tmp_path) -> None:
    out = tmp_path / "model.onnx"
    out.write_bytes(exports[11][0].read_bytes())
    before = out.read_bytes()
    ran = stgcn_in_process(
        "export",
        "onnx",
        "--checkpoint",
        str(checkpoint),
        "--output",
        str(out),
        "--tolerance",
        "1e-15",
        *SMALL,
    )
    assert_one_line_error(ran, "verification failed", "relative error", "left as it was")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"], "temporary file left"


def test_verify_onnx_catches_a_model_that_differs(exports, checkpoint) -> None:
    path, _ = exports[11]
    model = stgcn.load_model(checkpoint)
    shapes = [(2, 3, 8, 18, 2)]
    (check,) = verify_onnx(path, model, shapes, tolerance=1e-4, seed=0)
    assert check.passed and check.shape == shapes[0]
    with torch.no_grad():
        model.fcn.bias += 0.5
    with pytest.raises(VerificationError, match="relative error"):
        verify_onnx(path, model, shapes, tolerance=1e-4, seed=0)


def test_exporter_record_and_commands_are_registered() -> None:
    exporter = get_registry().get(EXPORTERS, "onnx")
    assert exporter.suffix == ".onnx" and exporter.description
    ran = stgcn_in_process("plugins", "--json")
    (row,) = [row for row in json.loads(ran.stdout) if row["name"] == "stgcn-export"]
    assert [e["name"] for e in row["exporters"]] == ["onnx"]
    assert set(row["commands"]) == {"export", "predict"}, row
    assert row["errors"] == []


def test_wrong_path_and_non_checkpoint_give_one_line(tmp_path: Path) -> None:
    """The first in a fresh interpreter, exactly as a user sees it."""
    out = tmp_path / "m.onnx"
    missing = run_stgcn(
        "export", "onnx", "--checkpoint", str(tmp_path / "no.pt"), "--output", str(out)
    )
    assert_one_line_error(missing, "checkpoint not found", "no.pt")
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    args = ["export", "onnx", "--checkpoint", str(text), "--output", str(out)]
    garbage = stgcn_in_process(*args)
    assert_one_line_error(garbage, "notes.txt", "not a readable checkpoint")
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--opset", "10"], ["opset 10 is not supported", "11 to 20"]),
        (["--frames", "0"], ["--frames must be at least 1"]),
        (["--verify-shape", "3x72"], ["--verify-shape expects"]),
        (["--static", "--verify-shape", "3x72x2"], ["--static model takes only"]),
        (["--tolerance", "0"], ["--tolerance must be above 0"]),
        (["--dataset", "nosuch"], ["unknown dataset 'nosuch'"]),
    ],
)
def test_bad_options_give_one_line(checkpoint, tmp_path: Path, extra, fragments) -> None:
    out = tmp_path / "m.onnx"
    ran = stgcn_in_process(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(out), *extra
    )
    assert_one_line_error(ran, *fragments)
    assert not out.exists()


def test_other_files_are_never_overwritten(checkpoint, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    ran = stgcn_in_process(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(notes)
    )
    assert_one_line_error(ran, "not an .onnx file")
    assert notes.read_text() == "keep me\n"
    before = checkpoint.read_bytes()
    ran = stgcn_in_process(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(checkpoint)
    )
    assert_one_line_error(ran, "the checkpoint itself")
    assert checkpoint.read_bytes() == before
    ran = stgcn_in_process(
        "export", "onnx", "--checkpoint", str(checkpoint), "--output", str(tmp_path)
    )
    assert_one_line_error(ran, "is a folder")


def test_api_exports_eval_mode_and_gives_the_model_back_as_it_was(checkpoint, tmp_path) -> None:
    model = stgcn.load_model(checkpoint).train()
    path = tmp_path / "api.onnx"
    report = export_onnx(model, path, {"frames": 8, "opset": 13, "seed": 3})
    assert model.training, "the caller's training mode was not restored"
    assert report.path == path and report.opset == 13 and len(report.checks) == 2
    assert all(check.passed for check in report.checks)
    actual, expected = run_both(path, stgcn.load_model(checkpoint), (2, 3, 8, 18, 2), seed=4)
    assert relative_error(actual, expected) < 1e-4  # eval-mode batch norm, not batch statistics
    with pytest.raises(ValueError, match="eval mode"):
        verify_onnx(path, model, [(1, 3, 8, 18, 2)], tolerance=1e-4)
    with pytest.raises(StgcnError, match="unknown option 'opset_version'"):
        export_onnx(model.eval(), path, {"opset_version": 11})


@pytest.mark.parametrize("command", ["export", "predict"])
def test_a_pickle_for_a_checkpoint_is_one_whole_line_without_torch_warnings(
    command: str, tmp_path: Path
) -> None:
    """``--checkpoint hands.pkl`` (a pose estimator's output, pickle protocol 4): one
    line naming the file and what it is, and neither torch's protocol warning nor its
    weights_only advice cut mid-sentence; the pickle's code never runs."""
    import pickle
    import warnings

    marker = tmp_path / "ran"
    hands = tmp_path / "hands.pkl"
    hands.write_bytes(pickle.dumps({"keypoints": np.zeros((2, 21, 3))}, protocol=4))
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Payload(str(marker)), protocol=4))
    out = tmp_path / "m.onnx"
    extra = ["--output", str(out)] if command == "export" else ["--input", str(tmp_path / "x.npy")]
    np.save(tmp_path / "x.npy", np.zeros((3, 8, 18, 2), np.float32))
    for path in (hands, evil):
        args = [command, *(["onnx"] if command == "export" else []), "--checkpoint", str(path)]
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            ran = stgcn_in_process(*args, *extra)
        assert_one_line_error(
            ran,
            f"{path} is not a readable checkpoint: a Python pickle, not a stgcn or PyTorch "
            "checkpoint; stgcn does not unpickle other files, since that could run code",
        )
        assert [str(w.message) for w in shown] == []
    assert not marker.exists() and not out.exists()


class _Payload:
    """Unpickled, it would create ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_the_command_made_from_the_record_has_exactly_the_onnx_options() -> None:
    """``stgcn export onnx`` is made from the exporter record and its settings family;
    its options are the ones the hand-written command had, in the same order."""
    from stgcn.cli import build_cli

    command = build_cli().commands["export"].commands["onnx"]  # type: ignore[attr-defined]
    shown = [" / ".join(["/".join(p.opts), *p.secondary_opts]) for p in command.params]
    assert shown == [
        "--checkpoint",
        "--output",
        "--opset",
        "--batch",
        "--frames",
        "--persons",
        "--static",
        "--verify / --no-verify",
        "--verify-shape",
        "--tolerance",
        "--dataset",
        "--layout",
        "--strategy",
        "--num-class",
    ]
    defaults = {p.name: p.default for p in command.params}
    assert defaults["opset"] == 17 and defaults["frames"] == 150 and defaults["verify"] is True
    assert defaults["tolerance"] == 1e-4
    (persons,) = [p for p in command.params if p.name == "persons"]
    assert not isinstance(persons.default, int)  # the request's persons unless typed


def test_an_output_that_cannot_be_written_names_the_users_path(checkpoint, tmp_path) -> None:
    """Not the temporary file beside it (issue 46): a folder that cannot hold files, and
    a folder that would have to be made where a file is."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    for output, why in [
        ("/proc/nope.onnx", "No such file or directory"),
        (f"{notes}/deeper/m.onnx", f"{notes} is a file, not a folder"),
    ]:
        ran = stgcn_in_process(
            "export", "onnx", "--checkpoint", str(checkpoint), "--output", output, "--no-verify"
        )
        assert ran.stderr.splitlines() == [f"stgcn: error: cannot write {output}: {why}"]
        assert ran.returncode == 1
    assert notes.read_text() == "keep me\n"
    assert not list(Path("/proc").glob(".nope.onnx.*"))

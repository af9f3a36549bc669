"""load_model: from stgcn checkpoints and from bare reference state_dicts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import stgcn
from stgcn.bench.baseline import BaselineSTGCN
from stgcn.errors import StgcnError
from stgcn.model.checkpoint import FORMAT
from stgcn.training.config import RunConfig
from stgcn.training.session import initialise_from, learning_rate

torch.set_num_threads(1)


def _randomise(model: torch.nn.Module) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif tensor.is_floating_point() and name != "A":
                tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))
    return model.eval()


@pytest.mark.parametrize(
    ("layout", "strategy", "num_class"),
    [
        ("openpose", "spatial", 400),
        ("ntu-rgb+d", "spatial", 60),
        ("ntu_edge", "uniform", 7),
        ("coco", "distance", 5),
        ("openpose", "uniform", 3),
    ],
)
def test_bare_state_dict_is_recognised(tmp_path: Path, layout, strategy, num_class) -> None:
    reference = _randomise(BaselineSTGCN(num_class, layout=layout, strategy=strategy))
    path = tmp_path / "reference.pt"
    torch.save(reference.state_dict(), path)
    model = stgcn.load_model(path)
    assert not model.training
    assert model.graph.layout.name == layout and model.graph.strategy == strategy
    assert model.num_class == num_class
    x = torch.randn(2, 3, 12, model.graph.num_node, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=1e-4, atol=1e-4)


def test_data_parallel_prefix_and_missing_edge_importance(tmp_path: Path) -> None:
    reference = BaselineSTGCN(10, edge_importance_weighting=False)
    path = tmp_path / "wrapped.pt"
    torch.save({f"module.{k}": v for k, v in reference.state_dict().items()}, path)
    model = stgcn.load_model(path)
    assert model.edge_importance is None


def test_stgcn_checkpoint_round_trip(tmp_path: Path) -> None:
    model = _randomise(stgcn.STGCN(6, layout="coco", strategy="distance", max_hop=2))
    path = tmp_path / "ckpt.pth.tar"
    torch.save(
        {"format": FORMAT, "model": model.state_dict(), "model_config": model.config()}, path
    )
    loaded = stgcn.load_model(path)
    assert loaded.config() == model.config()
    x = torch.randn(1, 3, 12, 17, 1)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_custom_layout_needs_to_be_given(tmp_path: Path) -> None:
    layout = stgcn.Layout.custom(5, [(0, 1), (1, 2), (2, 3), (3, 4)], center=2, name="chain")
    path = tmp_path / "custom.pt"
    torch.save(stgcn.STGCN(4, layout=layout).state_dict(), path)
    with pytest.raises(StgcnError, match="cannot tell the layout"):
        stgcn.load_model(path)
    assert stgcn.load_model(path, layout=layout).graph.layout == layout


def test_wrong_class_count_and_non_stgcn_files(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    torch.save(stgcn.STGCN(8).state_dict(), path)
    with pytest.raises(StgcnError, match="8 classes, not the 9"):
        stgcn.load_model(path, num_class=9)
    other = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(3)}, other)
    with pytest.raises(StgcnError, match="no installed model recognises these weights"):
        stgcn.load_model(other)


def test_initialise_from_keeps_fitting_tensors(tmp_path: Path) -> None:
    source = _randomise(stgcn.STGCN(400))
    path = tmp_path / "kinetics.pt"
    torch.save(source.state_dict(), path)
    target = stgcn.STGCN(10)
    skipped = initialise_from(target, str(path))
    assert skipped == ["fcn.bias", "fcn.weight"]
    assert torch.equal(
        target.st_gcn_networks[3].tcn[2].weight, source.st_gcn_networks[3].tcn[2].weight
    )


def test_learning_rate_schedules() -> None:
    step = RunConfig(lr=0.1, steps=[2, 4], epochs=6)
    assert [round(learning_rate(step, e), 6) for e in range(6)] == [
        0.1,
        0.1,
        0.01,
        0.01,
        0.001,
        0.001,
    ]
    cosine = RunConfig(lr=0.1, lr_schedule="cosine", epochs=10)
    assert learning_rate(cosine, 0) == pytest.approx(0.1)
    assert learning_rate(cosine, 5) == pytest.approx(0.05)
    assert learning_rate(cosine, 10) == pytest.approx(0.0, abs=1e-12)
    warm = RunConfig(lr=0.1, warmup_epochs=2, steps=[50])
    assert learning_rate(warm, 1.0) == pytest.approx(0.05, rel=1e-2)
    assert learning_rate(warm, 2.0) == pytest.approx(0.1)


def _not_checkpoints(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files users mistake for checkpoints -> (the file, what the error line calls it)."""
    import pickle
    import zipfile

    import numpy as np

    made: dict[str, tuple[Path, str]] = {}
    hands = folder / "hands.pkl"  # a pose estimator's output, protocol 4 (torch warns of it)
    hands.write_bytes(pickle.dumps({"keypoints": np.zeros((2, 21, 3))}, protocol=4))
    made["pickle"] = (hands, "a Python pickle, not a stgcn or PyTorch checkpoint")
    notes = folder / "notes.txt"
    notes.write_text("not a checkpoint\n")
    made["text"] = (notes, "not a stgcn or PyTorch checkpoint")
    whole = folder / "whole.pt"  # torch.save of a module: unpickling it runs code
    torch.save(torch.nn.Linear(2, 2), whole)
    made["pickled module"] = (whole, "a PyTorch file holding Python objects")
    cut = folder / "cut.pth.tar"
    data = (folder / "whole.pt").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    made["truncated"] = (cut, "a damaged or truncated zip archive")
    arrays = folder / "arrays.npz"
    np.savez(arrays, a=np.zeros(3))
    assert zipfile.is_zipfile(arrays)
    made["npz"] = (arrays, "a zip archive (an .npz, say), not a stgcn or PyTorch checkpoint")
    empty = folder / "empty.pt"
    empty.write_bytes(b"")
    made["empty"] = (empty, "the file is empty")
    return made


def test_a_file_that_is_no_checkpoint_is_named_in_one_whole_line(tmp_path: Path) -> None:
    for path, what in _not_checkpoints(tmp_path).values():
        with pytest.raises(StgcnError) as raised:
            stgcn.load_model(path)
        message = str(raised.value)
        assert message.startswith(f"{path} is not a readable checkpoint: "), message
        assert what in message and "\n" not in message
        assert "weights_only" not in message and "Re-running" not in message, message


@pytest.mark.parametrize(
    "command",
    [("eval", "--checkpoint"), ("info",), ("info", "--checkpoint")],
    ids=["eval", "info CHECKPOINT", "info --checkpoint"],
)
def test_commands_refuse_a_file_that_is_no_checkpoint_in_one_line(tmp_path, command) -> None:
    import warnings

    from stgcn.testing.helpers import stgcn_in_process

    for path, what in _not_checkpoints(tmp_path).values():
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            ran = stgcn_in_process(*command, str(path))
        assert ran.returncode == 1
        (line,) = ran.stderr.splitlines()
        assert line.startswith(f"stgcn: error: {path} is not a readable checkpoint: "), line
        assert what in line and "Re-running" not in line, line
        assert [str(w.message) for w in shown] == []


def test_an_untrusted_pickle_in_a_torch_file_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    torch.save({"model": _Payload(str(marker))}, evil)
    with pytest.raises(StgcnError, match="holding Python objects"):
        stgcn.load_model(evil)
    assert not marker.exists()


class _Payload:
    """Unpickled, it would create ``marker``: what a malicious checkpoint does."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))

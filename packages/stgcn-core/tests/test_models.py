"""The ``models`` kind: ST-GCN registered through the core's own plugin, its options
given with ``--model-option`` (and ``--dropout``, ``--init``, as before), and a third
party's network, in its own installed package, trained, evaluated, described, exported
and predicted with, its checkpoint naming it and its bare state_dict recognised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import stgcn
from stgcn.errors import StgcnError
from stgcn.model.contract import ModelSpec, SkeletonModel, check_model
from stgcn.networks.loading import build_named, model_named, registered_name
from stgcn.plugins import registry as plugins
from stgcn.plugins.layouts import layout_named
from stgcn.records import MODELS
from stgcn.testing.helpers import make_distribution, run_stgcn

SMALL = ("--data-option", "train_size=16", "--data-option", "val_size=8", "--batch-size", "8")

#: a third party's network: per-joint features, a temporal convolution, a linear head;
#: its keys (``embed``, ``temporal``, ``classify``) are how it recognises its own weights
MODEL_PLUGIN = """
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from stgcn.hookspecs import hookimpl
from stgcn.plugins.settings import Settings, option
from stgcn.records import Model, ModelSpec

STGCN_API = ">=2.2,<3"


@dataclass(frozen=True)
class TinyOptions(Settings):
    family: ClassVar[str] = "model tiny"
    hidden: int = option(16, "features per joint", least=1)


class Tiny(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.num_class, self.in_channels, self.persons = (
            spec.num_class, spec.in_channels, spec.persons)
        hidden = spec.options.hidden
        self.embed = nn.Conv2d(spec.in_channels, hidden, 1)
        self.temporal = nn.Conv2d(hidden, hidden, (3, 1), padding=(1, 0))
        self.classify = nn.Linear(hidden, spec.num_class)

    @property
    def layout(self):
        return self.spec.layout

    def input_shape(self, frames):
        return (self.in_channels, frames, self.layout.num_node, self.persons)

    def features(self, x):
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)
        return torch.relu(self.temporal(torch.relu(self.embed(x))))

    def head(self, features, persons):
        pooled = features.mean(dim=(2, 3)).view(-1, persons, features.shape[1]).mean(dim=1)
        return self.classify(pooled)

    def forward(self, x):
        return self.head(self.features(x), x.shape[4])

    def config(self):
        return {"num_class": self.num_class, "in_channels": self.in_channels,
                "layout": self.layout.to_dict(), "persons": self.persons,
                "hidden": self.spec.options.hidden}


def recognise(request):
    weights = request.weights
    if "embed.weight" not in weights or "classify.weight" not in weights:
        return None
    hidden, channels = weights["embed.weight"].shape[:2]
    layout = request.layout or next(
        layout for layout in request.layouts if layout.name == "openpose")
    return ModelSpec(int(weights["classify.weight"].shape[0]), int(channels), layout,
                     options=TinyOptions(hidden=int(hidden)))


@hookimpl
def stgcn_register_models(register):
    register(Model(name="tiny", build=Tiny, description="a one-block test network",
                   options=TinyOptions, recipe={"weight_decay": 0.0005, "lr": 0.5},
                   recognise=recognise))
"""


def _install(site: Path) -> None:
    make_distribution(site, "stgcn-model-tiny", "0.1", "fake_tiny_model", MODEL_PLUGIN)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["model"]


def test_stgcn_is_the_core_plugins_model_with_its_options() -> None:
    registry = plugins.get_registry()
    model = registry.get(MODELS, "stgcn")
    assert registry.owner_of(MODELS, "stgcn").distribution == "stgcn-core"
    assert model.options.keys() == [
        "strategy",
        "edge_importance_weighting",
        "dropout",
        "init",
        "max_hop",
        "dilation",
    ]
    listed = run_stgcn("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    core = {row["name"]: row for row in json.loads(listed.stdout)}["stgcn-core"]
    (row,) = core["models"]
    assert row["name"] == "stgcn" and row["recognises_foreign_weights"] is True
    assert "dropout" in row["options"]


def test_the_stgcn_network_meets_the_contract_and_records_its_name() -> None:
    spec = ModelSpec(5, 3, layout_named("coco"), persons=1)
    network = build_named("stgcn", spec)
    assert isinstance(network, SkeletonModel) and registered_name(network) == "stgcn"
    assert network.input_shape(30) == (3, 30, 17, 1)
    x = torch.randn(2, *network.input_shape(12))
    assert torch.equal(network.head(network.features(x), 1), network(x))
    config = network.config()
    assert (config["persons"], config["strategy"], config["layout"]["num_node"]) == (
        1,
        "spatial",
        17,
    )


def test_a_builder_that_breaks_the_contract_is_refused_in_one_line() -> None:
    with pytest.raises(StgcnError, match=r"model 'x' built a dict, not a torch\.nn\.Module"):
        check_model({}, "model 'x'")
    with pytest.raises(StgcnError, match="without num_class, in_channels, persons, layout"):
        check_model(torch.nn.Linear(2, 2), "model 'x'")


def test_model_stgcn_is_todays_run_and_the_flags_set_its_options(tmp_path: Path) -> None:
    """``--model stgcn`` changes nothing; ``--dropout`` is ``--model-option dropout=``."""
    runs = {
        "plain": ("--dropout", "0.3"),
        "named": ("--model", "stgcn", "--dropout", "0.3"),
        "option": ("--model-option", "dropout=0.3"),
    }
    for name, extra in runs.items():
        done = run_stgcn(
            "run", "--epochs", "1", "--seed", "3", *SMALL, *extra,
            "--work-dir", str(tmp_path / name),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    best = {name: tmp_path / name / "checkpoints" / "best.pth.tar" for name in runs}
    plain = _weights(best["plain"])
    for name in ("named", "option"):
        other = _weights(best[name])
        assert all(torch.equal(plain[key], other[key]) for key in plain), name
    stored = torch.load(best["option"], weights_only=True)
    assert stored["model_name"] == "stgcn" and stored["model_config"]["dropout"] == 0.3


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (("--model", "nope"), "unknown model 'nope'; known models: "),
        (("--model-option", "depth=3"), "unknown option 'depth'"),
        (("--model-option", "dropout=2"), "dropout"),
        (("--model-option", "strategy=star"), "strategy"),
    ],
)
def test_a_bad_model_or_option_is_one_line_before_anything_is_written(
    tmp_path: Path, extra: tuple[str, ...], fragment: str
) -> None:
    work = tmp_path / "run"
    done = run_stgcn("run", "--epochs", "1", *SMALL, *extra, "--work-dir", str(work))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("stgcn: error: ") and fragment in line, line
    assert not work.exists()


def test_a_third_party_model_trains_evaluates_exports_and_predicts(site, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    _install(site)
    listed = run_stgcn("plugins", "--json", site=site)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["stgcn-model-tiny"]["models"][0]["options"] == ["hidden"]

    work = tmp_path / "tiny"
    trained = run_stgcn(
        "run", "--model", "tiny", "--model-option", "hidden=8", "--epochs", "1", *SMALL,
        "--work-dir", str(work), site=site,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    best = work / "checkpoints" / "best.pth.tar"
    stored = torch.load(best, weights_only=True)
    assert stored["model_name"] == "tiny" and stored["model_config"]["hidden"] == 8
    # the model's recipe, under the dataset's (which sets lr, not weight_decay)
    assert (stored["config"]["weight_decay"], stored["config"]["lr"]) == (0.0005, 0.005)
    assert set(stored["model"]) == {
        "embed.weight", "embed.bias", "temporal.weight", "temporal.bias",
        "classify.weight", "classify.bias",
    }  # fmt: skip

    evaluated = run_stgcn("eval", "--checkpoint", str(best), site=site)
    assert evaluated.returncode == 0, evaluated.stderr
    info = run_stgcn("info", str(best), "--json", site=site)
    assert info.returncode == 0, info.stderr
    facts = json.loads(info.stdout)
    assert (facts["model"], facts["joints"], facts["strategy"]) == ("tiny", 18, None)

    exported = tmp_path / "tiny.onnx"
    done = run_stgcn("export", "onnx", "--checkpoint", str(best), "--output", str(exported),
                     site=site)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import onnx

    metadata = {prop.key: prop.value for prop in onnx.load(exported).metadata_props}
    assert metadata["stgcn.model"] == "tiny"
    assert json.loads(metadata["stgcn.model_config"])["hidden"] == 8

    clip = tmp_path / "clip.npy"
    sample = np.random.default_rng(0).normal(size=(3, 8, 18, 2)).astype(np.float32)
    np.save(clip, sample)
    expected = stgcn.load_model(best)(torch.from_numpy(sample[None]))[0]
    for source in (("--checkpoint", str(best)), ("--onnx", str(exported))):
        predicted = run_stgcn("predict", *source, "--input", str(clip), "--json", site=site)
        assert predicted.returncode == 0, predicted.stderr
        top = json.loads(predicted.stdout)["top"][0]
        assert top["class"] == int(expected.argmax())

    # a bare state_dict of it is recognised by the model whose keys it has
    bare = tmp_path / "bare.pt"
    torch.save(stored["model"], bare)
    described = run_stgcn("info", str(bare), "--json", site=site)
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["model"] == "tiny"
    again = run_stgcn("predict", "--checkpoint", str(bare), "--input", str(clip), "--json",
                      site=site)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["top"][0]["class"] == int(expected.argmax())

    # run --weights trains the network the weights are for, with no --model
    tuned = tmp_path / "tuned"
    ran = run_stgcn("run", "--weights", str(bare), "--epochs", "1", *SMALL,
                    "--work-dir", str(tuned), site=site)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (
        torch.load(tuned / "checkpoints" / "best.pth.tar", weights_only=True)["model_name"]
        == "tiny"
    )

    # a model a config file names wins over the one the weights are for (none of tiny's
    # tensors fit ST-GCN: one line, before training)
    named = tmp_path / "run.toml"
    named.write_text('model = "stgcn"\n')
    kept = run_stgcn("run", "--config", str(named), "--weights", str(bare), "--epochs", "1",
                     *SMALL, "--work-dir", str(tmp_path / "named"), site=site)  # fmt: skip
    assert kept.returncode != 0 and "no tensor in" in kept.stderr, kept.stderr

    # ST-GCN's own flags that the model lacks are refused, not ignored
    refused = run_stgcn(
        "run", "--model", "tiny", "--dropout", "0.5", "--epochs", "1", *SMALL,
        "--work-dir", str(tmp_path / "refused"), site=site,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "model tiny has no option 'dropout' (set by --dropout)" in refused.stderr


def test_weights_no_model_recognises_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(2, 2)}, path)
    done = run_stgcn("info", str(path))
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    # ST-GCN first, then any other installed model (stgcn-models' in the nox sessions)
    assert line.startswith(
        "stgcn: error: no installed model recognises these weights (keys encoder.weight); "
        "installed models: stgcn"
    ), line
    assert model_named("stgcn").recognise is not None

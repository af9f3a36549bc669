"""Each registered exporter is ``stgcn export NAME``, made from its record: a TorchScript
exporter written by a third party with no click code gets the shared options
(``--checkpoint``, ``--output``, a bare state_dict's ``--layout``/``--strategy``/
``--num-class``, ``--dataset``), its own options from its settings family, the refusals
and its report printed; an exporter without settings takes ``--option KEY=VALUE``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import stgcn
from stgcn.testing.helpers import make_distribution, stgcn_in_process

#: a third party's exporters, written from docs/plugins.md: TorchScript through
#: torch.jit.trace (checked by loading the file back), and the weights as an .npz that
#: takes its options as KEY=VALUE pairs
EXPORTER_PLUGIN = """
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from stgcn.hookspecs import hookimpl
from stgcn.plugins.settings import Flag, Settings, option
from stgcn.records import Exporter, ExportRequest

STGCN_API = ">=2,<3"


@dataclass(frozen=True)
class TorchScriptOptions(Settings):
    family: ClassVar[str] = "torchscript exporter"
    frames: int | None = option(None, Flag("Example frames. Default: the trained clips'."), least=1)
    check: bool = option(True, Flag("Load the file back and compare it with PyTorch."))
    seed: int = option(0, "the example's seed: for programs, no option of the command")


@dataclass(frozen=True)
class Written:
    path: Path
    shape: tuple
    error: float | None

    def lines(self):
        checked = "not checked" if self.error is None else f"max difference {self.error:.1e}"
        return [f"wrote {self.path}: TorchScript, traced at {self.shape}", checked]


def export_torchscript(request: ExportRequest) -> Written:
    settings = TorchScriptOptions.parse(request.options)
    model = request.model
    frames = settings.frames or request.frames or 16
    shape = (1, model.in_channels, frames, model.A.shape[1], request.persons)
    example = torch.randn(shape, generator=torch.Generator().manual_seed(settings.seed))
    temporary = request.output.with_name(request.output.name + ".partial")
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(model, example), str(temporary))
    error = None
    if settings.check:
        with torch.no_grad():
            error = float((torch.jit.load(str(temporary))(example) - model(example)).abs().max())
    os.replace(temporary, request.output)
    return Written(request.output, shape, error)


@dataclass(frozen=True)
class Arrays:
    path: Path
    dtype: str

    def lines(self):
        return [f"wrote {self.path} ({self.dtype})"]


def export_npz(request: ExportRequest) -> Arrays:
    dtype = request.options.get("dtype", "float32")
    arrays = {k: v.numpy().astype(dtype) for k, v in request.model.state_dict().items()}
    with open(request.output, "wb") as stream:
        np.savez(stream, **arrays)
    return Arrays(request.output, dtype)


def export_nothing(request):
    return None


def export_badly(request):
    raise KeyError("no such layer")


@hookimpl
def stgcn_register_exporters(register):
    register(Exporter(name="torchscript", export=export_torchscript, suffix=".pt",
                      description="TorchScript, checked by loading it back",
                      settings=TorchScriptOptions))
    register(Exporter(name="npz", export=export_npz, suffix=".npz"))
    register(Exporter(name="nothing", export=export_nothing))
    register(Exporter(name="badly", export=export_badly, suffix=".bin"))
"""

#: an exporter whose settings take the name of an option every export has
CLASHING_PLUGIN = """
from dataclasses import dataclass

from stgcn.hookspecs import hookimpl
from stgcn.plugins.settings import Flag, Settings, option
from stgcn.records import Exporter


@dataclass(frozen=True)
class Clash(Settings):
    output: str = option("x", Flag("the output again"))


@hookimpl
def stgcn_register_exporters(register):
    register(Exporter(name="clash", export=lambda request: None, settings=Clash))
"""


@pytest.fixture
def exporters(site: Path) -> Path:
    make_distribution(site, "stgcn-export-mine", "0.2", "fake_exporters", EXPORTER_PLUGIN)
    return site


def one_error_line(ran, *fragments: str) -> str:
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_a_registered_exporter_is_a_command_with_no_click_code(exporters, checkpoint, tmp_path):
    out = tmp_path / "model.pt"
    ran = stgcn_in_process(
        "export", "torchscript", "--checkpoint", str(checkpoint), "--output", str(out)
    )
    assert ran.returncode == 0, ran.stderr
    # the request carried the frames of the clips the model was trained on (12)
    wrote, checked = ran.stdout.splitlines()
    assert wrote.startswith(f"wrote {out}: TorchScript, traced at (1, 3, 12, 18, "), wrote
    assert checked.startswith("max difference "), checked
    assert float(checked.split()[-1]) < 1e-4
    loaded = torch.jit.load(str(out))
    model = stgcn.load_model(checkpoint)
    clip = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 3, 12, 18, 2), np.float32))
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), model(clip), rtol=1e-4, atol=1e-5)


def test_its_own_options_come_from_its_settings(exporters, checkpoint, tmp_path) -> None:
    help_text = stgcn_in_process("export", "torchscript", "--help").stdout
    for flag in ("--checkpoint", "--output", "--frames", "--check / --no-check", "--dataset"):
        assert flag in help_text, help_text
    assert "--layout" in help_text and "--num-class" in help_text
    out = tmp_path / "short.pt"
    args = ["--checkpoint", str(checkpoint), "--output", str(out)]
    ran = stgcn_in_process("export", "torchscript", *args, "--frames", "8", "--no-check")
    assert ran.returncode == 0, ran.stderr
    assert "traced at (1, 3, 8, 18, " in ran.stdout and ran.stdout.endswith("not checked\n")
    bad = stgcn_in_process("export", "torchscript", *args, "--frames", "0")
    one_error_line(bad, "torchscript exporter: option frames must be at least 1, got 0")
    for unknown in ("--opset", "--seed"):  # another exporter's; a field for programs only
        ran = stgcn_in_process("export", "torchscript", *args, unknown, "11")
        one_error_line(ran, f"No such option '{unknown}'")


def test_the_shared_refusals_and_a_bare_state_dict(exporters, checkpoint, tmp_path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    kept = stgcn_in_process(
        "export", "torchscript", "--checkpoint", str(checkpoint), "--output", str(notes)
    )
    one_error_line(kept, f"{notes} exists and is not a .pt file; not overwriting it")
    assert notes.read_text() == "keep me\n"
    itself = stgcn_in_process(
        "export", "torchscript", "--checkpoint", str(checkpoint), "--output", str(checkpoint)
    )
    one_error_line(itself, "the checkpoint itself")
    folder = stgcn_in_process(
        "export", "torchscript", "--checkpoint", str(checkpoint), "--output", str(tmp_path)
    )
    one_error_line(folder, "is a folder; give a file name such as model.pt")
    bare = tmp_path / "bare.pth"
    torch.save(torch.load(checkpoint, weights_only=True)["model"], bare)
    older = tmp_path / "older.pt"
    older.write_bytes(b"an older export")
    args = ["--checkpoint", str(bare), "--output", str(older), "--frames", "6"]
    ran = stgcn_in_process("export", "torchscript", *args, "--num-class", "10")
    assert ran.returncode == 0, ran.stderr  # an older export of its kind is replaced
    assert torch.jit.load(str(older)) is not None
    wrong = stgcn_in_process("export", "torchscript", *args, "--num-class", "9")
    one_error_line(wrong, "10 classes, not the 9 asked for")


def test_an_exporter_without_settings_takes_key_value_pairs(exporters, checkpoint, tmp_path):
    out = tmp_path / "weights.npz"
    args = ["export", "npz", "--checkpoint", str(checkpoint), "--output", str(out)]
    ran = stgcn_in_process(*args, "--option", "dtype=float16")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"wrote {out} (float16)\n"
    with np.load(out) as arrays:
        assert arrays["fcn.weight"].dtype == np.float16
    one_error_line(stgcn_in_process(*args, "--option", "float16"), "--option expects KEY=VALUE")
    # no suffix declared: an existing file is never replaced
    again = tmp_path / "again"
    again.write_text("x")
    one_error_line(
        stgcn_in_process(
            "export", "nothing", "--checkpoint", str(checkpoint), "--output", str(again)
        ),
        f"{again} exists; not overwriting it",
    )


def test_an_exporters_failure_is_one_line_naming_it(exporters, checkpoint, tmp_path) -> None:
    args = ["--checkpoint", str(checkpoint), "--output", str(tmp_path / "out.bin")]
    one_error_line(
        stgcn_in_process("export", "badly", *args),
        "exporter 'badly' (plugin stgcn-export-mine) failed in export: KeyError: 'no such layer'",
    )
    one_error_line(
        stgcn_in_process("export", "nothing", *args),
        "exporter 'nothing' returned NoneType, not an ExportReport",
    )


def test_the_commands_are_listed_as_the_exporters_plugins(exporters, site) -> None:
    make_distribution(site, "stgcn-export-clash", "0.1", "fake_clash", CLASHING_PLUGIN)
    listing = json.loads(stgcn_in_process("plugins", "--json").stdout)
    rows = {row["name"]: row for row in listing}
    mine = rows["stgcn-export-mine"]
    names = {"torchscript", "npz", "nothing", "badly"}
    assert {e["name"] for e in mine["exporters"]} == names
    # the group itself where this plugin's exporter made it, else one command each
    each = sorted(f"export {name}" for name in names)
    assert mine["commands"] in (["export"], each), mine["commands"]
    assert mine["errors"] == []
    (error,) = rows["stgcn-export-clash"]["errors"]
    assert "settings field 'output' is an option every export has" in error["error"]
    exports = stgcn_in_process("export", "--help").stdout
    assert "torchscript" in exports and "clash" not in exports

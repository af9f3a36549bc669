"""How ``nox -s tests-bf16-cpu`` finds the tests to run again as on a CPU with native
bf16: ``nox -s tests`` records the tests that ask whether the processor has native bf16
(``--record-precision-tests``, :mod:`stgcn.testing.precision_probe`), and the bf16
session runs only those (``--only-precision-tests``) under the stand-in.

The first test is the session's power shown on a mutant: a test that silently assumes
the cpu backend trains in fp32 passes on an AVX2 machine, is recorded, and fails under
the stand-in; a test that asks for fp32 itself is not recorded, since it runs the same
everywhere.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from stgcn.testing import precision_probe
from stgcn.testing.helpers import command_environment

STAND_IN = Path(__file__).resolve().parents[3] / "tools" / "native_bf16_stand_in"

MUTANTS = """
import json

from stgcn.testing.helpers import stgcn_in_process

TINY = ["--frames", "8", "--batch-size", "2", "--steps", "1", "--warmup", "0", "--json"]


def test_the_default_trains_in_fp32():
    # the mutant: true where the processor has no native bf16, false on a Zen 5
    done = stgcn_in_process("bench", *TINY)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["precision"] == "fp32"


def test_fp32_asked_for_trains_in_fp32():
    done = stgcn_in_process("bench", *TINY, "--precision", "fp32")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["precision"] == "fp32"
"""


def pytest_run(folder: Path, *args: str, python_path: str = "") -> subprocess.CompletedProcess:
    # the nested runs' asks are what this test checks, not something it depends on: they
    # are kept out of this test's own record
    environment = command_environment(unset=[precision_probe.LOG_VARIABLE])
    if python_path:
        environment["PYTHONPATH"] = python_path + ":" + environment.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "pytest", "-p", "stgcn.testing.pytest_plugin"]
    return subprocess.run(
        [*command, "-p", "no:cacheprovider", "-rA", *args, str(folder)],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=600,
    )


def test_a_test_assuming_fp32_is_recorded_and_fails_under_the_stand_in(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_mutants.py").write_text(textwrap.dedent(MUTANTS))
    record = tmp_path / "precision-tests.txt"

    pytest_run(folder, f"--record-precision-tests={record}")
    assert record.read_text().split() == ["test_mutants.py::test_the_default_trains_in_fp32"]

    again = pytest_run(folder, f"--only-precision-tests={record}", python_path=str(STAND_IN))
    assert again.returncode == 1, again.stdout
    assert "FAILED test_mutants.py::test_the_default_trains_in_fp32" in again.stdout
    assert "'bf16' == 'fp32'" in again.stdout  # failed for the precision, not otherwise
    assert "1 failed, 1 deselected" in again.stdout


def test_a_recorded_module_or_folder_selects_every_test_in_it(tmp_path: Path) -> None:
    from stgcn.testing.pytest_plugin import OnlyPrecisionTests

    record = tmp_path / "record.txt"
    record.write_text("a/b/test_x.py\na/test_y.py::Case\na/test_z.py::test_one[1]\n")
    only = OnlyPrecisionTests(record)
    assert only.selected("a/b/test_x.py::test_anything[p]")
    assert only.selected("a/test_y.py::Case::test_method")
    assert only.selected("a/test_z.py::test_one[1]")
    assert not only.selected("a/test_z.py::test_one[2]")
    assert not only.selected("a/test_y.py::test_outside_the_class")
    record.write_text("a/b\n")
    assert OnlyPrecisionTests(record).selected("a/b/test_x.py::test_anything")
    assert not OnlyPrecisionTests(record).selected("a/bc/test_x.py::test_anything")


WIDENED_CONVOLUTION = """
import sys

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

native = sys.argv[1] == "native"
# the machine's own answer, read by the stand-in at the first convolution
torch.cpu.get_capabilities = lambda: {"avx512_bf16": native}


class ConvolutionDtypes(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.name().startswith("aten::convolution"):
            self.seen.append(str(args[1].dtype))
        return func(*args, **(kwargs or {}))


torch.manual_seed(0)
conv = torch.nn.Conv2d(16, 32, kernel_size=(9, 1), padding=(4, 0))
x = torch.randn(4, 16, 20, 18)
with ConvolutionDtypes() as dtypes, torch.autocast("cpu", dtype=torch.bfloat16):
    out = conv(x)
out.float().sum().backward()
assert torch.cpu._is_avx512_bf16_supported() and out.dtype == torch.bfloat16
expected = "torch.bfloat16" if native else "torch.float32"
assert dtypes.seen == [expected], dtypes.seen
operands = [t.to(torch.bfloat16).float() for t in (x, conv.weight, conv.bias)]
widened = F.conv2d(*operands, padding=(4, 0)).to(torch.bfloat16)
with torch.autocast("cpu", dtype=torch.bfloat16):
    direct = F.conv2d(x, conv.weight, conv.bias, padding=(4, 0))
torch.testing.assert_close(out.float(), direct.float(), rtol=2e-2, atol=2e-2)
if not native:
    assert torch.equal(out, widened)
assert conv.weight.grad is not None and conv.weight.grad.dtype == torch.float32
print("ok")
"""


def test_the_stand_in_widens_bf16_convolutions_only_without_native_bf16(tmp_path: Path) -> None:
    """Without native bf16 the stand-in computes a bf16 convolution as oneDNN's does on the
    machines it stands in for (bf16 operands, fp32 accumulation, bf16 output), which is
    within bf16 rounding of torch's own slow path; with native bf16 it leaves it alone."""
    script = tmp_path / "widened.py"
    script.write_text(WIDENED_CONVOLUTION)
    environment = command_environment(env={"PYTHONPATH": str(STAND_IN)})
    for machine in ("avx2", "native"):
        done = subprocess.run(
            [sys.executable, str(script), machine],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        assert done.returncode == 0 and done.stdout.strip() == "ok", (machine, done.stderr)

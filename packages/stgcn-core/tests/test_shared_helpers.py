"""The pieces that replaced copies: class-name choice, the autocast table, the test kit's
helpers importable without pytest."""

from __future__ import annotations

import subprocess
import sys

import torch

from stgcn.data.class_names import class_names, class_names_or_numbers
from stgcn.plugins.backend import AUTOCAST_DTYPES, autocast_for


def test_the_first_names_that_fit_are_taken() -> None:
    assert class_names(2, None, ["a"], ("b", "c"), ["d", "e"]) == ["b", "c"]
    assert class_names(3, None, ["a"]) is None
    assert class_names_or_numbers(2, ["a", "b", "c"]) == ["class 0", "class 1"]
    assert class_names_or_numbers(2, None, ("x", "y")) == ["x", "y"]


def test_mixed_precisions_cast_and_fp32_does_not() -> None:
    assert dict(AUTOCAST_DTYPES) == {"bf16": torch.bfloat16, "fp16": torch.float16}
    with autocast_for("cpu", "bf16"):
        assert torch.is_autocast_enabled("cpu")
    with autocast_for("cpu", "fp32"):
        assert not torch.is_autocast_enabled("cpu")


def test_the_helpers_import_without_pytest() -> None:
    code = "import stgcn.testing.helpers, sys; print('pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr

"""The cases of issue 46 ("bad input, third round"), each through the command in this
interpreter: whatever the user typed or pointed at is refused in one ``stgcn: error:``
line naming it, with a non-zero exit, before any work dir is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from stgcn.testing.helpers import Ran, stgcn_in_process


def assert_refused(ran: Ran, line: str) -> None:
    """Exit 1 and exactly ``stgcn: error: {line}`` on stderr (no traceback, no other)."""
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert ran.stderr.splitlines() == [f"stgcn: error: {line}"]


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "d.toml"
    config.write_bytes(b"nonsense\x00\xff")
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--config", str(config), "--work-dir", str(work))
    assert_refused(ran, f"config file {config} is not UTF-8 text (byte 9); save it as UTF-8")
    assert not work.exists()


def test_an_unreadable_config_file_is_one_line(tmp_path: Path) -> None:
    """A name that is a folder is "not found"; a dangling link is too."""
    link = tmp_path / "run.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    ran = stgcn_in_process("run", "--config", str(link), "--work-dir", str(tmp_path / "w"))
    assert_refused(ran, f"config file not found: {link}")


@pytest.mark.parametrize(
    ("seed", "shown"),
    [
        ("99999999999999999999999", "99999999999999999999999"),  # the issue's
        ("4294967296", "4294967296"),  # one past numpy's 32 bits
        ("-1", "-1"),
        ("9" * 60, "9" * 37 + "..."),  # cut short in the line
    ],
)
def test_a_seed_out_of_range_is_one_line_before_any_work(
    tmp_path: Path, seed: str, shown: str
) -> None:
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--seed", seed, "--work-dir", str(work))
    assert_refused(ran, f"options: seed must lie in [0, 4294967295], got {shown}")
    assert not work.exists()


def test_a_seed_out_of_range_in_a_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("seed: 18446744073709551616\n")
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--config", str(config), "--work-dir", str(work))
    assert_refused(ran, f"{config}: seed must lie in [0, 4294967295], got 18446744073709551616")
    assert not work.exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--lr", "1e400"], "options: lr expects a finite number, got inf"),
        (["--lr", "-inf"], "options: lr expects a finite number, got -inf"),
        (["--weight-decay", "inf"], "options: weight_decay expects a finite number, got inf"),
        (["--weight-decay", "nan"], "options: weight_decay expects a finite number, got nan"),
        (["--warmup-epochs", "1e309"], "options: warmup_epochs expects a finite number, got inf"),
    ],
)
def test_infinite_numbers_on_the_command_line_start_nothing(
    tmp_path: Path, args: list[str], line: str
) -> None:
    work = tmp_path / "w"
    ran = stgcn_in_process("run", *args, "--work-dir", str(work))
    assert_refused(ran, line)
    assert not work.exists()


@pytest.mark.parametrize(
    ("option", "line"),
    [
        ("frames=0", "synthetic dataset: option frames must lie in [1, 10000], got 0"),
        ("frames=-3", "synthetic dataset: option frames must lie in [1, 10000], got -3"),
        ("train_size=0", "synthetic dataset: option train_size must lie in [1, 1000000], got 0"),
        (
            "val_size=10000000000",
            "synthetic dataset: option val_size must lie in [1, 1000000], got 10000000000",
        ),
        ("seed=-1", "synthetic dataset: option seed must be at least 0, got -1"),
        ("frames=1e400", "synthetic dataset: option frames expects a whole number, got '1e400'"),
    ],
)
def test_a_bad_data_option_is_the_users_mistake_not_the_plugins(
    tmp_path: Path, option: str, line: str
) -> None:
    """Refused by the dataset's declared bounds, not by a ValueError in its generator
    that the core would report as the plugin's failure."""
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--data-option", option, "--work-dir", str(work))
    assert_refused(ran, line)
    assert "plugin" not in ran.stderr
    assert not work.exists()


@pytest.mark.parametrize("command", ["eval", "weights"])
@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"root:x:0:0:root:/root:/bin/bash\n", "not a stgcn or PyTorch checkpoint"),
        (b"PK\x03\x04garbage", "a damaged or truncated zip archive"),
    ],
)
def test_a_file_that_is_no_checkpoint_is_one_line_without_torchs_text(
    tmp_path: Path, command: str, content: bytes, why: str
) -> None:
    """``--weights /etc/passwd`` (a text file) and a corrupt checkpoint: what the file is
    instead, not torch's paragraph about ``weights_only`` or an IndexError's text."""
    path = tmp_path / "passwd"
    path.write_bytes(content)
    work = tmp_path / "w"
    if command == "eval":
        ran = stgcn_in_process("eval", "--checkpoint", str(path))
    else:
        ran = stgcn_in_process("run", "--weights", str(path), "--work-dir", str(work))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"stgcn: error: {path} is not a readable checkpoint: {why}"), line
    for leak in ("weights_only", "index out of range", "Weights only"):
        assert leak not in line
    assert not work.exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["run", "--lr", "1e300"],
            "options: lr expects a number within +-3.4e38 (float32), got 1e+300",
        ),
        (
            ["run", "--weight-decay", "1e300"],
            "options: weight_decay expects a number within +-3.4e38 (float32), got 1e+300",
        ),
        (
            ["run", "--batch-size", str(2**63)],
            f"options: batch_size must lie in [1, 2147483647], got {2**63}",
        ),
        (  # a missing --weights stops a regression before any worker starts
            ["run", "--workers", "9" * 23, "--weights", "/nonexistent/w.pt"],
            "options: workers must lie in [0, 1024], got 99999999999999999999999",
        ),
        (
            ["info", "--dataset", "synthetic", "--frames", "9" * 23],
            "--frames times --persons must be at most 36,000 (one sample is measured in memory)",
        ),
        (
            ["info", "--dataset", "synthetic", "--persons", "9" * 23],
            "--frames times --persons must be at most 36,000 (one sample is measured in memory)",
        ),
    ],
)
def test_what_the_fuzzer_found_is_one_line(tmp_path: Path, args: list[str], line: str) -> None:
    """Tracebacks the command-line fuzzer (test_properties_cli.py) found: torch's float
    overflow in the SGD step, islice's index limit, an allocation of tens of GB."""
    work = tmp_path / "w"
    extra = ["--work-dir", str(work)] if args[0] == "run" else []
    assert_refused(stgcn_in_process(*args, *extra), line)
    assert not work.exists()


def test_eval_refuses_a_batch_beyond_a_c_index(checkpoint: Path) -> None:
    ran = stgcn_in_process("eval", "--checkpoint", str(checkpoint), "--batch-size", str(2**63))
    assert ran.returncode == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith("stgcn: error: Invalid value for '--batch-size'"), line
    assert "1<=x<=2147483647" in line


def test_a_nul_in_a_config_files_path_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fuzzer: ``work_dir: "a\\0b"`` ended in "embedded null byte"."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "run.yaml"
    config.write_text('work_dir: "a\\0b"\n')
    ran = stgcn_in_process("run", "--config", str(config))
    assert_refused(ran, f"{config}: work_dir: a path cannot hold a NUL byte, got 'a\\x00b'")
    assert list(tmp_path.iterdir()) == [config]


def test_a_nul_in_an_argument_is_one_line(tmp_path: Path) -> None:
    """Only a program calling main() can pass one; no command gets to stat it."""
    ran = stgcn_in_process("report", str(tmp_path), "--output", "a\x00b")
    assert_refused(ran, "an argument holds a NUL byte, which no path or value can")


def test_a_list_as_the_dataset_in_a_config_file_is_one_line(tmp_path: Path) -> None:
    """Found by the fuzzer: the registry was asked for a YAML list as a name."""
    config = tmp_path / "run.yaml"
    config.write_text("dataset:\n- null\n")
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--config", str(config), "--work-dir", str(work))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert line.startswith("stgcn: error: unknown dataset '[None]'; known datasets:"), line
    assert not work.exists()

"""Finding the CANN libraries as the dynamic loader would, and saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from stgcn_backend_npu.cann import CANN_LIBRARIES, find_cann, find_library, loader_cache


def make_toolkit(root: Path, with_set_env: bool = True) -> Path:
    """A CANN-shaped folder: ascend-toolkit/{set_env.sh, latest/lib64/lib*.so}."""
    home = root / "ascend-toolkit" / "latest"
    (home / "lib64").mkdir(parents=True)
    for name in CANN_LIBRARIES:
        (home / "lib64" / name).write_bytes(b"")
    if with_set_env:
        (home.parent / "set_env.sh").write_text("export LD_LIBRARY_PATH=...\n")
    return home


def test_nothing_installed_says_install_and_source(tmp_path: Path) -> None:
    toolkit = find_cann({}, homes=[tmp_path / "absent"], system_dirs=[])
    assert toolkit.missing == ("libhccl.so", "libascendcl.so")
    assert toolkit.problem() == (
        "CANN toolkit not found (libhccl.so, libascendcl.so): install the CANN toolkit "
        "that matches torch-npu, then source its set_env.sh "
        "(usually /usr/local/Ascend/ascend-toolkit/set_env.sh)"
    )


def test_installed_but_not_sourced_names_the_script(tmp_path: Path) -> None:
    home = make_toolkit(tmp_path)
    toolkit = find_cann({}, homes=[tmp_path / "absent", home], system_dirs=[])
    assert toolkit.home == home
    assert toolkit.problem() == (
        f"CANN toolkit at {home} is not loaded (libhccl.so, libascendcl.so not on the "
        f"library path): source {home.parent / 'set_env.sh'}"
    )


def test_home_variable_wins_over_usual_places(tmp_path: Path) -> None:
    home = make_toolkit(tmp_path / "mine", with_set_env=False)
    (home / "set_env.sh").write_text("")
    other = make_toolkit(tmp_path / "usual")
    toolkit = find_cann({"ASCEND_TOOLKIT_HOME": str(home)}, homes=[other], system_dirs=[])
    assert toolkit.home == home and toolkit.set_env == home / "set_env.sh"


def test_dangling_home_variable_is_named(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    toolkit = find_cann({"ASCEND_HOME_PATH": str(gone)}, homes=[], system_dirs=[])
    assert f"ASCEND_HOME_PATH={gone} does not exist" in toolkit.problem()
    assert toolkit.problem().startswith("CANN toolkit not found (libhccl.so, libascendcl.so;")


def test_sourced_toolkit_is_found_through_ld_library_path(tmp_path: Path) -> None:
    home = make_toolkit(tmp_path)
    environ = {"LD_LIBRARY_PATH": f"{tmp_path / 'elsewhere'}:{home / 'lib64'}"}
    toolkit = find_cann(environ, homes=[], system_dirs=[])
    assert toolkit.libraries == {name: home / "lib64" / name for name in CANN_LIBRARIES}
    assert toolkit.problem() is None


def test_one_library_missing_is_the_one_named(tmp_path: Path) -> None:
    home = make_toolkit(tmp_path)
    (home / "lib64" / "libhccl.so").unlink()
    toolkit = find_cann({"LD_LIBRARY_PATH": str(home / "lib64")}, homes=[home], system_dirs=[])
    assert toolkit.missing == ("libhccl.so",)
    assert "(libhccl.so not on the library path)" in toolkit.problem()


def test_system_folders_are_searched_last(tmp_path: Path) -> None:
    (tmp_path / "libascendcl.so").write_bytes(b"")
    assert find_library("libascendcl.so", {}, system_dirs=[tmp_path]) == (
        tmp_path / "libascendcl.so"
    )


def test_loader_cache_is_read_from_ldconfig() -> None:
    cache = loader_cache()
    if not cache:
        pytest.skip("no ldconfig on this host")
    libc = cache.get("libc.so.6")
    assert libc is not None and libc.is_file()
    assert find_library("libc.so.6", {}, system_dirs=[]) == libc

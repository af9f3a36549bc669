"""Released weights by name (``stgcn_register_weights``): the catalogue, ``stgcn weights
list``, and the download into torch's hub cache, against a real HTTP server on 127.0.0.1
(the standard library's, in a thread, with ``Range`` support) serving a fixture
checkpoint: verified, cached, resumed after a broken connection, fetched once by two
processes at the same time, refused when wrong or when nothing answers; then ``run
--weights NAME`` and ``predict --checkpoint NAME``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from stgcn.errors import StgcnError
from stgcn.model.contract import ModelSpec
from stgcn.networks.loading import build_named, model_of_weights
from stgcn.networks.released import cached_path, weights_file
from stgcn.plugins import registry as plugins
from stgcn.plugins.layouts import layout_named
from stgcn.records import DATASETS, MODELS, WEIGHTS, Weights
from stgcn.system.download import lock_path, part_path
from stgcn.testing.helpers import (
    STGCN,
    TINY_RUN,
    command_environment,
    make_distribution,
    run_stgcn,
    stgcn_in_process,
)
from stgcn.testing.loopback import ServedFile, closed_port, serve_file
from stgcn.training.setup import ModelLookups, resolve_run_config

#: the fixture's classes: not the synthetic dataset's 10, so a run on it fine-tunes
FIXTURE_CLASSES = 5


@pytest.fixture(scope="module")
def fixture_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A bare ST-GCN state_dict as the reference releases them (openpose, 5 classes)."""
    network = build_named("stgcn", ModelSpec(FIXTURE_CLASSES, 3, layout_named("openpose")))
    path = tmp_path_factory.mktemp("fixture") / "fixture.pt"
    torch.save(network.state_dict(), path)
    return path.read_bytes()


@pytest.fixture
def served(fixture_checkpoint: bytes) -> Iterator[tuple[ServedFile, str]]:
    """The fixture checkpoint on a server at 127.0.0.1; its URL."""
    with serve_file(fixture_checkpoint) as state:
        yield state, state.url


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """torch's hub folder for this test (``TORCH_HOME``): the cache starts empty."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home / "hub" / "checkpoints"


CATALOGUE = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Weights

STGCN_API = ">=2.3,<3"

@hookimpl
def stgcn_register_weights(register):
    register(Weights(name="fixture-stgcn", model="stgcn", url={url!r},
                     source="https://example.org/released", layout="openpose",
                     num_class={classes}, dataset="synthetic", size={size!r},
                     sha256={sha256!r}, description="a test fixture"))
"""


def _catalogue(site: Path, url: str, size: int | None, sha256: str | None) -> Weights:
    """A test-only catalogue, registered by a plugin of its own as a third party would."""
    source = CATALOGUE.format(url=url, classes=FIXTURE_CLASSES, size=size, sha256=sha256)
    make_distribution(site, "stgcn-weights-fixture", "0.1", "fake_weights", source)
    return plugins.get_registry().get(WEIGHTS, "fixture-stgcn")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_core_catalogues_the_references_released_checkpoints() -> None:
    table = plugins.get_registry().table(WEIGHTS)
    kinetics = table["stgcn-kinetics"]
    assert (kinetics.model, kinetics.layout, kinetics.num_class) == ("stgcn", "openpose", 400)
    assert kinetics.sha256 == "6fa43f73"  # the digest's start, from the published file name
    assert kinetics.url.endswith("/st_gcn.kinetics-6fa43f73.pth")
    assert {table[name].num_class for name in ("stgcn-ntu-xsub", "stgcn-ntu-xview")} == {60}
    assert all(record.source.startswith("https://") for record in table.values())


def test_a_record_with_a_bad_digest_or_url_is_refused() -> None:
    good = Weights("w", "stgcn", "https://x/w.pt", "https://x", "openpose", 1, "d")
    with pytest.raises(StgcnError, match="sha256 must be 8 to 64 lower-case hex digits"):
        dataclasses.replace(good, sha256="XYZ")
    with pytest.raises(StgcnError, match="url must be http"):
        dataclasses.replace(good, url="ftp://x/w.pt")
    with pytest.raises(StgcnError, match="size must be positive"):
        dataclasses.replace(good, size=0)


def test_a_download_is_verified_cached_and_not_fetched_again(
    site: Path, served: tuple[ServedFile, str], cache: Path
) -> None:
    state, url = served
    record = _catalogue(site, url, len(state.body), _sha256(state.body))
    path = Path(weights_file("fixture-stgcn"))
    assert path == cache / "fixture-stgcn.pt" == cached_path(record)
    assert path.read_bytes() == state.body
    assert not part_path(path).exists()
    assert weights_file("fixture-stgcn") == str(path)  # a cache hit: no second request
    assert state.ranges == [""]


def test_a_path_that_exists_stays_a_path_and_an_unknown_name_is_left_as_typed(
    site: Path, served: tuple[ServedFile, str], cache: Path, tmp_path: Path
) -> None:
    state, url = served
    _catalogue(site, url, None, None)
    own = tmp_path / "fixture-stgcn"  # a file that happens to have the catalogue's name
    own.write_bytes(b"mine")
    assert weights_file(str(own)) == str(own)
    assert weights_file("no-such-weights") == "no-such-weights"
    assert state.ranges == []


@pytest.mark.parametrize("wrong", ["size", "sha256"])
def test_a_download_of_the_wrong_size_or_digest_is_refused_and_deleted(
    site: Path, served: tuple[ServedFile, str], cache: Path, wrong: str
) -> None:
    state, url = served
    size = len(state.body) + (1 if wrong == "size" else 0)
    digest = _sha256(b"another file") if wrong == "sha256" else _sha256(state.body)[:8]
    _catalogue(site, url, size, digest)
    with pytest.raises(StgcnError, match="the download was deleted") as refused:
        weights_file("fixture-stgcn")
    assert ("bytes where" if wrong == "size" else "not the expected") in str(refused.value)
    assert list(cache.iterdir()) == []  # neither the file nor a part of it


def test_a_broken_connection_keeps_the_part_and_the_next_try_resumes_it(
    site: Path, served: tuple[ServedFile, str], cache: Path
) -> None:
    state, url = served
    _catalogue(site, url, len(state.body), _sha256(state.body))
    destination = cache / "fixture-stgcn.pt"
    state.mode = "break"
    with pytest.raises(StgcnError) as broke:
        weights_file("fixture-stgcn")
    line = str(broke.value)
    assert "\n" not in line
    assert f"could not download {url}: the connection broke before the end" in line
    assert f"put it at {destination}" in line
    assert not destination.exists()
    kept = part_path(destination).stat().st_size
    assert 0 < kept < len(state.body)

    state.mode = "whole"
    assert Path(weights_file("fixture-stgcn")).read_bytes() == state.body
    assert state.ranges == ["", f"bytes={kept}-"]
    assert not part_path(destination).exists()


def test_two_processes_fetching_the_same_weights_at_once_download_them_once(
    site: Path, served: tuple[ServedFile, str], cache: Path, tmp_path: Path
) -> None:
    """The second waits on the first's lock while the server holds the first's download
    half way, then finds the whole file: one request, one file, nothing else left."""
    state, url = served
    _catalogue(site, url, len(state.body), _sha256(state.body))
    destination = cache / "fixture-stgcn.pt"
    state.gate = threading.Event()
    try:
        first = _start_download(tmp_path / "first", site)
        _wait_for(lambda: _size(part_path(destination)) > 0, first, "the first to start")
        second = _start_download(tmp_path / "second", site)
        waiting = f"stgcn: waiting for another process's download of {destination}"
        said = tmp_path / "second.err"
        # without the lock the second would ask the server too, and never say it waits
        _wait_for(lambda: waiting in said.read_text() or len(state.ranges) > 1, second, "waiting")
        assert state.ranges == [""], said.read_text()
        assert lock_path(destination).is_file()
    finally:
        state.gate.set()
    for process, name in ((first, "first"), (second, "second")):
        assert process.wait(timeout=120) == 0, (tmp_path / f"{name}.err").read_text()
        assert (tmp_path / f"{name}.out").read_text() == f"{destination}\n"
    assert state.ranges == [""]
    assert destination.read_bytes() == state.body
    assert [path.name for path in cache.iterdir()] == [destination.name]  # no part, no lock


def _start_download(stem: Path, site: Path) -> subprocess.Popen[bytes]:
    """``stgcn weights download fixture-stgcn`` in the background, its output in files."""
    with stem.with_suffix(".out").open("wb") as out, stem.with_suffix(".err").open("wb") as err:
        return subprocess.Popen(
            [*STGCN, "weights", "download", "fixture-stgcn"],
            stdout=out,
            stderr=err,
            env=command_environment(site),
        )


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``condition`` until it holds; fail if ``process`` ends first or in a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"the process ended before {what} (its .err file says why)"
        assert time.monotonic() < deadline, f"no sign of {what} in a minute"
        time.sleep(0.05)


def test_no_server_at_all_is_one_line_naming_the_url_and_the_cache_path(
    site: Path, cache: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/released/fixture.pt"
    _catalogue(site, url, None, None)
    ran = stgcn_in_process("weights", "download", "fixture-stgcn")
    assert ran.returncode == 1
    lines = [line for line in ran.stderr.splitlines() if line.startswith("stgcn: error:")]
    assert len(lines) == 1, ran.stderr
    assert f"could not download {url}: " in lines[0]
    assert "Connection refused" in lines[0]
    assert f"put it at {cache / 'fixture-stgcn.pt'}" in lines[0]
    assert not cache.exists() or list(cache.iterdir()) == []
    unknown = stgcn_in_process("weights", "download", "no-such-weights")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("stgcn: error: unknown weights 'no-such-weights': ")


def test_weights_list_shows_the_catalogue_and_what_is_cached(
    site: Path, served: tuple[ServedFile, str], cache: Path
) -> None:
    state, url = served
    _catalogue(site, url, len(state.body), None)
    before = stgcn_in_process("weights", "list")
    assert before.returncode == 0, before.stderr
    header, *rows = before.stdout.splitlines()
    assert header.split() == ["NAME", "MODEL", "LAYOUT", "CLASSES", "DATASET", "SIZE", "CACHED"]
    fixture = next(row for row in rows if row.startswith("fixture-stgcn "))
    assert fixture.split()[:5] == ["fixture-stgcn", "stgcn", "openpose", "5", "synthetic"]
    assert fixture.split()[-1] == "no"
    assert any(row.startswith("stgcn-kinetics ") for row in rows)
    assert rows[-1] == f"cache: {cache}"

    assert stgcn_in_process("weights", "download", "fixture-stgcn").returncode == 0
    listed = json.loads(stgcn_in_process("weights", "list", "--json").stdout)
    entry = next(row for row in listed if row["name"] == "fixture-stgcn")
    assert entry["cached"] is True
    assert entry["size"] == len(state.body)
    assert (entry["url"], entry["path"]) == (url, str(cache / "fixture-stgcn.pt"))


def test_predict_and_run_take_the_name_and_a_run_on_other_classes_refreshes_the_head(
    site: Path, served: tuple[ServedFile, str], cache: Path, tmp_path: Path
) -> None:
    state, url = served
    _catalogue(site, url, len(state.body), _sha256(state.body))
    sample = tmp_path / "clip.npy"
    np.save(sample, np.random.default_rng(0).normal(size=(3, 20, 18, 2)).astype(np.float32))
    predicted = stgcn_in_process(
        "predict", "--checkpoint", "fixture-stgcn", "--input", str(sample), "--json"
    )
    assert predicted.returncode == 0, predicted.stderr
    assert "stgcn: downloading fixture-stgcn from" in predicted.stderr
    top = json.loads(predicted.stdout)["top"]
    assert sorted(entry["class"] for entry in top) == list(range(FIXTURE_CLASSES))
    assert state.ranges == [""]
    described = stgcn_in_process("info", "fixture-stgcn", "--json")
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["num_class"] == FIXTURE_CLASSES
    assert state.ranges == [""]  # the cached file

    work = tmp_path / "run"
    ran = run_stgcn(
        "run", *TINY_RUN, "--weights", "fixture-stgcn", "--work-dir", str(work), site=site
    )
    assert ran.returncode == 0, ran.stderr
    said = ran.stdout + ran.stderr
    assert (
        f"initialised from {cache / 'fixture-stgcn.pt'}; kept fresh: fcn.bias, fcn.weight" in said
    )
    assert state.ranges == [""]  # the run found it in the cache
    saved = torch.load(work / "checkpoints" / "best.pth.tar", weights_only=True)
    assert saved["model"]["fcn.weight"].shape[0] == 10  # the synthetic set's classes


def test_a_config_files_weights_name_is_fetched_and_chooses_the_model(
    site: Path, served: tuple[ServedFile, str], cache: Path, tmp_path: Path
) -> None:
    state, url = served
    _catalogue(site, url, len(state.body), None)
    registry = plugins.get_registry()
    config_file = tmp_path / "run.toml"
    config_file.write_text('weights = "fixture-stgcn"\n')
    models = ModelLookups(lambda name: registry.get(MODELS, name), model_of_weights, weights_file)
    config, _ = resolve_run_config(
        {}, lambda name: registry.get(DATASETS, name), str(config_file), models=models
    )
    assert config.weights == str(cache / "fixture-stgcn.pt")
    assert config.model == "stgcn"
    assert state.ranges == [""]

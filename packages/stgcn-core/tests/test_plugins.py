"""The plugin system: discovery, attribution, failures, conflicts, listing."""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

import pytest
import torch

from stgcn.cli import main
from stgcn.errors import StgcnError
from stgcn.plugins import hookspecs, listing, loading
from stgcn.plugins import registry as plugins
from stgcn.plugins.kinds import BACKENDS, DATASETS, EXPORTERS, KINDS, LOGGERS, check_hooks
from stgcn.records import Availability, Backend, Dataset, Exporter, ExportRequest
from stgcn.testing.helpers import make_distribution, run_stgcn

DATASET_PLUGIN = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

def build(request):
    raise RuntimeError("not used in this test")

@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="toy", num_class=4, build=build, layout="coco", num_person=1,
                     needs_data_path=False, description="four toy classes"))
"""

UNAVAILABLE_BACKEND = """
import contextlib
from stgcn.hookspecs import hookimpl
from stgcn.records import Availability, BackendBase

class FakeAccelerator(BackendBase):
    name = "fakeaccel"
    description = "a backend whose hardware is absent"
    collective = "gloo"
    precisions = ("fp32",)
    def availability(self):
        return Availability(False, "no fake accelerator found (install the fake driver)")
    def device_count(self): return 0
    def default_precision(self): return "fp32"
    def setup(self, local_rank): raise AssertionError("must not be called")
    def autocast(self, precision): return contextlib.nullcontext()
    def grad_scaler(self, precision): return None
    def prepare_model(self, model, precision): return model
    def synchronize(self): pass

@hookimpl
def stgcn_register_backends(register):
    register(FakeAccelerator())
"""

COMMAND_PLUGIN = """
import click
from stgcn.hookspecs import hookimpl

@hookimpl
def stgcn_register_commands(cli):
    @cli.command()
    @click.argument("who")
    def hello(who):
        "Say hello."
        click.echo(f"hello {who} from a plugin")
"""


def test_builtins_come_through_the_same_hooks() -> None:
    manager = loading.plugin_manager()
    registry = plugins.collect(manager, loading.load_plugins(manager))
    assert isinstance(registry.get(BACKENDS, "cpu"), Backend)
    assert isinstance(registry.get(DATASETS, "synthetic"), Dataset)
    assert registry.owner_of(BACKENDS, "cpu").distribution == "stgcn-core"
    registered = {impl.plugin_name for impl in manager.hook.stgcn_register_backends.get_hookimpls()}
    assert "stgcn.backends.cpu" in registered


def test_in_process_plugin_registers_and_is_attributed() -> None:
    module = types.ModuleType("inproc")
    exec(DATASET_PLUGIN, module.__dict__)
    info = loading.PluginInfo("inproc", "inproc-dist", "0.0.1", "inproc")
    manager = loading.plugin_manager()
    registry = plugins.collect(manager, loading.load_plugins(manager, [(info, module)]))
    assert registry.get(DATASETS, "toy").num_class == 4
    assert registry.owner_of(DATASETS, "toy").distribution == "inproc-dist"
    assert info.provided["datasets"] == ["toy"]


def test_register_rejects_wrong_record_type() -> None:
    module = types.ModuleType("wrongtype")

    @hookspecs.hookimpl
    def stgcn_register_datasets(register):
        register({"name": "not-a-record"})

    module.stgcn_register_datasets = stgcn_register_datasets
    info = loading.PluginInfo("wrongtype", "wrong-dist", "1", "wrongtype")
    manager = loading.plugin_manager()
    registry = plugins.collect(manager, loading.load_plugins(manager, [(info, module)]))
    assert "registration failed" in info.error
    assert "expects a Dataset" in info.error
    assert "not-a-record" not in registry.table(DATASETS)


def test_installed_distribution_is_listed_with_version(site) -> None:
    make_distribution(site, "fake-toy-data", "1.2.3", "fake_toy", DATASET_PLUGIN)
    result = run_stgcn("plugins", "--json", site=site)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fake-toy-data"]["version"] == "1.2.3"
    assert rows["fake-toy-data"]["datasets"][0]["name"] == "toy"
    assert rows["fake-toy-data"]["datasets"][0]["layout"] == "coco"
    assert rows["stgcn-core"]["backends"][0]["name"] == "cpu"
    assert rows["stgcn-core"]["backends"][0]["available"] is True
    assert rows["stgcn-core"]["datasets"][0]["name"] == "synthetic"


def test_unavailable_backend_is_listed_and_refused(site) -> None:
    make_distribution(site, "fake-accel", "0.1", "fake_accel", UNAVAILABLE_BACKEND)
    listing = run_stgcn("plugins", "--json", site=site)
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    backend = rows["fake-accel"]["backends"][0]
    assert backend["available"] is False
    assert "no fake accelerator found" in backend["reason"]
    refused = run_stgcn("run", "--backend", "fakeaccel", site=site)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "stgcn: error: backend 'fakeaccel' is unavailable: "
        "no fake accelerator found (install the fake driver)"
    ]


def test_broken_plugin_is_reported_and_skipped(site) -> None:
    make_distribution(site, "fake-broken", "9.9", "fake_broken", "import no_such_module_here\n")
    make_distribution(site, "fake-toy-data", "1.2.3", "fake_toy", DATASET_PLUGIN)
    result = run_stgcn("plugins", "--json", site=site)
    assert result.returncode == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    error = rows["fake-broken"]["errors"][0]["error"]
    assert error.startswith("import failed: ModuleNotFoundError")
    assert rows["fake-toy-data"]["datasets"][0]["name"] == "toy"
    warnings = [line for line in result.stderr.splitlines() if "fake_broken" in line]
    assert len(warnings) == 1 and warnings[0].startswith("stgcn: warning: plugin")


def test_strict_mode_makes_a_broken_plugin_fatal(site) -> None:
    make_distribution(site, "fake-broken", "9.9", "fake_broken", "raise ValueError('boom')\n")
    result = run_stgcn("plugins", env={"STGCN_STRICT_PLUGINS": "1"}, site=site)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        "stgcn: error: plugin 'fake_broken' (fake-broken) import failed: ValueError: boom; "
        "fatal because STGCN_STRICT_PLUGINS is set (unset it to skip the plugin and go on)"
    )
    assert "skipped" not in result.stderr  # it stopped the command: nothing went on
    assert "Traceback" not in result.stderr


def test_plugin_raising_during_registration_is_skipped(site, capsys) -> None:
    source = DATASET_PLUGIN.replace("register(Dataset(", "raise OSError('disk gone'); (Dataset(")
    make_distribution(site, "fake-raiser", "1.0", "fake_raiser", source)
    registry = plugins.get_registry()
    assert "toy" not in registry.table(DATASETS)
    assert "synthetic" in registry.table(DATASETS)
    assert "registration failed: OSError: disk gone" in capsys.readouterr().err


def test_two_plugins_with_one_name_is_an_error_naming_both(site) -> None:
    make_distribution(site, "fake-toy-data", "1.2.3", "fake_toy", DATASET_PLUGIN)
    make_distribution(site, "fake-toy-again", "2.0", "fake_toy2", DATASET_PLUGIN)
    with pytest.raises(StgcnError) as raised:
        plugins.get_registry()
    message = str(raised.value)
    assert "fake-toy-data" in message and "fake-toy-again" in message
    result = run_stgcn("plugins", site=site)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_misspelt_kind_hook_is_one_error_naming_the_row(site, monkeypatch, capsys) -> None:
    """A row whose hook names no spec stops the command in one line that names the row,
    before any plugin is called: not one "registration failed" per plugin."""
    make_distribution(site, "fake-toy-data", "1.2.3", "fake_toy", DATASET_PLUGIN)
    misspelt = dataclasses.replace(DATASETS, hook="stgcn_register_datasetz")
    monkeypatch.setattr(plugins, "KINDS", (BACKENDS, misspelt, EXPORTERS))
    with pytest.raises(SystemExit) as stopped:
        main(["plugins"])
    assert stopped.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "stgcn: error: plugin kind 'datasets' names the hook 'stgcn_register_datasetz', "
        "which is not a hook spec of stgcn.plugins.hookspecs (a misspelt row of "
        "stgcn.plugins.kinds)"
    ]
    assert captured.out == ""


def test_a_kind_hook_must_take_register() -> None:
    wrong = dataclasses.replace(LOGGERS, hook="stgcn_register_commands")
    manager = loading.plugin_manager()
    check_hooks(manager, KINDS)  # the real rows pass
    with pytest.raises(StgcnError, match=r"^plugin kind 'loggers' names the hook "):
        check_hooks(manager, [wrong])
    with pytest.raises(StgcnError, match=r"whose spec takes \(cli\) instead of \(register\)$"):
        check_hooks(manager, [wrong])


def test_plugin_commands_are_added_and_listed(site) -> None:
    make_distribution(site, "fake-hello", "0.3", "fake_hello", COMMAND_PLUGIN)
    result = run_stgcn("hello", "world", site=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello world from a plugin"
    rows = {
        row["name"]: row for row in json.loads(run_stgcn("plugins", "--json", site=site).stdout)
    }
    assert rows["fake-hello"]["commands"] == ["hello"]


def test_backend_availability_exception_counts_as_unavailable() -> None:
    class Exploding:
        name = "exploding"

        def availability(self) -> Availability:
            raise RuntimeError("driver crashed")

    registry = plugins.Registry({BACKENDS: {"exploding": Exploding()}})  # type: ignore[dict-item]
    answer = registry.availability("exploding")
    assert not answer.available
    assert "driver crashed" in answer.reason


def test_unknown_names_list_the_known_ones() -> None:
    registry = plugins.get_registry()
    with pytest.raises(StgcnError, match=r"known datasets: ([\w-]+, )*synthetic\b"):
        registry.get(DATASETS, "nope")
    with pytest.raises(StgcnError, match=r"known backends: ([\w-]+, )*cpu\b"):
        registry.get(BACKENDS, "nope")


def test_exporter_registers_and_is_listed(tmp_path) -> None:
    module = types.ModuleType("inproc_export")
    written = []

    @dataclasses.dataclass(frozen=True)
    class Written:
        path: Path

        def lines(self) -> list[str]:
            return [f"wrote {self.path}"]

    def export(request: ExportRequest) -> Written:
        request.output.write_text(f"{type(request.model).__name__} {dict(request.options)}")
        written.append(request.output)
        return Written(request.output)

    @hookspecs.hookimpl
    def stgcn_register_exporters(register):
        register(Exporter(name="text", export=export, description="a text dump", suffix=".txt"))

    module.stgcn_register_exporters = stgcn_register_exporters
    info = loading.PluginInfo("inproc_export", "export-dist", "0.2", "inproc_export")
    manager = loading.plugin_manager()
    registry = plugins.collect(manager, loading.load_plugins(manager, [(info, module)]))
    exporter = registry.get(EXPORTERS, "text")
    exporter.export(ExportRequest(types.SimpleNamespace(), tmp_path / "out.txt", {"opset": 11}))
    assert (tmp_path / "out.txt").read_text() == "SimpleNamespace {'opset': 11}"
    rows = {row["name"]: row for row in listing.describe(registry)}
    assert rows["export-dist"]["exporters"] == [{"name": "text", "description": "a text dump"}]
    # other installed exporters (stgcn-export's "onnx") may be listed beside it
    with pytest.raises(StgcnError, match=r"unknown exporter 'nope'; known exporters: .*\btext\b"):
        registry.get(EXPORTERS, "nope")


def test_text_listings(site) -> None:
    make_distribution(site, "fake-accel", "0.1", "fake_accel", UNAVAILABLE_BACKEND)
    listing = run_stgcn("plugins", site=site)
    assert listing.returncode == 0
    assert "stgcn-core" in listing.stdout
    assert "backend  cpu          available" in listing.stdout
    assert (
        "  logger   tensorboard  TensorBoard event files under WORK_DIR/tensorboard "
        "(needs tensorboard)"
    ) in listing.stdout.splitlines()
    assert "unavailable: no fake accelerator found" in listing.stdout
    datasets = run_stgcn("data", "list", site=site)
    assert datasets.returncode == 0
    assert any(line.startswith("synthetic ") for line in datasets.stdout.splitlines())
    assert "built in, no files" in datasets.stdout


def test_cpu_backend_options_are_checked_and_compile_wraps_the_model() -> None:
    from stgcn.backends.cpu import CPUBackend

    backend = CPUBackend()
    with pytest.raises(StgcnError, match="backend 'cpu' has no option 'colour'"):
        backend = backend.for_run({"colour": "red"})
    with pytest.raises(StgcnError, match="expected true or false, got 'maybe'"):
        backend = backend.for_run({"compile": "maybe"})
    model = torch.nn.Linear(2, 2)
    backend = backend.for_run({})
    assert backend.prepare_model(model, "fp32") is model
    backend = backend.for_run({"compile": "true"})
    compiled = backend.prepare_model(model, "fp32")
    assert compiled is not model and compiled._orig_mod is model


@pytest.mark.parametrize(
    ("precision", "native", "wide", "expected"),
    [
        ("bf16", True, True, True),
        ("bf16", True, False, True),
        ("bf16", False, True, False),
        ("fp32", True, True, True),
        ("fp32", False, True, True),
        ("fp32", True, False, False),
        ("fp32", False, False, False),
    ],
)
def test_cpu_backend_picks_channels_last_per_machine_and_precision(
    monkeypatch, precision: str, native: bool, wide: bool, expected: bool
) -> None:
    """``auto`` (the default): channels last in bf16 where the CPU has native bf16, in
    fp32 where it has AVX-512; the CPU's features are set here, so this holds on every
    machine the suite meets. Each precision asks only its own question: an fp32 run must
    not ask about native bf16 (the tests' native-bf16 stand-in changes that answer)."""
    from stgcn.backends import cpu
    from stgcn.model.network import STGCN

    asked: list[str] = []

    def answer(name: str, value: bool):
        return lambda: asked.append(name) or value

    monkeypatch.setattr(cpu, "native_bf16", answer("native_bf16", native))
    monkeypatch.setattr(cpu, "avx512", answer("avx512", wide))
    backend = cpu.CPUBackend()
    backend = backend.for_run({"temporal": "direct"})
    assert backend.uses_channels_last(precision) is expected
    assert set(asked) == {"native_bf16" if precision == "bf16" else "avx512"}
    weight = backend.prepare_model(STGCN(3), precision).st_gcn_networks[0].tcn[2].weight
    assert weight.is_contiguous(memory_format=torch.channels_last) is expected
    backend = backend.for_run({"channels_last": "false"})
    assert backend.uses_channels_last(precision) is False
    with pytest.raises(StgcnError, match="channels_last: expected auto, true or false, got 'x'"):
        backend = backend.for_run({"channels_last": "x"})


@pytest.mark.parametrize("value", ["true", "false"])
def test_cpu_backend_channels_last_option_sets_the_weights_layout(value: str) -> None:
    from stgcn.backends.cpu import CPUBackend
    from stgcn.model.network import STGCN

    backend = CPUBackend()
    backend = backend.for_run({"channels_last": value})
    model = backend.prepare_model(STGCN(3), "fp32")
    weight = model.st_gcn_networks[0].tcn[2].weight
    assert weight.is_contiguous(memory_format=torch.channels_last) is (value == "true")
    assert weight.is_contiguous() is (value == "false")


def test_backend_options_reach_the_backend_from_the_command_line() -> None:
    result = run_stgcn("bench", "--steps", "1", "--backend-option", "colour=red")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "stgcn: error: backend 'cpu' has no option 'colour'"
        " (known: channels_last, compile, reuse_memory, temporal)"
    )


@pytest.mark.parametrize("value", ["dft", "direct"])
def test_cpu_backend_temporal_option_picks_how_the_temporal_convolutions_run(value: str) -> None:
    from stgcn.backends.cpu import CPUBackend
    from stgcn.model.network import STGCN, TemporalConv

    backend = CPUBackend()
    backend = backend.for_run({"temporal": value})
    model = backend.prepare_model(STGCN(3), "fp32")
    convs = [module for module in model.modules() if isinstance(module, TemporalConv)]
    assert len(convs) == 10
    assert {conv.algorithm for conv in convs} == {value}


@pytest.mark.parametrize(("wide", "expected"), [(False, "dft"), (True, "direct")])
def test_cpu_backend_picks_the_temporal_path_per_machine_and_reuses_memory(
    monkeypatch: pytest.MonkeyPatch, wide: bool, expected: str
) -> None:
    """``temporal=auto`` (the default): the DFT on AVX2 alone, the direct convolution on
    AVX-512 (the CPU's answer is set here, so this holds on every machine); an explicit
    value holds on both."""
    import stgcn.backends.cpu as cpu
    from stgcn.model.network import STGCN, TemporalConv

    calls = []
    monkeypatch.setattr(cpu, "keep_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(cpu, "avx512", lambda: wide)
    backend = cpu.CPUBackend()
    backend = backend.for_run({})
    assert backend.temporal == expected
    model = backend.prepare_model(STGCN(3), "fp32")
    convs = [module for module in model.modules() if isinstance(module, TemporalConv)]
    assert {conv.algorithm for conv in convs} == {expected}
    other = "direct" if expected == "dft" else "dft"
    assert backend.for_run({"temporal": other}).temporal == other
    backend.setup(0)
    assert calls == [1]
    backend = backend.for_run({"reuse_memory": "false"})
    backend.setup(0)
    assert calls == [1]


def test_a_bad_temporal_value_is_one_line() -> None:
    result = run_stgcn("bench", "--steps", "1", "--backend-option", "temporal=fast")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "stgcn: error: backend option temporal must be one of auto, direct, dft, not 'fast'"
    )


def test_cpu_workers_of_one_host_share_its_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from stgcn.backends.cpu import CPUBackend

    before = torch.get_num_threads()
    backend = CPUBackend()
    monkeypatch.setattr(backend, "device_count", lambda: 8)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    try:
        assert backend.setup(0) == torch.device("cpu")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


SETUP_BUG_BACKEND = """
from stgcn.backends.cpu import CPUBackend
from stgcn.hookspecs import hookimpl

class Careless(CPUBackend):
    name = "careless"
    description = "a backend whose setup has a bug"
    def setup(self, local_rank):
        raise AttributeError("'NoneType' object has no attribute 'device'")

@hookimpl
def stgcn_register_backends(register):
    register(Careless())
"""


def test_a_backend_bug_is_one_line_naming_the_plugin(site, tmp_path) -> None:
    make_distribution(site, "stgcn-careless", "0.1", "fake_careless", SETUP_BUG_BACKEND)
    args = ["run", "--backend", "careless", "--epochs", "1", "--work-dir", str(tmp_path / "a")]
    result = run_stgcn(*args, site=site)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "stgcn: error: backend 'careless' (plugin stgcn-careless) failed in setup: "
        "AttributeError: 'NoneType' object has no attribute 'device'; "
        "--debug shows the traceback"
    ]
    debug = run_stgcn("--debug", *args[:-1], str(tmp_path / "b"), site=site)
    assert "Traceback" in debug.stderr and "raise AttributeError" in debug.stderr


def test_a_plugin_error_from_a_dataloader_worker_is_one_line_with_the_traceback_noted() -> None:
    from torch._utils import ExceptionWrapper

    from stgcn.errors import PluginError

    try:
        try:
            {}["frames_total"]
        except KeyError as error:
            raise PluginError.wrapping(error, "dataset 'd'", "stgcn-d", "__getitem__(3)") from error
    except PluginError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(PluginError) as raised:
        wrapped.reraise()  # what the main process does with a worker's exception
    assert str(raised.value) == (
        "dataset 'd' (plugin stgcn-d) failed in __getitem__(3): KeyError: 'frames_total'; "
        "--debug shows the traceback"
    )
    kept = raised.value.worker_traceback  # also a note, printed under --debug (3.11 on)
    assert "Traceback" in kept and '{}["frames_total"]' in kept
    assert getattr(raised.value, "__notes__", [kept]) == [kept]


DATA_SUBCOMMAND_PLUGIN = """
import click
from stgcn.commands import group
from stgcn.hookspecs import hookimpl

@hookimpl
def stgcn_register_commands(cli):
    @group(cli, "data").command()
    def tally():
        "Count the clips."
        click.echo("0 clips")
"""


def test_a_subcommand_added_to_a_core_group_is_listed_by_its_path(site) -> None:
    make_distribution(site, "fake-tally", "0.1", "fake_tally", DATA_SUBCOMMAND_PLUGIN)
    assert run_stgcn("data", "tally", site=site).stdout.strip() == "0 clips"
    rows = {
        row["name"]: row for row in json.loads(run_stgcn("plugins", "--json", site=site).stdout)
    }
    assert rows["fake-tally"]["commands"] == ["data tally"]
    assert "data tally" not in rows["stgcn-core"]["commands"]
    listing = run_stgcn("plugins", site=site).stdout.splitlines()
    assert listing[listing.index("fake-tally 0.1") + 1] == "  command  data tally"

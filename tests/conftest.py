"""Shared test helpers: the project's real parameters, in-memory pipeline runs, a temp project copy."""

from __future__ import annotations

import copy
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from customer_segmentation.datasets import KeptMemoryDataset
from customer_segmentation.environments import ProjectConfigLoader
from customer_segmentation.pipeline_registry import register_pipelines
from customer_segmentation.schema import schema_from_params
from customer_segmentation.session import workflow_of
from customer_segmentation.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Every Kedro session the tests start (in-process or `kedro run` in a temp copy) records its MLflow
# run in this temporary store, never in the project's mlflow.db (conf/base/mlflow.yml reads it).
os.environ["MLFLOW_TRACKING_URI"] = (
    f"sqlite:///{Path(tempfile.mkdtemp(prefix='mlflow-tests-')) / 'mlflow.db'}"
)
# The embedded examples `make data` writes to data/01_raw/.
EMBEDDED_FILES = (
    "customers.csv",
    "new_customers.csv",
    "shifted_customers.csv",
    "cards.csv",
    "new_cards.csv",
    "order_lines.csv",
    "new_order_lines.csv",
)


def config_loader(env: str | None = None) -> ProjectConfigLoader:
    """The project's configuration as `kedro run --env <env>` reads it."""
    return ProjectConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)


def load_parameters(env: str | None = None) -> dict[str, Any]:
    """The project's parameters as `kedro run --env <env>` sees them."""
    return config_loader(env)["parameters"]


def workflow_pipeline(env: str | None = None) -> Pipeline:
    """The workflow `kedro run --env <env>` runs: read from the environment's globals.yml and the
    registry, with no session and no module state."""
    return register_pipelines()[workflow_of(config_loader(env))]


@pytest.fixture
def parameters() -> dict[str, Any]:
    """A fresh deep copy of the base parameters (tests may change it)."""
    return copy.deepcopy(load_parameters())


@pytest.fixture(scope="session")
def spark():
    """One real Spark session in local mode on two cores for every in-process Spark test."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 (only the Spark tests start Java)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # as SparkHooks does in local mode
    session = (
        SparkSession.builder.master("local[2]")
        .appName("customer-segmentation-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def postgres() -> dict[str, Any]:
    """A real PostgreSQL server (Debian's package, `make postgres`) for this test process: the
    connection settings of its `postgres` database (ibis.postgres.connect's keyword arguments).
    Its folder is a new one under /tmp, which the `postgres` user can reach (pytest's are private)."""
    from tests.servers import postgres_server  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="customer-segmentation-postgres-"))
    try:
        with postgres_server(folder) as settings:
            yield settings
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_processing() -> dict[str, Any]:
    """The pandas data_processing outputs of the embedded customers (run through Kedro's runner)."""
    from customer_segmentation.datasets import RawCustomersDataset  # noqa: PLC0415
    from customer_segmentation.pipelines import data_processing  # noqa: PLC0415

    raw = RawCustomersDataset(filepath=str(PROJECT_ROOT / "data" / "01_raw" / "customers.csv"))
    params = load_parameters()
    return run_pipeline(
        data_processing.create_pipeline(),
        {"customers_raw": raw.load(), "params:data_processing": params["data_processing"]},
    )


@pytest.fixture
def column_schema(parameters) -> dict[str, Any]:
    """The checked default (Mall-style) column schema, as the `column_schema` dataset holds it."""
    return schema_from_params(parameters["data_processing"]).to_dict()


def run_pipeline(pipeline: Pipeline, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run `pipeline` with SequentialRunner on an in-memory catalog; return every dataset it produced."""
    catalog = DataCatalog()
    for name, value in inputs.items():
        catalog[name] = value
    for name in pipeline.inputs():  # nested parameters, as Kedro's catalog provides them
        group, *path = name.removeprefix("params:").split(".")
        if name.startswith("params:") and path and f"params:{group}" in inputs:
            value = inputs[f"params:{group}"]
            for key in path:
                value = value[key]
            catalog[name] = value
    for name in pipeline.all_outputs():
        catalog[name] = KeptMemoryDataset()
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog[name].load() for name in pipeline.all_outputs()}


def raw_frame(rows: list[list[Any]], header: list[str] | None = None) -> pd.DataFrame:
    """A raw customer table as the catalog loads it: Kaggle header, every cell text (None = blank)."""
    header = header or [
        "CustomerID",
        "Genre",
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return frame.map(lambda v: None if v is None else str(v))


def copy_project(target: Path) -> Path:
    """Copy what `kedro run` and `make serve` need (pyproject, Makefile, conf without local, raw data,
    empty layers) to `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        PROJECT_ROOT / "src",
        target / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    for name in ("pyproject.toml", ".telemetry", "Makefile"):
        shutil.copy2(PROJECT_ROOT / name, target / name)
    shutil.copytree(PROJECT_ROOT / ".streamlit", target / ".streamlit")
    shutil.copytree(PROJECT_ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    for layer in (PROJECT_ROOT / "data").iterdir():
        (target / "data" / layer.name).mkdir(parents=True)
    for csv in EMBEDDED_FILES:
        shutil.copy2(PROJECT_ROOT / "data" / "01_raw" / csv, target / "data" / "01_raw" / csv)
    return target


# The files whose tests start Java for Spark in this process (the session-scoped `spark` fixture,
# also behind the `pyspark` engine of tests/pipelines/customer_features) run on one pytest-xdist
# worker, one after another: one Java virtual machine warms up for all of them instead of one per
# worker (each costs about 25 s of CPU on two cores). `pytest_xdist_make_scheduler` below.
SPARK_FILES = (
    "pipelines/customer_features/test_parity.py",
    "test_spark.py",  # in-process Spark first, then `kedro run --env spark` in a copy of ran_project
    "pipelines/model_selection/test_spark.py",
    "pipelines/clustering/test_spark.py",
    "pipelines/customer_features/test_nodes.py",
    "pipelines/customer_features/test_backends.py",
    "pipelines/data_processing/test_spark_features.py",
    "pipelines/reporting/test_samples.py",
    "test_exports.py",
)

# The files that take minutes start first, in this order (pytest-xdist hands out whole files, the
# Spark files as one unit, in collection order: `--no-loadscope-reorder` in pyproject.toml). The
# command sequence (`sequence_project`, five runs one after the other) is built by the third unit,
# early; the files that read it come after many minutes of other work, so that no worker waits
# idle for it.
LONG_FILES = (
    *SPARK_FILES,
    "test_spark_transactions.py",
    "test_trusted_runs.py",  # builds sequence_project
    "test_tracking.py",
    "test_run.py",
    "app/test_service.py",
    "test_properties.py",
    "app/test_outputs.py",  # builds ran_twice
    "test_own_tables.py",  # reads sequence_project
)


def _relative(path: Path) -> str:
    return path.relative_to(Path(__file__).parent).as_posix()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = _relative(item.path)
        return LONG_FILES.index(path) if path in LONG_FILES else len(LONG_FILES)

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Whole files to a worker, as `--dist loadfile`, with every file of SPARK_FILES in one unit."""
    from xdist.scheduler import LoadFileScheduling  # noqa: PLC0415 (only with pytest-xdist)

    spark = {f"tests/{name}" for name in SPARK_FILES}

    class SparkFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return "spark" if path in spark else path

    return SparkFilesTogether(config, log)


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A project folder built once for the whole test session, shared by every pytest-xdist worker
    (the first to ask builds it under a file lock; the others wait and use it). Tests only read it,
    or copy it first."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder all workers share
    target = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (target / ".built").exists():
                shutil.rmtree(target, ignore_errors=True)
                build(target)
                (target / ".built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target / "project"


# runs whose k-sweep stability and criterion noise are not under test (every criterion votes: the
# embedded examples' k is the same either way, 5, 4 and 6)
FAST = "model_selection.stability_resamples=0,model_selection.criterion_resamples=0"


@pytest.fixture(scope="session")
def ran_project(tmp_path_factory) -> Path:
    """A temp copy of the project after one `kedro run`, shared by the tests that only read its outputs
    (the report and Kedro-Viz in a browser, the segment explorer, the scoring service); tests that run
    more on top of one default run take a copy of it (`ran_copy`)."""

    def build(folder: Path) -> None:
        kedro(copy_project(folder / "project"), "run", "--params", FAST)

    return built_once(tmp_path_factory, "ran", build)


@pytest.fixture(scope="session")
def ran_twice(ran_project: Path, tmp_path_factory) -> Path:
    """`ran_project` plus a second default run with k fixed at 4 (the first chose 5): two complete
    runs to pin, compare and migrate between. Read it, or copy it first."""

    def build(folder: Path) -> None:
        project = Path(shutil.copytree(ran_project, folder / "project"))
        kedro(
            project, "run", "--params", f"{FAST},model_selection.k_policy=fixed,model_selection.k=4"
        )

    return built_once(tmp_path_factory, "ran_twice", build)


@pytest.fixture(scope="session")
def sequence_project(ran_project: Path, tmp_path_factory) -> Path:
    """The README's commands in order in one folder: `kedro run` (ran_project), `kedro run --env
    cards`, `kedro run`, `kedro run --env transactions`, `kedro run --pipelines scoring`. The output
    of each command after the first is kept in `logs/<n>.txt` (2 … 5). Read it, or copy it first."""
    commands = [
        ["run", "--env", "cards", "--params", FAST],
        ["run", "--params", FAST],
        ["run", "--env", "transactions", "--params", FAST],
        ["run", "--pipelines", "scoring"],
    ]

    def build(folder: Path) -> None:
        project = Path(shutil.copytree(ran_project, folder / "project"))
        (folder / "logs").mkdir()
        for number, command in enumerate(commands, start=2):
            narrow = {"COLUMNS": "80"}  # as in a narrow terminal or a CI log
            result = kedro(project, *command, env=narrow)
            (folder / "logs" / f"{number}.txt").write_text(result.stdout + result.stderr)

    return built_once(tmp_path_factory, "sequence", build)


@pytest.fixture
def ran_copy(ran_project: Path, tmp_path: Path) -> Path:
    """A temp copy of `ran_project` (one default run done) for a test that runs more on top of it."""
    return Path(shutil.copytree(ran_project, tmp_path / "project"))


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A temp copy of the project in which tests run the Kedro CLI as a user would."""
    return copy_project(tmp_path / "project")


def kedro(
    project: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `kedro <args>` in `project` as a user types it; telemetry off, wide log lines; `env`
    adds environment variables (e.g. the project's own MLflow store)."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "COLUMNS": "200",
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kedro {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def versions(dataset_dir: Path) -> list[Path]:
    """The saved versions (timestamp folders) of a versioned dataset, oldest first."""
    return sorted(p for p in dataset_dir.iterdir() if p.is_dir()) if dataset_dir.exists() else []


def latest(dataset_dir: Path) -> Path:
    """The file of the newest version of a versioned dataset."""
    return versions(dataset_dir)[-1] / dataset_dir.name

"""Project hooks: a SparkSession for environments that declare one (`conf/spark/spark.yml`), the run
lock and run record that make a run complete or invisible (`RunHooks`, customer_segmentation.runs),
and what kedro-mlflow does not record by itself about a tracked run (tags and artifacts).

Environments without a `spark*.yml` (every one but `spark`) start no Spark and need no Java. With
`SPARK_REMOTE` set (Spark Connect, e.g. `sc://host:15002`) the session connects there and the
`spark.master` of the file is not used; otherwise `spark.master` says where to run (`local[2]`, or a
standalone cluster's `spark://host:7077`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError, MemoryDataset
from kedro.pipeline import Pipeline

from customer_segmentation.runs import (
    RUN_RECORD,
    RunInterrupted,
    RunLock,
    build_record,
    is_versioned,
    pin_inputs,
    record_key,
)

logger = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SparkHooks:
    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Start (or join) the SparkSession the Spark datasets and nodes use."""
        try:
            settings = dict(context.config_loader["spark"])
        except MissingConfigException:
            return
        if not settings:
            return
        from pyspark.sql import SparkSession  # noqa: PLC0415 (only the spark environment needs it)

        builder = SparkSession.builder.appName(context.project_path.name)
        if os.environ.get("SPARK_REMOTE"):
            builder = builder.remote(os.environ["SPARK_REMOTE"])
            settings.pop("spark.master", None)
        elif str(settings.get("spark.master", "")).startswith("local"):
            # local mode: the Python workers (the segment model's predict) run this environment's
            # Python, where the project and scikit-learn are installed
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in settings.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        if not os.environ.get("SPARK_REMOTE"):  # a Connect session has no SparkContext
            spark.sparkContext.setLogLevel("WARN")
        logger.info("Spark %s session: %s", spark.version, settings.get("spark.master", "remote"))


class RunHooks:
    """A run is complete or invisible (customer_segmentation.runs).

    Before the first node: take the environment's run lock, read every versioned input an earlier
    run wrote at the newest complete run's version, and catch SIGTERM / Ctrl-C: the run then stops
    with `RunInterrupted` at the next node or saved dataset (a save under way, its MLflow artifact
    included, is finished first; a second signal stops it at once), and so ends like a failed run.
    After the last node: save the run record, release the lock. On failure: release the lock; no
    record, so nothing of the run becomes "latest"."""

    def __init__(self) -> None:
        self.context: KedroContext | None = None
        self.catalog: Any = None
        self.lock: RunLock | None = None
        self.saved: dict[str, str] = {}
        self.pinned: dict[str, str] = {}
        self.model_features: list[str] | None = None
        self.fingerprint = ""
        self.started = datetime.now(UTC)
        self._handlers: dict[int, Any] = {}
        self._stop: str | None = None  # the signal that asked the run to stop

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self.context = context

    @hook_impl(tryfirst=True)  # before kedro-mlflow opens a run: a refused run opens none
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        if self.context is None:
            return
        environment = run_params.get("env") or "local"
        data_root = (
            Path(self.context.project_path) / self.context.config_loader["globals"]["data_root"]
        )
        self.lock = RunLock(data_root, environment)
        self.lock.acquire()
        self.saved, self.model_features, self.started = {}, None, datetime.now(UTC)
        self.catalog = catalog
        try:
            self.pinned = pin_inputs(
                catalog, pipeline.inputs(), run_params.get("load_versions"), environment,
                self.context.project_path,
            )  # fmt: skip
            self.fingerprint = data_fingerprint(catalog, first_inputs(catalog, pipeline))
        except BaseException:
            self.lock.release()
            raise
        if self.pinned:
            logger.info(
                "Reading the latest complete run: %s",
                ", ".join(f"{name} {version}" for name, version in self.pinned.items()),
            )
        if threading.current_thread() is threading.main_thread():
            self._stop = None
            for number in STOP_SIGNALS:
                self._handlers[number] = signal.signal(number, self._interrupt)

    def _interrupt(self, number: int, frame: Any) -> None:
        name = signal.Signals(number).name
        if self._stop:  # asked twice: stop where it is
            raise RunInterrupted(f"the run was stopped by {name}")
        self._stop = name
        logger.warning("%s received: the run stops after the current step", name)

    def _stop_if_asked(self) -> None:
        if self._stop:
            raise RunInterrupted(f"the run was stopped by {self._stop}")

    @hook_impl
    def before_node_run(self) -> None:
        self._stop_if_asked()

    @hook_impl
    def after_node_run(self) -> None:
        self._stop_if_asked()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self.lock is None or not self.lock.held:
            return
        self._stop_if_asked()
        if dataset_name == "column_schema" and isinstance(data, dict):
            self.model_features = list(data.get("features", []))
        if not is_versioned(self.catalog, dataset_name):  # in memory, or overwritten each run
            return
        filepath = record_key(self.catalog, dataset_name, self.context.project_path)
        if filepath:
            self.saved[dataset_name] = filepath

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        if self.lock is None or not self.lock.held:
            return
        try:
            names = run_params.get("pipeline_names") or ["__default__"]
            catalog.save(
                RUN_RECORD,
                build_record(
                    run_params, list(names), self.started, self.saved, self.pinned,
                    self.fingerprint, self.model_features,
                ),
            )  # fmt: skip
        finally:
            self._end()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline, catalog):
        if self.lock is not None and self.lock.held:
            self._end()

    def _end(self) -> None:
        for number, handler in self._handlers.items():
            signal.signal(number, handler)
        self._handlers = {}
        if self.lock is not None:
            self.lock.release()


def first_inputs(catalog: Any, pipeline: Pipeline) -> list[str]:
    """The data a run starts from: its raw-layer inputs (a pipeline run on its own, e.g. scoring
    with a saved model, has the model among them); not a previous run's outputs."""
    inputs = sorted(i for i in pipeline.inputs() if not i.startswith("params:"))
    raw = [name for name in inputs if layer_of(catalog, name) == "raw"]
    return raw or inputs


class TrackingHooks:
    """Completes the MLflow run kedro-mlflow opens for every `kedro run` (conf/base/mlflow.yml).

    - names the run `<environment> · <pipelines>` and tags it with `environment`, `pipeline`,
      `git_commit` (`git_dirty` when the work tree has changes) and `data_fingerprint`: a SHA-256 over
      the files of the pipeline's raw-layer inputs (the customers, the new customers; for a pipeline
      without one, such as `scoring` on its own, every input it reads first, the saved model
      included), so two runs on the same data carry the same fingerprint;
    - logs as an artifact every dataset whose catalog entry says `metadata: {mlflow: {artifact_path:
      <folder>}}`, right after it is saved: the versioned file itself, so `--load-versions` and the
      shared version timestamp of the run still hold (kedro-mlflow's `MlflowArtifactDataset` wrapper
      would give each dataset its own).

    With tracking switched off (`disable_tracking` in mlflow.yml) no run is active and nothing happens.
    """

    def __init__(self, runs: RunHooks) -> None:
        self._catalog: Any = None
        self._project_path = Path.cwd()
        self._runs = runs  # its data fingerprint, computed once before the run

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._project_path = Path(context.project_path)

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl(trylast=True)  # after kedro-mlflow's hook has started the run
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        import mlflow  # noqa: PLC0415 (kedro-mlflow has imported it already)

        if mlflow.active_run() is None:
            return
        environment = run_params.get("env") or "local"
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        pipelines = "+".join(name or "__default__" for name in names)
        commit, dirty = git_state(self._project_path)
        inputs = first_inputs(catalog, pipeline)
        mlflow.set_tags(
            {
                "mlflow.runName": f"{environment} · {pipelines}",
                "environment": environment,
                "pipeline": pipelines,
                "git_commit": commit,
                "git_dirty": str(dirty).lower(),
                "data_inputs": ", ".join(inputs),
                "data_fingerprint": self._runs.fingerprint,
            }
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._catalog is None:
            return
        dataset = self._catalog.get(dataset_name)
        folder = ((getattr(dataset, "metadata", None) or {}).get("mlflow") or {}).get(
            "artifact_path"
        )
        if folder is None:
            return
        import mlflow  # noqa: PLC0415

        if mlflow.active_run() is not None:
            mlflow.log_artifact(str(saved_path(dataset)), artifact_path=folder)


def layer_of(catalog: Any, name: str) -> str | None:
    """The Kedro-Viz layer a catalog entry declares (`metadata: kedro-viz: layer:`), if any."""
    dataset = catalog.get(name) if name in catalog else None
    metadata = getattr(dataset, "metadata", None) or {}
    return (metadata.get("kedro-viz") or {}).get("layer")


def saved_path(dataset: Any) -> Path:
    """The file a dataset has just written: this run's version of a versioned dataset."""
    if getattr(dataset, "_version", None) is not None:
        return Path(dataset._get_versioned_path(dataset.resolve_save_version()))
    return Path(dataset._filepath)


def loaded_path(dataset: Any) -> Path | None:
    """The local file or folder a dataset reads (its latest or pinned version), if it reads one
    (None for a versioned dataset with no version yet)."""
    if getattr(dataset, "_version", None) is not None:
        try:
            version = dataset.resolve_load_version()
        except DatasetError:
            return None
        if version is None:
            return None
        path = Path(dataset._get_versioned_path(version))
    elif getattr(dataset, "_filepath", None) is not None:
        path = Path(str(dataset._filepath))
    else:
        return None
    return path if path.exists() else None


def data_fingerprint(catalog: Any, inputs: list[str]) -> str:
    """SHA-256 (first 16 hex digits) over the names and bytes of the local files the inputs read.

    An input that is no local file (a SQL query, an in-memory dataset) adds only its name and type."""
    digest = hashlib.sha256()
    for name in inputs:
        dataset = catalog.get(name) if name in catalog else None
        digest.update(f"{name}:{type(dataset).__name__}".encode())
        if dataset is None or isinstance(dataset, MemoryDataset):
            continue
        path = loaded_path(dataset)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path and path.is_dir() else []
        for file in files or ([path] if path else []):
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def git_state(project_path: Path) -> tuple[str, bool]:
    """The commit checked out in `project_path` and whether the work tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_path, capture_output=True, text=True,
            timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=project_path,
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git work tree)", False
    return commit, bool(status)

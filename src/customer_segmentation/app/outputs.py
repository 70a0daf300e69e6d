"""What the segment explorer and the scoring service share: one run's saved outputs, read through the
Kedro Data Catalog of an environment, and new customers scored by the registered scoring pipeline.

`RunOutputs(project, env, version)` opens the project like `kedro run --env <env>` does (same
configuration, same catalog, same parameters, the environment's own data root). A run is named by its
version timestamp (every dataset of one `kedro run` shares it). Only **complete** runs count: those that
wrote their run record (customer_segmentation.runs); a failed, stopped or still-running run is never
shown. The newest complete run that saved a segment model is used unless a version is pinned.
`load(name)` reads a dataset at that run's version where the run wrote it, and otherwise at the newest
complete run that wrote it (a later scoring run's drift report, the experiments comparison).

`score(frame, source)` runs the nodes of the environment's registered `scoring` pipeline that make
`scored_customers`, `scoring_quarantine` and `scoring_data_quality_report` (the same validation,
quarantine rules, saved model and learned cleaning statistics as `kedro run --pipelines scoring`), in
memory: nothing is written.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import numpy as np
import pandas as pd
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.framework.project import pipelines, settings
from kedro.framework.startup import bootstrap_project
from kedro.io import AbstractDataset, DatasetError, Version

from customer_segmentation.datasets import computed
from customer_segmentation.errors import DataValidationError, InputFileError, validation_message
from customer_segmentation.pipeline_registry import stage_name
from customer_segmentation.pipelines.data_processing.nodes import standard_names
from customer_segmentation.runs import complete_runs, is_versioned, record_key, run_that_saved
from customer_segmentation.schema import schema_from_params
from customer_segmentation.session import workflow_of

MODEL = "segment_model"
PROFILES = "segment_profiles"
SCORING_OUTPUTS = ("scored_customers", "scoring_quarantine", "scoring_data_quality_report")
SCORED_COLUMNS = ["customer_id", "segment_id", "segment_name", "distance_to_centroid"]
RAW_DATASET = "customer_segmentation.datasets.RawCustomersDataset"
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

# uploads are read from fsspec's in-memory filesystem, so messages name the uploaded file itself
_MEMORY = fsspec.filesystem("memory")
_UPLOADS = threading.Lock()


class NoRunYet(DataValidationError):
    """There is no saved segment model for the environment (or not the version asked for)."""


@dataclass(frozen=True)
class ScoredTable:
    """A scored batch: every input row is in `customers` or in `quarantine` (with its reason)."""

    customers: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict[str, Any]


def transcoded(outputs: dict[str, Any]) -> dict[str, Any]:
    """A node's outputs (Ibis tables computed once, as the catalog's datasets keep them), plus the
    pandas reading of each Ibis table it wrote as `<name>@ibis` (`<name>@pandas`): in memory, what
    the catalog's transcoded entries do on disk."""
    outputs = {name: computed(value) for name, value in outputs.items()}  # Ibis: computed once
    extra = {
        name.removesuffix("@ibis") + "@pandas": value.to_pandas()
        for name, value in outputs.items()
        if name.endswith("@ibis")
    }
    return {**outputs, **extra}


class RunOutputs:
    """One environment's saved outputs at one run version (default: the newest run)."""

    def __init__(
        self, project_path: str | Path = ".", env: str | None = None, version: str | None = None
    ) -> None:
        self.project_path = Path(project_path).resolve()
        metadata = bootstrap_project(self.project_path)
        # the project's context without a session: a reader needs no run hooks, and plugins'
        # hooks (kedro-mlflow imports MLflow) would only slow every service worker's start
        config_loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(self.project_path / settings.CONF_SOURCE),
            env=env,
            **settings.CONFIG_LOADER_ARGS,
        )
        context = settings.CONTEXT_CLASS(
            package_name=metadata.package_name,
            project_path=self.project_path,
            config_loader=config_loader,
            env=env,
            hook_manager=_create_hook_manager(),
        )
        self.env = env or settings.CONFIG_LOADER_ARGS.get("default_run_env") or "local"
        self.config_loader = context.config_loader
        self.parameters: dict[str, Any] = context.params
        self.catalog = context.catalog
        self.workflow = workflow_of(self.config_loader)
        self.versions = self.run_versions()
        if not self.versions:
            raise NoRunYet(
                validation_message(
                    self.filepath(MODEL),
                    f"no complete run has saved a segment model yet for the environment '{self.env}'.",
                    "one full run first: `make run`, or `kedro run --env <environment>` (then reload)",
                    "no complete run",
                )
            )
        if version and version not in self.versions:
            raise NoRunYet(
                validation_message(
                    self.filepath(MODEL),
                    f"there is no complete run version {version!r}.",
                    "one of the complete runs",
                    ", ".join(self.versions[:10]),
                )
            )
        self.version = version or self.versions[0]
        # the environment's own scoring (customer table or order log), without the batch's drift
        scoring = pipelines[stage_name(self.workflow, "scoring")]
        self.scoring_pipeline = scoring.to_outputs(*SCORING_OUTPUTS)
        (self.raw_input,) = {
            name
            for name in self.scoring_pipeline.inputs()
            if not name.startswith("params:") and name not in (MODEL, PROFILES)
        }

    @functools.cached_property
    def segment_model(self) -> Any:
        """The run's model (read when first used: `make serve`'s supervisor never needs it)."""
        return self.load(MODEL)

    @functools.cached_property
    def segment_profiles(self) -> pd.DataFrame:
        return self.load(PROFILES)

    def filepath(self, name: str) -> str:
        """Where the catalog keeps a dataset (versioned: the folder of its versions)."""
        return self.catalog.config_resolver.resolve_pattern(name)["filepath"]

    def run_versions(self) -> list[str]:
        """The versions of the environment's complete runs that saved a segment model, newest first
        (read afresh on every call: a run that completed since shows up)."""
        model = record_key(self.catalog, MODEL, self.project_path)
        return [
            r["run_version"] for r in complete_runs(self.catalog) if model in r["saved"].values()
        ]

    def exists(self, name: str) -> bool:
        """Whether the dataset was saved (by this run, or by a later complete run when this run
        did not write it)."""
        return self._dataset(name) is not None

    def load(self, name: str) -> Any:
        """The dataset as this run saved it; as the newest complete run saved it when this run did
        not write it."""
        return self._saved(name).load()

    def file_bytes(self, name: str) -> bytes:
        """The file a versioned dataset saved in this run, as it is on disk (the workbook, for a
        download button); as the newest complete run saved it when this run did not write it."""
        with fsspec.open(str(self._saved(name)._get_load_path()), "rb") as file:
            return file.read()

    def _saved(self, name: str) -> AbstractDataset:
        dataset = self._dataset(name)
        if dataset is None:
            raise DatasetError(f"{name}: not saved yet by a complete run ({self.filepath(name)})")
        return dataset

    def _dataset(self, name: str) -> AbstractDataset | None:
        if not is_versioned(self.catalog, name):
            dataset = self.catalog.get(name)
            return dataset if dataset is not None and dataset.exists() else None
        key = record_key(self.catalog, name, self.project_path)
        records = complete_runs(self.catalog)
        this_run = [r for r in records if r["run_version"] == self.version]
        run = run_that_saved(this_run, key) or run_that_saved(records, key)
        if run is None:
            return None
        pinned = self.catalog.get(name, version=Version(run["run_version"], None))
        return pinned if pinned is not None and pinned.exists() else None

    def read_upload(self, file_name: str, data: bytes) -> pd.DataFrame:
        """An uploaded file read as the environment reads its new customers: a CSV with the catalog
        entry's `load_args` (encoding, separator), an Excel workbook's first sheet; every cell as text.
        A file that cannot be read raises `InputFileError` naming it."""
        name = PurePosixPath(file_name.replace("\\", "/")).name or "upload.csv"
        config = dict(self.catalog.config_resolver.resolve_pattern(self.raw_input))
        if name.lower().endswith(EXCEL_SUFFIXES):
            config = {"type": "pandas.ExcelDataset", "load_args": {"dtype": str}}
        elif config.get("type") != RAW_DATASET:  # e.g. a SQL table or Parquet file in this env
            config = {"type": RAW_DATASET}
        # kept under a name of its own: a browser's "new_customers [1].csv" or a name with "*" would
        # be a glob pattern to fsspec; messages name the file as uploaded
        stored = f"/upload-{uuid.uuid4().hex}{PurePosixPath(name).suffix.lower()[:8]}"
        config = {
            "type": config["type"],
            "load_args": config.get("load_args", {}),
            "filepath": f"memory://{stored}",
        }
        with _UPLOADS:
            _MEMORY.pipe_file(stored, data)
            try:
                return AbstractDataset.from_config("upload", config).load()
            except InputFileError as error:  # named by its in-memory path
                raise InputFileError(
                    str(error).replace(f"memory://{stored}", name).replace(stored, name)
                ) from error
            except DatasetError as cause:
                raise InputFileError(
                    validation_message(
                        name,
                        "the file cannot be read as a customer table.",
                        "a CSV file with a header row (or an .xlsx workbook whose first sheet has "
                        "one), one row per customer",
                        str(cause.__cause__ or cause).splitlines()[0][:200].replace(stored, name),
                    )
                ) from cause
            finally:
                if _MEMORY.exists(stored):
                    _MEMORY.rm_file(stored)

    def score(self, customers_raw: pd.DataFrame, source: str) -> ScoredTable:
        """Score a raw table (every cell as text, as the raw dataset loads it) with the scoring
        pipeline's nodes and this run's model; `source` names it in messages and the quarantine.
        A table whose every row is quarantined comes back with no customers and the quarantine.
        Raises `DataValidationError` when the table as a whole cannot be used (e.g. a required
        column is missing).

        The nodes run in the pipeline's order on the objects themselves (no runner, no catalog,
        nothing copied or written): the same functions `kedro run --pipelines scoring` runs. An
        order log's rules run on DuckDB in memory; their table is handed on as pandas, as the
        catalog's transcoding does (`new_customer_features@ibis` -> `@pandas`).
        """
        data: dict[str, Any] = {
            self.raw_input: customers_raw,
            MODEL: self.segment_model,
            PROFILES: self.segment_profiles,
            "params:scoring": {
                **self.parameters["scoring"],
                "source_file": source,
                "order_lines_file": source,
            },
        }
        for name in self.scoring_pipeline.inputs():
            if name.startswith("params:") and name not in data:
                data[name] = self._parameter(name.removeprefix("params:"))
        try:
            for node in self.scoring_pipeline.nodes:
                data.update(transcoded(node.run({name: data[name] for name in node.inputs})))
        except DataValidationError:
            quarantine = data.get(SCORING_OUTPUTS[1])
            if quarantine is None or len(quarantine) != len(customers_raw) or quarantine.empty:
                raise
            # every row quarantined: the answer is the quarantine, with its reasons
            rows = len(customers_raw)
            quality = {"rows_in": rows, "rows_kept": 0, "rows_quarantined": rows}
            return ScoredTable(pd.DataFrame(columns=SCORED_COLUMNS), quarantine, quality)
        customers, quarantine, quality = (data[name] for name in SCORING_OUTPUTS)
        return ScoredTable(customers, quarantine, quality)

    def batch_keys(self, customers_raw: pd.DataFrame) -> set[str] | None:
        """The customer ids of a raw customer table (trimmed text), which `score_together` needs to
        tell whose row is whose; None when the table cannot be scored with others (no rows, no id
        column, or an order log, whose rows are not customers)."""
        if self.raw_input != "new_customers_raw" or customers_raw.empty:
            return None
        column = self._raw_id_column(list(customers_raw.columns))
        if column is None:
            return None
        return {str(v).strip() for v in customers_raw[column] if v is not None and not pd.isna(v)}

    def _raw_id_column(self, headers: list[Any]) -> Any:
        schema = schema_from_params(self.parameters["data_processing"])
        names = standard_names(headers, schema)  # as standardise_columns names them
        matches = [h for h, n in zip(headers, names, strict=True) if n == schema.id_column]
        return matches[0] if len(matches) == 1 else None

    def score_together(self, tables: list[pd.DataFrame], source: str) -> list[ScoredTable]:
        """Several raw tables with the same columns and no customer id in common, scored in one
        pipeline run and split again: each gets what `score` gives it alone (scoring applies the
        statistics learned at training, so no row depends on another). Raises `ValueError` when a
        table's rows are not all accounted for (the caller then scores each table alone)."""
        offsets = np.cumsum([0, *map(len, tables)])
        merged = self.score(pd.concat(tables, ignore_index=True), source)
        column = self._raw_id_column(list(tables[0].columns))
        owner = {
            str(v).strip(): i
            for i, table in enumerate(tables)
            for v in table[column]
            if v is not None and not pd.isna(v)
        }
        scored_owner = merged.customers["customer_id"].astype(str).map(owner).to_numpy()
        line = merged.quarantine["source_line"].to_numpy()
        answers = []
        for i, table in enumerate(tables):
            mine = (line >= offsets[i] + 2) & (line < offsets[i + 1] + 2)
            quarantine = merged.quarantine.loc[mine].reset_index(drop=True)
            quarantine["source_line"] -= offsets[i]
            customers = merged.customers.loc[scored_owner == i].reset_index(drop=True)
            if len(customers) + len(quarantine) != len(table):  # never an answer that loses rows
                raise ValueError(f"rows of table {i} not accounted for after scoring together")
            quality = {
                "rows_in": len(table),
                "rows_kept": len(customers),
                "rows_quarantined": len(quarantine),
            }
            answers.append(ScoredTable(customers, quarantine, quality))
        return answers

    def upload_separator(self) -> str:
        """The field separator new customer files are read with (the catalog entry's `sep`)."""
        config = self.catalog.config_resolver.resolve_pattern(self.raw_input)
        return str(config.get("load_args", {}).get("sep", ","))

    def _parameter(self, dotted: str) -> Any:
        value: Any = self.parameters
        for key in dotted.split("."):
            value = value[key]
        return value


def quiet_runner_logs() -> None:
    """Scoring requests need no "Running node ..." or per-batch summary lines in a server's log."""
    for name in ("kedro.runner", "kedro.io", "kedro.pipeline", "customer_segmentation.pipelines"):
        logging.getLogger(name).setLevel(logging.WARNING)

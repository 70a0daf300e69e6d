"""Project catalog datasets: raw customer files, tables indexed by text ids, and plots that can be
loaded back as PNG bytes.

`RawCustomersDataset` is a pandas CSV dataset that reads every cell as text, so that data_processing
types and checks each value against the declared schema and can quarantine a bad cell with a reason.

The file is parsed by pandas' pyarrow engine (columnar, multi-threaded, compact Arrow text), which is
several times faster and lighter than the default parser on millions of rows. When that engine refuses
an option (such as `nrows`, which Kedro-Viz's preview sets) or the file, the default parser reads it
instead, so a broken file is still described line by line as below; an explicit `engine` in
`load_args` is used as given.

It differs from `pandas.CSVDataset` in what a user of raw exports cares about: an empty file (no header
at all) loads as an empty table, so the pipeline can answer with a `DataValidationError` naming the file;
and a missing file, a file that is not valid in the declared `encoding`, or a line with the wrong number
of fields stops with an `InputFileError` that names the file, the line, what was found and the catalog
option to set (`load_args: {encoding: ..., sep: ...}`).

`OrderLogFileDataset` is `ibis.FileDataset` for an order log file: a line with the wrong number of
fields stops the run naming its physical line, and on DuckDB `source_line` is the file's physical
line (`CsvLines`, the careful read both datasets share).

`TrackedRunsDataset` reads the runs of the MLflow tracking store as a table (the experiments pipeline).

`CachedTableDataset` keeps an Ibis table cached by its engine between two nodes (Spark's order-log steps).

`KeptMemoryDataset` is a `MemoryDataset` the runner does not empty once its last reader has run, so
whoever runs a pipeline in memory (the explorer and the scoring service, the tests) can read an
intermediate output afterwards.

`IndexedParquetDataset` is `pandas.ParquetDataset` for a table indexed by text ids (the model features,
indexed by customer id), written with the index as its first column. Writing a text index the
ordinary way makes pyarrow turn it into Python strings first: 12 s and 0.5 GiB for ten million ids.
"""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DataCatalog, DatasetError, MemoryDataset
from kedro.io.core import PROTOCOL_DELIMITER, get_filepath_str
from kedro_datasets.ibis import FileDataset as IbisFileDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import CSVDataset, ExcelDataset, ParquetDataset
from kedro_datasets.pickle import PickleDataset

from customer_segmentation.errors import InputFileError, validation_message
from customer_segmentation.exports import safe_frame, safe_table, unquoted


class CsvLines:
    """A CSV file read record by record with Python's csv module: each record's physical line, and
    the first record whose number of fields is not the header's. The careful, slow read, for the
    files a fast reader (pyarrow, DuckDB, Spark) refuses or numbers by record instead of by line."""

    CHUNK = 1 << 24  # bytes read at a time when counting line ends

    def __init__(
        self,
        fs: Any,
        path: str,
        separator: str = ",",
        encoding: str | None = None,
        option: str = "sep",
    ):
        self.fs, self.path, self.separator = fs, path, separator
        self.encoding = encoding or "utf-8"
        self.option = option  # the reader's load_args key for the separator

    def records(self, check: bool = False) -> InputFileError | list[int] | None:
        """Each record's physical line in the file (blank lines and quoted line breaks counted);
        with `check`, instead the error for the first record whose number of fields is not the
        header's (None when there is none): never a shifted or padded row."""
        lines: list[int] = []
        with self.fs.open(self.path, mode="r", encoding=self.encoding, newline="") as file:
            reader = csv.reader(file, delimiter=self.separator)
            header = next(reader, None)
            if header is None:
                return None if check else lines
            last = reader.line_num
            for record in reader:
                start, last = last + 1, reader.line_num
                if not record:
                    continue  # a blank line: no row (pandas, DuckDB and Spark skip it too)
                if check and len(record) != len(header):
                    return self._field_error(start, record, len(header))
                lines.append(start)
        return None if check else lines

    def _field_error(self, line: int, record: list[str], fields: int) -> InputFileError:
        text = self.separator.join(record).replace("\n", "\\n")
        return InputFileError(
            validation_message(
                self.path,
                f"line {line} has {len(record)} fields, the header has {fields}.",
                f"{fields} fields per line separated by {self.separator!r}; quote a value that "
                f"holds the separator, or set `load_args: {{{self.option}: ';'}}` (or '\\t', '|') "
                "on the catalog entry",
                f"line {line}: {text[:200]!r}",
            )
        )

    def source_lines(self, rows: int) -> np.ndarray | None:
        """The physical line of each of `rows` records when it is not simply its position + 2 (a
        file with blank lines or quoted line breaks); None otherwise. The file's line ends are
        counted in chunks (fast); only a file whose count differs is read record by record."""
        ends, last = 0, b"\n"
        with self.fs.open(self.path, mode="rb") as file:
            while chunk := file.read(self.CHUNK):
                ends, last = ends + chunk.count(b"\n"), chunk[-1:]
        ends += 0 if last == b"\n" else 1
        if ends == rows + 1:
            return None
        lines = self.records()
        return np.array(lines, dtype="int64") if len(lines) == rows else None


class RawCustomersDataset(CSVDataset):
    """`pandas.CSVDataset` that reads cells as text, loads an empty file as an empty table, and says
    clearly why a file cannot be read."""

    # Every cell as the file writes it; only an empty cell is blank. Words such as "NULL" or "N/A",
    # which pandas would read as missing by itself, are left to the schema's placeholder list
    # (`schema.PLACEHOLDERS`), so that every engine reads a file the same way and a quarantined id
    # says which placeholder it was.
    DEFAULT_LOAD_ARGS: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": [""]}

    def _read(self, load_args: dict[str, Any]) -> pd.DataFrame:
        path = str(self._get_load_path())
        if self._protocol == "file":
            return pd.read_csv(path, **load_args)
        return pd.read_csv(
            f"{self._protocol}{PROTOCOL_DELIMITER}{path}",
            storage_options=self._storage_options,
            **load_args,
        )

    def _read_columnar(self) -> pd.DataFrame | None:
        """The file through the pyarrow engine, or None where that engine cannot or will not read it."""
        if "engine" in self._load_args:
            return None
        try:
            return self._read({**self._load_args, "engine": "pyarrow"})
        except (ValueError, UnicodeError):  # an option it does not take, or a file it refuses
            return None

    def load(self) -> pd.DataFrame:
        path = PurePosixPath(self._get_load_path())
        if self._protocol == "file" and not self._fs.exists(str(path)):
            raise InputFileError(
                validation_message(
                    str(path),
                    "no such file.",
                    "a customer file at this path (the catalog entry's `filepath`, here from "
                    "conf/<env>/globals.yml)",
                    "nothing there: put the file there, or point the catalog at another file "
                    "(README: 'Your own customer table')",
                )
            )
        columnar = self._read_columnar()
        if columnar is None:  # the fast reader refused the file or the options: read it carefully
            try:
                problem = self._csv_lines(str(path)).records(check=True)
            except UnicodeDecodeError:  # the reader below says where the text is not valid
                problem = None
            if problem is not None:
                raise problem
            try:
                columnar = self._read({**self._load_args, "index_col": False})
            except (ValueError, UnicodeError) as cause:
                if isinstance(cause, pd.errors.EmptyDataError):
                    return pd.DataFrame()
                if isinstance(cause, UnicodeDecodeError):
                    raise self._encoding_error(str(path), cause) from cause
                raise
        if "nrows" not in self._load_args:
            columnar.attrs["source_lines"] = self._csv_lines(str(path)).source_lines(len(columnar))
        return columnar

    def _lines(self, path: str) -> list[bytes]:
        with self._fs.open(path, mode="rb") as file:
            return file.read().splitlines()

    def _csv_lines(self, path: str) -> CsvLines:
        return CsvLines(
            self._fs, path, self._load_args.get("sep", ","), self._load_args.get("encoding")
        )

    def _encoding_error(self, path: str, cause: UnicodeDecodeError) -> InputFileError:
        encoding = self._load_args.get("encoding") or "utf-8"
        for number, line in enumerate(self._lines(path), start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as bad:
                found = (
                    f"line {number}, byte {bad.start + 1}: {line[bad.start : bad.end]!r} "
                    f"in {line[:80]!r}"
                )
                break
        else:
            found = str(cause)
        return InputFileError(
            validation_message(
                path,
                f"the file is not valid {encoding} text.",
                f"text in the encoding {encoding}; for another encoding set "
                "`load_args: {encoding: cp1252}` (or latin-1, utf-16, ...) on the catalog entry",
                found,
            )
        )


class SafeCSVDataset(CSVDataset):
    """`pandas.CSVDataset` for the CSV files the project writes: a text cell or header that a
    spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) is written with a quote in front
    (`exports.safe_frame`), and read back without it."""

    def save(self, data: pd.DataFrame) -> None:
        super().save(safe_frame(data))

    def load(self) -> pd.DataFrame:
        return unquoted(super().load())


class SafeExcelDataset(ExcelDataset):
    """`pandas.ExcelDataset` whose cells are safe to open: a text cell that starts like a formula is
    written with a quote in front (`exports.safe_frame`), since the writer (openpyxl) would
    otherwise store it as a formula. A dict of tables is one sheet each."""

    def save(self, data: pd.DataFrame | dict[str, pd.DataFrame]) -> None:
        if isinstance(data, dict):
            data = {sheet: safe_frame(table) for sheet, table in data.items()}
        else:
            data = safe_frame(data)
        super().save(data)


class SafeIbisFileDataset(IbisFileDataset):
    """`ibis.FileDataset` whose CSV files are safe to open in a spreadsheet (`exports.safe_table`,
    computed by the table's engine); other formats keep every value."""

    def save(self, data: Any) -> None:
        super().save(safe_table(data) if self._file_format == "csv" else data)


class OrderLogFileDataset(IbisFileDataset):
    """`ibis.FileDataset` for an order log file: a line with more or fewer fields than the header
    stops the run naming its physical line (`CsvLines`), and on DuckDB every row carries the file's
    physical line as `source_line` (blank lines and quoted line breaks counted).

    The engine reads the file as the catalog says (DuckDB: an explicit dialect in strict mode, so
    that it refuses such a line instead of guessing another dialect). The file is read the slow,
    careful way only when the engine refuses it, or when its line ends and rows do not match.
    """

    def load(self) -> Any:
        if self._file_format != "csv" or self._fs_prefix:
            return super().load()
        path = str(self._get_load_path())
        separator = self._load_args.get("delim") or self._load_args.get("sep") or ","
        encoding = self._load_args.get("encoding")
        lines = CsvLines(self._filesystem(), path, separator, encoding, option="delim")
        try:
            table = super().load()
            if table.get_backend().name != "duckdb":  # Spark numbers its own partitions
                return table
            rows = int(table.count().execute())
        except Exception as cause:  # the engine refused the file: say which line, if one is wrong
            if os.path.exists(path) and os.path.getsize(path):
                problem = lines.records(check=True)
                if problem is not None:
                    raise problem from cause
            raise
        physical = lines.source_lines(rows)
        if physical is None:
            return table
        import ibis  # noqa: PLC0415 (only order logs need Ibis)

        positions = ibis.memtable({"_row": np.arange(rows), "source_line": physical})
        numbered = table.mutate(_row=ibis.row_number())
        joined = numbered.join(positions, "_row").order_by("_row")
        return joined.select("source_line", *table.columns)


class KeptMemoryDataset(MemoryDataset):
    """A `MemoryDataset` the runner cannot release: its data stays readable after the run. An Ibis
    table is computed once and kept by its engine (`Table.cache()`), so the next node starts from
    its rows instead of compiling and running every step before it again."""

    def save(self, data: Any) -> None:
        super().save(computed(data))

    def _release(self) -> None:
        pass


def computed(data: Any) -> Any:
    """An Ibis table cached by its engine (computed once); anything else as it is."""
    if type(data).__module__.startswith("ibis.") and hasattr(data, "cache"):
        return data.cache()
    return data


class CachedTableDataset(MemoryDataset):
    """An Ibis table computed once and kept by its engine between two nodes, for engines without a
    database file to hold each step (conf/spark_transactions). On Spark the step is computed and
    checkpointed in the executors' memory (`localCheckpoint`): later steps start from its rows, not
    from the plan that made them (Spark 4.3's analyser fails on some plans that join a table to an
    aggregate of itself several steps back). Elsewhere: `Table.cache()`. Released once its last
    reader has run."""

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(copy_mode="assign", metadata=metadata)
        self._frame: Any = None

    def save(self, data: Any) -> None:
        backend = data._find_backend()
        if backend.name != "pyspark":
            super().save(computed(data))
            return
        self._frame = backend._session.sql(backend.compile(data)).localCheckpoint(eager=True)
        name = f"step_{uuid.uuid4().hex}"
        self._frame.createOrReplaceTempView(name)
        super().save(backend.table(name))

    def _release(self) -> None:
        if self._frame is not None:
            self._frame.unpersist()
            self._frame = None
        elif self._data is not None:
            self._data.release()
        super()._release()


class FigureDataset(MatplotlibDataset):
    """`matplotlib.MatplotlibDataset` that can also be loaded: as the PNG bytes it saved.

    Plot nodes return figures and the catalog saves them as (versioned) PNG files, as with the parent
    class; nodes downstream, such as the HTML report, load the bytes of the version just saved.
    Kedro-Viz previews it like any matplotlib dataset.
    """

    def load(self) -> bytes:
        with self._fs.open(
            get_filepath_str(self._get_load_path(), self._protocol), mode="rb"
        ) as file:
            return file.read()


class IndexedParquetDataset(ParquetDataset):
    """`pandas.ParquetDataset` that saves the index as the first column and loads it back as the
    index (fast for text ids, which pyarrow would otherwise convert one Python string at a time)."""

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"index": False}

    def save(self, data: pd.DataFrame) -> None:
        super().save(data.reset_index())

    def load(self) -> pd.DataFrame:
        table = super().load()
        return table.set_index(table.columns[0])


class TrackedRunsDataset(AbstractDataset[None, pd.DataFrame]):
    """The runs of an MLflow experiment as a table (read-only): one row per run with `run_id`,
    `status`, `start_time`, and `params.*`, `metrics.*`, `tags.*` columns, newest first.

    It reads the tracking store kedro-mlflow has set up for the session (conf/base/mlflow.yml:
    `sqlite:///mlflow.db`, or `MLFLOW_TRACKING_URI`); `tracking_uri` names another store."""

    def __init__(
        self,
        experiment: str,
        tracking_uri: str | None = None,
        max_runs: int = 1000,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._experiment = experiment
        self._tracking_uri = tracking_uri
        self._max_runs = max_runs
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        import mlflow  # noqa: PLC0415 (only the experiments pipeline reads the store)

        if self._tracking_uri:
            mlflow.set_tracking_uri(self._tracking_uri)
        runs = mlflow.search_runs(
            experiment_names=[self._experiment],
            max_results=self._max_runs,
            order_by=["attributes.start_time DESC"],
        )
        runs.attrs["tracking_uri"] = mlflow.get_tracking_uri()
        return runs

    def save(self, data: pd.DataFrame) -> None:
        raise DatasetError(
            f"{type(self).__name__} is read-only: MLflow runs are recorded by kedro-mlflow"
        )

    def _describe(self) -> dict[str, Any]:
        return {"experiment": self._experiment, "tracking_uri": self._tracking_uri}


class SegmentModelDataset(PickleDataset):
    """The saved segment model (`pickle.PickleDataset`); the loaded model's `source_` names the file
    and run version it was read from, so scoring's messages can say which model they mean."""

    def load(self) -> Any:
        model = super().load()
        path = PurePosixPath(str(self._get_load_path()))
        version = path.parent.name if self._version else None
        source = str(path.parent.parent) if version else str(path)
        try:
            model.source_ = f"{_relative(source)} (run {version})" if version else _relative(source)
        except AttributeError:  # an object that takes no attributes: nothing to tell
            pass
        return model


def _relative(path: str) -> str:
    """A local path relative to the working directory (the project), when it lies under it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


class PreviousRunParquetDataset(ParquetDataset):
    """A versioned `pandas.ParquetDataset` read as "the previous run's" table (segment migration's
    previous segmented customers): `RunHooks` pins it to the newest complete run of the environment
    that saved the same file (or `--load-versions` pins it). With no such run it loads an empty table
    instead of failing. The loaded table's `attrs["version"]` names the version it read."""

    allows_no_run = True  # runs.pin_inputs: leave it unpinned when no complete run saved it

    def resolve_load_version(self) -> str | None:
        return self._version.load if self._version else None

    def load(self) -> pd.DataFrame:
        version = self.resolve_load_version()
        if version is None:
            return pd.DataFrame()
        table = super().load()
        table.attrs["version"] = version
        return table


class ProjectDataCatalog(DataCatalog):
    """Kedro's `DataCatalog`, whose datasets the catalog does not declare (the tables between nodes)
    are handed on as they are: Kedro's `MemoryDataset` copies a DataFrame on every save and load by
    default, which at 10 million customers costs seconds and gigabytes. Nodes never change their
    inputs. (`settings.DATA_CATALOG_CLASS`; a `"{default}"` catalog pattern would do the same but logs
    a warning for every such dataset.)"""

    default_runtime_patterns: ClassVar = {
        "{default}": {"type": "kedro.io.MemoryDataset", "copy_mode": "assign"}
    }

"""Project catalog datasets: raw customer files, and plots that can be loaded back as PNG bytes.

`RawCustomersDataset` is a pandas CSV dataset that reads every cell as text.

It differs from `pandas.CSVDataset` in two ways a user of raw exports cares about:
an empty file (no header at all) loads as an empty table, so the pipeline can answer with a
`DataValidationError` naming the file instead of a parser traceback; and a missing file says where the
project looks for it and how to point it elsewhere.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import DatasetError
from kedro.io.core import get_filepath_str
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import CSVDataset


class RawCustomersDataset(CSVDataset):
    """`pandas.CSVDataset` that loads an empty file as an empty table and reads cells as text."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"dtype": str, "skipinitialspace": False}

    def load(self) -> pd.DataFrame:
        path = PurePosixPath(self._get_load_path())
        if self._protocol == "file" and not self._fs.exists(str(path)):
            raise FileNotFoundError(
                f"No customer file at '{path}'. Put the CSV there, or point the run at another file "
                "(see README: 'Run on your own data')."
            )
        try:
            return super().load()
        except DatasetError as error:  # kedro wraps the parser's error of the inherited load
            if isinstance(error.__cause__, pd.errors.EmptyDataError):
                return pd.DataFrame()
            raise


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

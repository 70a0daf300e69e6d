"""Catalog dataset for raw customer files: a pandas CSV dataset that reads every cell as text.

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

"""The one exception type for bad input and impossible settings, and its message helpers."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from kedro.io import DatasetError

MAX_EXAMPLE_ROWS = 5


class DataValidationError(ValueError):
    """Input data or a parameter cannot be used; the message says where, what and why."""


def example_rows(frame: pd.DataFrame, rows: Iterable | None = None) -> str:
    """Render up to five rows (all of `frame`, or the labels in `rows`) as an indented table."""
    sample = frame if rows is None else frame.loc[list(rows)]
    sample = sample.head(MAX_EXAMPLE_ROWS)
    if sample.empty:
        return "    (no rows)"
    text = sample.to_string(max_colwidth=40)
    return "\n".join("    " + line for line in text.splitlines())


def validation_message(
    source: str,
    problem: str,
    expected: str,
    found: str,
    examples: str | None = None,
) -> str:
    """Build the standard multi-line message: file, problem, expected, found, example rows."""
    lines = [
        f"{source}: {problem}",
        f"  expected: {expected}",
        f"  found:    {found}",
    ]
    if examples:
        lines += [f"  example rows (up to {MAX_EXAMPLE_ROWS}):", examples]
    return "\n".join(lines)


class InputFileError(DataValidationError, DatasetError):
    """A raw input file cannot be read as declared (missing, wrong encoding, wrong number of fields).

    It is a `DatasetError` too, so Kedro passes it on from a dataset's `load` unchanged: the user sees
    this message, not a wrapped dataset traceback.
    """

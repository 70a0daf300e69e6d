"""Cells a spreadsheet would run as a formula, made inert in every CSV the project writes.

Excel, LibreOffice and Google Sheets take a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula: an id or a description `=HYPERLINK("http://…","click")` in a quarantine
file runs when a marketer opens it. As OWASP advises against CSV injection, such a cell is written
with a single quote in front (`'=HYPERLINK(…)`), which a spreadsheet shows as the text it is. Plain
numbers (`-3`, `+4.5`, `-1e-3`) are left as they are. Headers are text cells too. The Excel workbook
(`segments.xlsx`, `datasets.SafeExcelDataset`) is quoted the same way, since its writer stores a
text that starts with `=` as a formula. Parquet and the other typed formats keep every value as it
is.

The rule is written once here (`FORMULA_START`, `PLAIN_NUMBER`, `QUOTE`) and applied to the table
each engine writes: pandas (`safe_frame`), Ibis (`safe_table`: DuckDB, Spark, SQL databases) and
Spark DataFrames (`safe_spark`). `unquoted` takes the quote off again for a file the project reads back.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = "=+-@\t\r"
PLAIN_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
QUOTE = "'"
# an engine's regular expression for "starts like a formula": FORMULA_START as a character class
_STARTS = "^[" + FORMULA_START.replace("-", "") + "-]"


def is_formula_like(text: str) -> bool:
    """True for text a spreadsheet would run: it starts with a formula character and is not a
    plain number."""
    return bool(text) and text[0] in FORMULA_START and not re.match(PLAIN_NUMBER, text)


def safe_text(value: Any) -> Any:
    """`value` with a quote in front when it is formula-like text; anything else as it is."""
    return QUOTE + value if isinstance(value, str) and is_formula_like(value) else value


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every formula-like text cell and header quoted (`safe_text`); numbers, dates and
    booleans as they are. Only the text columns that have such a cell are copied."""
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if not _is_text(values):
            continue
        starts = values.astype("string").str[:1].isin(list(FORMULA_START)).fillna(False)
        if starts.any():
            changed[column] = values.mask(starts, values[starts].map(safe_text))
    safe = frame.assign(**changed) if changed else frame
    names = [safe_text(c) if isinstance(c, str) else c for c in safe.columns]
    return safe.set_axis(names, axis=1) if names != list(safe.columns) else safe


def unquoted(frame: pd.DataFrame) -> pd.DataFrame:
    """A `safe_frame` read back: the quote taken off the cells and headers it was put on."""

    def back(value: Any) -> Any:
        if isinstance(value, str) and value[:1] == QUOTE and is_formula_like(value[1:]):
            return value[1:]
        return value

    changed = {}
    for column in frame.columns:
        values = frame[column]
        if _is_text(values) and values.astype("string").str.startswith(QUOTE).fillna(False).any():
            changed[column] = values.map(back)
    frame = frame.assign(**changed) if changed else frame
    return frame.set_axis([back(c) for c in frame.columns], axis=1)


def safe_table(table):
    """`safe_frame` as an Ibis expression, computed by the table's own engine."""
    import ibis  # noqa: PLC0415 (only order-log outputs need Ibis)

    columns = {}
    for name, dtype in table.schema().items():
        value = table[name]
        if dtype.is_string():
            risky = value.re_search(_STARTS) & ~value.re_search(PLAIN_NUMBER)
            value = ibis.ifelse(risky.fill_null(False), ibis.literal(QUOTE) + value, value)
        columns[safe_text(name)] = value
    return table.select(**columns)


def safe_spark(frame):
    """`safe_frame` as Spark column expressions."""
    from pyspark.sql import functions as F  # noqa: N812, PLC0415 (only the spark environments)

    columns = []
    for field in frame.schema.fields:
        value = F.col(f"`{field.name}`")
        if field.dataType.typeName() == "string":
            risky = value.rlike(_STARTS) & ~value.rlike(PLAIN_NUMBER)
            value = F.when(risky, F.concat(F.lit(QUOTE), value)).otherwise(value)
        columns.append(value.alias(safe_text(field.name)))
    return frame.select(*columns)

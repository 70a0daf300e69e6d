"""What differs between the engines the order-log rules run on, in one place.

The rules in `nodes.py` and `rfm.py` are Ibis expressions: DuckDB (embedded, the default), PySpark
and SQL databases such as PostgreSQL compile them. Where the engines disagree on a detail the rules
depend on, the rules call a function here, which writes it so every engine gives the same answer:

- `numbered`: the file's line number of each row (no engine has a portable one);
- `with_timestamp`: a date in the declared strptime format, or null (DuckDB and PostgreSQL raise on
  a bad date, Spark speaks another pattern language);
- `parsed_number`: a number as exact DECIMAL, or null (`try_cast` is a plain CAST on PostgreSQL);
- `row_hash`, `earliest_equal_line`: how an engine finds repeated lines quickly (a hash of each
  row's values on DuckDB, a window over the values on Spark);
- `rounded`: half to even, as pandas and numpy round (SQL's ROUND is half away from zero);
- `trimmed`: spaces, tabs, line breaks, vertical tabs and form feeds off both ends (Spark's TRIM
  keeps the last two).
"""

from __future__ import annotations

import re
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from customer_segmentation.errors import DataValidationError

# Order-line numbers are read as DECIMAL(18, 4): exact money and quantities to 1/10,000, products
# (DECIMAL(36, 8)) and their sums exact on every engine. Magnitudes from 1e14 do not fit.
NUMBER = "decimal(18, 4)"
MAX_MAGNITUDE = 1e14
NUMBER_TEXT = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"

# Python's strptime directives -> Spark's datetime pattern letters (one letter: one or two digits,
# as strptime reads them)
SPARK_DIRECTIVES = {
    "Y": "yyyy", "y": "yy", "m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s",
    "p": "a", "b": "MMM", "B": "MMMM", "f": "SSSSSS", "%": "%",
}  # fmt: skip
# strptime directives read by pattern on engines without a lenient date parser (PostgreSQL, ...):
# the regular expression of the field and the timestamp part it gives
NUMERIC_DIRECTIVES = {
    "Y": (r"([0-9]{4})", "year"), "m": (r"([0-9]{1,2})", "month"), "d": (r"([0-9]{1,2})", "day"),
    "H": (r"([0-9]{1,2})", "hour"), "M": (r"([0-9]{1,2})", "minute"),
    "S": (r"([0-9]{1,2})", "second"),
}  # fmt: skip


@ibis.udf.scalar.builtin
def try_strptime(text: str, date_format: str) -> ibis.dtype("timestamp"):  # type: ignore[valid-type]
    """DuckDB's strptime that gives null instead of raising."""


@ibis.udf.scalar.builtin
def try_to_timestamp(text: str, pattern: str) -> ibis.dtype("timestamp"):  # type: ignore[valid-type]
    """Spark's lenient timestamp parser."""


@ibis.udf.scalar.builtin
def monotonically_increasing_id() -> ibis.dtype("int64"):  # type: ignore[valid-type]
    """Spark's row id: the partition in the upper 31 bits, the row within it in the lower 33."""


def engine(table: ir.Table) -> str:
    """The name of the engine that runs `table` ('duckdb', 'pyspark', 'postgres', ...)."""
    return table._find_backend(use_default=True).name


def numbered(table: ir.Table, first: int = 2) -> ir.Table:
    """`table` with `source_line` first: the line each row was read from (the header is line 1).

    A table that already has `source_line` (a database table loaded with its file's line numbers)
    keeps it. DuckDB numbers rows in reading order (it keeps insertion order); Spark counts the rows
    of each partition of its reading order and adds the rows of the earlier ones (one small
    aggregate, no single-partition window). A database table without `source_line` has no file
    order: its rows are numbered in the order of their values, so the same table gets the same
    numbers.
    """
    if "source_line" in table.columns:
        return table.relocate("source_line")
    on = engine(table)
    if on == "duckdb":
        return table.mutate(source_line=ibis.row_number() + first).relocate("source_line")
    if on != "pyspark":  # a database returns rows in no set order: number them by their values
        line = ibis.row_number().over(order_by=list(table.columns)) + first
        return table.mutate(source_line=line).relocate("source_line")
    # a file's scan gives every row the same id each time it is read (its partition and position;
    # data_processing.spark.number_lines relies on it too): the partition counts and the rows they
    # number are two reads of the same scan, not a cached copy of the whole log
    ids = table.mutate(_id=monotonically_increasing_id())
    ids = ids.mutate(_part=ids._id // (1 << 33), _pos=ids._id % (1 << 33))
    parts = ids.group_by("_part").agg(_rows=ids.count())
    earlier = parts.view()
    # rows of the earlier partitions: a join of the few partition counts, no window over them
    parts = (
        parts.left_join(earlier, earlier._part < parts._part)
        .group_by(parts._part)
        .agg(_offset=earlier._rows.sum().fill_null(0))
    )
    joined = ids.join(parts, "_part")
    line = (joined._offset + joined._pos + first).cast("int64")
    return joined.mutate(source_line=line).select("source_line", *table.columns)


def spark_date_pattern(date_format: str) -> str:
    """`customer_features.date_format` (strptime) as a Spark datetime pattern; letters between the
    directives are quoted. An unsupported directive stops the run naming the parameter."""
    pattern = []
    for part in re.split(r"(%.)", date_format):  # literal text and directives, alternately
        if part.startswith("%") and len(part) == 2:
            if part[1] not in SPARK_DIRECTIVES:
                raise _unsupported(part, date_format, SPARK_DIRECTIVES, "Spark")
            pattern.append(SPARK_DIRECTIVES[part[1]])
        elif re.search(r"[A-Za-z']", part):
            pattern.append("'" + part.replace("'", "''") + "'")
        else:
            pattern.append(part)
    return "".join(pattern)


def _unsupported(part: str, date_format: str, known: dict, where: str) -> DataValidationError:
    return DataValidationError(
        f"parameter customer_features.date_format: {part} is not supported on {where}; expected "
        f"directives among {', '.join('%' + d for d in known)}, found {date_format!r}"
    )


def _days_in_month(year: ir.IntegerValue, month: ir.IntegerValue) -> ir.IntegerValue:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return ibis.cases(
        (month == 2, ibis.ifelse(leap, 29, 28)),
        (month.isin([4, 6, 9, 11]), 30),
        else_=31,
    )


def _fields_by_pattern(date_format: str) -> tuple[str, list[str]]:
    """A strptime format of numeric directives as one regular expression and the fields it reads."""
    regex, fields = ["^"], []
    for part in re.split(r"(%.)", date_format):
        if part.startswith("%") and len(part) == 2:
            if part[1] not in NUMERIC_DIRECTIVES:
                raise _unsupported(part, date_format, NUMERIC_DIRECTIVES, "this database")
            regex.append(NUMERIC_DIRECTIVES[part[1]][0])
            fields.append(NUMERIC_DIRECTIVES[part[1]][1])
        else:
            regex.append(re.escape(part).replace("\\ ", " "))
    if "year" not in fields:
        raise _unsupported("(no %Y)", date_format, NUMERIC_DIRECTIVES, "this database")
    return "".join(regex) + "$", fields


def with_timestamp(table: ir.Table, text: str, date_format: str, name: str) -> ir.Table:
    """`table` with column `name`: its column `text` read with the strptime `date_format`, null
    where it does not match (never guessed, never an error).

    DuckDB and Spark have lenient parsers. Elsewhere (PostgreSQL, ...) a text of the format's shape
    (one regular expression) is split into its numbers, in their own projection (so the expressions
    run once per row), which are checked (month 1-12, the month's days, 0-23 h, ...) before the
    timestamp is built."""
    on = engine(table)
    if on == "duckdb":
        return table.mutate(**{name: try_strptime(table[text], date_format)})
    if on == "pyspark":
        pattern = ibis.literal(spark_date_pattern(date_format))
        return table.mutate(**{name: try_to_timestamp(table[text], pattern)})
    pattern, fields = _fields_by_pattern(date_format)
    # two regular expressions a row: the text's shape, then its digit runs split apart
    digits = table[text].re_replace("[^0-9]+", " ").strip().split(" ")
    parts = table.mutate(_parts=ibis.ifelse(table[text].re_search(pattern), digits, None))
    read = parts.mutate(
        **{f"_{field}": parts._parts[index].cast("int32") for index, field in enumerate(fields)}
    ).drop("_parts")
    default = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    value = {f: read[f"_{f}"] if f in fields else ibis.literal(v) for f, v in default.items()}
    year = read._year
    valid = (
        year.notnull()
        & value["month"].between(1, 12)
        & (value["day"] >= 1)
        & (value["day"] <= _days_in_month(year, value["month"]))
        & (value["hour"] <= 23)
        & (value["minute"] <= 59)
        & (value["second"] <= 59)
    )
    stamp = ibis.timestamp(
        year, value["month"], value["day"], value["hour"], value["minute"], value["second"]
    )
    return read.mutate(**{name: ibis.ifelse(valid, stamp, ibis.null("timestamp"))}).drop(
        *[f"_{field}" for field in fields]
    )


def trimmed(text: ir.StringValue, on: str) -> ir.StringValue:
    """`text` without spaces, tabs, line feeds, carriage returns, vertical tabs or form feeds at
    either end."""
    if on == "pyspark":  # Java's \\s is exactly that set
        return text.re_replace(r"^\s+|\s+$", "")
    return text.strip()


def parsed_number(text: ir.StringValue, on: str) -> ir.DecimalValue:
    """`text` as an exact DECIMAL(18, 4) where it is a finite number below 1e14 in magnitude (as
    pandas' to_numeric reads numbers: sign, digits, decimal point, exponent), else null.

    DuckDB's TRY_CAST gives null for a number that does not fit DECIMAL(18, 4) (1e14 or more):
    one regular expression a value. Elsewhere the magnitude is checked first (PostgreSQL has no
    TRY_CAST: a CAST that overflows raises)."""
    looks_numeric = text.re_search(NUMBER_TEXT)
    if on == "duckdb":
        return ibis.ifelse(looks_numeric, text, None).try_cast(NUMBER)
    approximate = ibis.ifelse(looks_numeric, text, None).cast("float64")
    fits = looks_numeric & (approximate.abs() < MAX_MAGNITUDE)
    return ibis.ifelse(fits, text, None).cast(NUMBER)


def row_hash(table: ir.Table, columns: list[str]) -> ir.IntegerValue | None:
    """A hash of each row's values in `columns` (equal values, equal hash; different values may
    collide), or None on an engine where the rules do not use one (Spark, PostgreSQL, ...)."""
    if engine(table) != "duckdb":
        return None
    return ibis.struct({f"_{number}": table[c] for number, c in enumerate(columns)}).hash()


def earliest_equal_line(table: ir.Table, columns: list[str]) -> ir.IntegerValue | None:
    """The smallest `source_line` among the rows with the same values in `columns` (blanks equal
    to blanks), as a window, on Spark: one shuffle of the rows, where a group-by joined back to the
    rows shuffles them three times. None elsewhere: DuckDB and SQL databases group and join."""
    if engine(table) != "pyspark":
        return None
    return table.source_line.min().over(ibis.window(group_by=[table[c] for c in columns]))


def rounded(
    value: ir.NumericValue, digits: int, per: ir.NumericValue | None = None
) -> ir.FloatingValue:
    """`value` (divided by `per`, if given) rounded to `digits` decimals half to even, as numpy and
    pandas round (SQL's ROUND rounds halves away from zero): the same figures on every engine.

    An exact DECIMAL is scaled before it becomes a float, so a value that is exactly half a cent is
    rounded as one: 15.41 / 2 orders gives 7.70 (1541 cents / 2 = 770.5 -> 770)."""
    scale = 10**digits
    scaled = (value * scale).cast("float64")
    if per is not None:
        scaled = scaled / per.cast("float64")
    floor = scaled.floor()
    fraction = scaled - floor
    even = ibis.ifelse(floor % 2 == 0, floor, floor + 1)
    whole = ibis.cases((fraction > 0.5, floor + 1), (fraction < 0.5, floor), else_=even)
    return whole.cast("float64") / scale


def scalar(expression: ir.Scalar) -> Any:
    """A scalar expression's value on its engine, as a Python value (None for null)."""
    value = expression.execute()
    return None if value is None or pd.isna(value) else value

"""backends.py: what the engines do differently, settled once, checked on every engine."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.customer_features.backends import (
    earliest_equal_line,
    numbered,
    parsed_number,
    rounded,
    row_hash,
    spark_date_pattern,
    trimmed,
    with_timestamp,
)
from customer_segmentation.pipelines.customer_features.backends import (
    engine as engine_of,
)


def column(engine, values: list, name: str = "v") -> pd.Series:
    """`values` (text) through the engine, returned as they come back."""
    return engine.table(pd.DataFrame({name: values}, dtype=object))


def test_the_engine_is_named_by_its_table(engine):
    assert engine_of(column(engine, ["x"])) == engine.name


def test_strip_trims_every_kind_of_whitespace_as_pandas_does(engine):
    values = ["  a ", "\tb\t", "c\r\n", " \x0bd\x0c", None]
    table = column(engine, values)
    trimmed_values = table.select(t=trimmed(table.v, engine.name)).to_pandas()["t"].tolist()
    assert trimmed_values[:4] == ["a", "b", "c", "d"] and pd.isna(trimmed_values[4])


DATES = {
    "01/05/2025 10:00": pd.Timestamp("2025-01-05 10:00"),
    "1/5/2025 9:07": pd.Timestamp("2025-01-05 09:07"),  # strptime reads one digit too
    "02/29/2024 23:59": pd.Timestamp("2024-02-29 23:59"),  # a leap day
    "02/29/2025 12:00": None,  # not a leap year
    "02/30/2025 12:00": None,
    "13/01/2025 12:00": None,
    "12/01/2025 24:00": None,
    "2025-01-05 10:00": None,  # another format: never guessed
    "": None,
}


def test_dates_are_read_by_the_declared_format_or_are_null_never_an_error(engine):
    table = column(engine, list(DATES))
    parsed = with_timestamp(table, "v", "%m/%d/%Y %H:%M", "d").to_pandas()
    for text, expected in DATES.items():
        found = parsed.loc[parsed["v"] == text, "d"].item()
        assert pd.isna(found) if expected is None else found == expected, (text, found)


def test_seconds_and_day_first_dates(engine):
    table = column(engine, ["31/12/2024 23:59:58", "31/11/2024 10:00:00"])
    parsed = with_timestamp(table, "v", "%d/%m/%Y %H:%M:%S", "d").to_pandas()
    found = parsed.sort_values("v", ascending=False)["d"].tolist()
    assert found[0] == pd.Timestamp("2024-12-31 23:59:58") and pd.isna(found[1])


NUMBERS = {
    "5": 5, "+5": 5, "-3": -3, "2.675": 2.675, ".5": 0.5, "5.": 5, "1e3": 1000, "1E-2": 0.01,
    "0.12345": 0.1235,  # four decimals kept (DECIMAL(18, 4))
    "1,000": None, "nan": None, "inf": None, "-Infinity": None, "x": None, "": None,
    "1e14": None, "99999999999999": 99999999999999,  # from 1e14 the magnitude does not fit
    "99999999999999.99999": None,  # 1e14 once rounded to four decimals
}  # fmt: skip


def test_numbers_are_exact_decimals_or_null(engine):
    table = column(engine, list(NUMBERS))
    parsed = table.select("v", n=parsed_number(table.v, engine_of(table))).to_pandas()
    for text, expected in NUMBERS.items():
        found = parsed.loc[parsed["v"] == text, "n"].item()
        if expected is None:
            assert pd.isna(found), (text, found)
        else:
            assert float(found) == expected, (text, found)


def test_money_sums_are_exact(engine):
    table = column(engine, ["0.10"] * 10 + ["0.20"] * 10)
    total = (
        table.aggregate(s=parsed_number(table.v, engine_of(table)).sum()).to_pandas()["s"].item()
    )
    assert str(total).rstrip("0").rstrip(".") == "3"  # floats give 3.0000000000000004


def test_each_engine_has_its_quick_way_to_find_equal_rows(engine):
    """DuckDB hashes rows, Spark takes the earliest equal line by a window, PostgreSQL compares
    values (neither): equal values (a blank equal to a blank, not to '') are found either way."""
    rows = pd.DataFrame(
        {"a": ["x", "x", "x", None, None, ""], "b": ["1", "1", "2", "1", "1", "1"]}, dtype=object
    )
    table = engine.table(rows.assign(source_line=range(2, 8)))
    digest, earliest = row_hash(table, ["a", "b"]), earliest_equal_line(table, ["a", "b"])
    ways = {"duckdb": (True, False), "pyspark": (False, True)}.get(engine.name, (False, False))
    assert (digest is not None, earliest is not None) == ways
    if digest is not None:
        hashes = table.select("a", "b", h=digest).to_pandas()
        key = hashes["a"].fillna("<null>") + "|" + hashes["b"]
        assert (hashes.groupby(key)["h"].nunique() == 1).all()  # equal values: one hash
        assert hashes.loc[key == "x|1", "h"].iloc[0] != hashes.loc[key == "x|2", "h"].iloc[0]
    if earliest is not None:
        found = table.select("source_line", e=earliest).to_pandas().sort_values("source_line")
        assert found["e"].tolist() == [2, 2, 4, 5, 5, 7]


def test_rounding_is_half_to_even_as_pandas_on_every_engine(engine):
    values = [0.125, 0.135, 2.5, 3.5, -2.5, 1.005, 7.705]
    table = engine.table(pd.DataFrame({"v": values}))
    found = table.select(r=rounded(table.v, 2), w=rounded(table.v, 0)).to_pandas()
    assert found["w"].tolist() == np.round(values, 0).tolist()
    assert found["r"].tolist() == np.round(values, 2).tolist()
    exact = column(engine, ["15.41", "4731.19"])  # half a cent, exactly: to the even cent
    cents = exact.select(
        a=rounded(parsed_number(exact.v, engine_of(exact)), 2, per=ibis.literal(2))
    )
    assert cents.to_pandas()["a"].tolist() == [7.70, 2365.60]


def test_line_numbers_follow_the_file_on_duckdb_and_spark(engine, tmp_path):
    if engine.name == "postgres":  # a table has no file: it brings its own `source_line`
        table = engine.table(pd.DataFrame({"source_line": [7, 9], "x": ["a", "b"]}))
        assert numbered(table).columns[0] == "source_line"
        assert numbered(table).to_pandas()["source_line"].tolist() == [7, 9]
        shuffled = engine.table(pd.DataFrame({"x": ["b", "c", "a"]}, dtype=object), lines=False)
        lines = numbered(shuffled).to_pandas().sort_values("source_line")
        assert lines["x"].tolist() == ["a", "b", "c"]  # no file order: numbered by value
        return
    lines = 300_000
    path = tmp_path / "log.csv"
    pd.DataFrame({"expected": np.arange(2, lines + 2)}).to_csv(path, index=False)
    if engine.name == "pyspark":  # several partitions, as a large file gives
        session = engine.connection._session
        session.conf.set("spark.sql.files.maxPartitionBytes", "256k")
        raw = engine.connection.read_csv(str(path), header=True, inferSchema=False)
        assert session.table(raw.get_name()).rdd.getNumPartitions() > 4
    else:
        raw = engine.connection.read_csv(str(path), all_varchar=True)
    table = numbered(raw)
    assert table.columns[0] == "source_line"
    wrong = table.filter(table.source_line.cast("string") != table.expected).count()
    assert wrong.execute() == 0 and table.count().execute() == lines


@pytest.mark.parametrize(
    ("date_format", "pattern"),
    [
        ("%m/%d/%Y %H:%M", "M/d/yyyy H:m"),
        ("%Y-%m-%dT%H:%M:%S", "yyyy-M-d'T'H:m:s"),
        ("%d %b %Y", "d MMM yyyy"),
    ],
)
def test_strptime_formats_become_spark_patterns(date_format, pattern):
    assert spark_date_pattern(date_format) == pattern


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_an_unsupported_directive_names_the_parameter(engine):
    with pytest.raises(DataValidationError, match="customer_features.date_format: %j"):
        spark_date_pattern("%Y-%j")
    with pytest.raises(DataValidationError, match="customer_features.date_format: %b .*database"):
        with_timestamp(engine.table(pd.DataFrame({"v": ["x"]}, dtype=object)), "v", "%d %b %Y", "d")

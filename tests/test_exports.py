"""Formula-like cells are made inert in every CSV the project writes, on every engine that writes one."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from customer_segmentation.datasets import SafeCSVDataset, SafeIbisFileDataset
from customer_segmentation.exports import is_formula_like, safe_frame, safe_table, unquoted

CELLS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "-3", "+4.5",
         "-1e-3", "plain", "a=b", None]  # fmt: skip
SAFE = ["'=HYPERLINK(\"http://x\",\"y\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "-3",
        "+4.5", "-1e-3", "plain", "a=b", None]  # fmt: skip


def table(cells: list = CELLS) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": pd.array(cells, dtype="string"), "=header": range(len(cells))}
    )


# in a file: the cells without a carriage return, which some CSV readers take for a line end
IN_FILES = [c for c in CELLS if c != "\rx"]
SAFE_IN_FILES = [c for c in SAFE if c != "'\rx"]


def test_formula_like_text_is_quoted_numbers_and_other_text_are_not():
    assert [is_formula_like(c) for c in CELLS[:-1]] == [True] * 6 + [False] * 5
    safe = safe_frame(table())
    assert safe["customer_id"].tolist()[:-1] == SAFE[:-1] and pd.isna(safe["customer_id"].iloc[-1])
    assert list(safe.columns) == ["customer_id", "'=header"]
    assert safe["'=header"].tolist() == list(range(len(CELLS)))  # numbers as they are
    pd.testing.assert_frame_equal(unquoted(safe), table(), check_dtype=False)


def test_the_project_csv_dataset_writes_quoted_cells_and_reads_them_back(tmp_path):
    path = tmp_path / "segmented_customers.csv"
    dataset = SafeCSVDataset(filepath=str(path), save_args={"index": False})
    dataset.save(table(IN_FILES))
    written = path.read_text()
    assert "'=HYPERLINK" in written and "\n-3," in written and "'=header" in written
    assert "\n=" not in written and "\n+1" not in written
    pd.testing.assert_frame_equal(
        dataset.load(), table(IN_FILES), check_dtype=False, check_column_type=False
    )


@pytest.mark.parametrize("engine", ["duckdb", "pyspark"])
def test_ibis_engines_quote_the_same_cells(engine, request):
    cells = pd.DataFrame({"v": CELLS[:-1]})
    if engine == "duckdb":
        connection = ibis.duckdb.connect()
        source = connection.create_table("cells", cells)
    else:
        spark = request.getfixturevalue("spark")
        spark.createDataFrame(cells).createOrReplaceTempView("export_cells")
        source = ibis.pyspark.connect(spark).table("export_cells")
    assert safe_table(source).to_pandas()["v"].tolist() == SAFE[:-1]


def test_the_order_log_quarantine_file_is_safe(tmp_path):
    connection = {"backend": "duckdb", "database": str(tmp_path / "order_log.duckdb")}
    dataset = SafeIbisFileDataset(
        filepath=str(tmp_path / "quarantine.csv"), file_format="csv", connection=connection
    )
    lines = dataset.connection.create_table("q", pd.DataFrame({"v": IN_FILES[:-1]}))
    dataset.save(lines)
    written = pd.read_csv(tmp_path / "quarantine.csv", dtype=str, keep_default_na=False)
    assert written["v"].tolist() == SAFE_IN_FILES[:-1]


def test_spark_csv_parts_are_safe(spark, tmp_path):
    from customer_segmentation.spark_datasets import SafeSparkDataset  # noqa: PLC0415

    # (Spark escapes a double quote as \", which pandas does not read: cells without one here)
    cells = [c for c in IN_FILES[:-1] if '"' not in c]
    frame = spark.createDataFrame(pd.DataFrame({"id": cells, "n": range(len(cells))}))
    folder = tmp_path / "segmented_customers_spark"
    SafeSparkDataset(
        filepath=str(folder), file_format="csv", save_args={"header": True, "mode": "overwrite"}
    ).save(frame)
    parts = [p for p in folder.glob("part-*.csv") if p.stat().st_size]
    written = pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts)
    assert sorted(written["id"]) == sorted(c for c in SAFE_IN_FILES[:-1] if '"' not in c)

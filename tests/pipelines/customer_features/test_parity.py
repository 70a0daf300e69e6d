"""The embedded order logs on every engine give the answers of the former pandas nodes, line by line.

`reference/` holds what the pandas implementation of customer_features (replaced by the Ibis rules)
answered on `data/01_raw/order_lines.csv` and `new_order_lines.csv`: the line accounting, every
(line, reason) quarantine pair, the features and the RFM scores. One deliberate difference: money is
now summed exactly, so an average order value that is exactly half a cent rounds to the even cent
(1,541 cents / 2 orders = 770.5 -> 7.70), where summing floats had landed either side of the half.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from customer_segmentation.datasets import KeptMemoryDataset, RawCustomersDataset
from customer_segmentation.pipelines.customer_features import create_pipeline
from customer_segmentation.pipelines.customer_features.rfm import score_rfm
from tests.conftest import PROJECT_ROOT, load_parameters
from tests.pipelines.customer_features.test_nodes import (
    FIRST_EDITION,
    LOG,
    MIRRORED,
    raw_log,
    run_nodes,
)

REFERENCE = Path(__file__).parent / "reference"
LOGS = ("order_lines", "new_order_lines")


def reference(log: str) -> dict:
    return {
        "accounting": json.loads((REFERENCE / f"{log}_accounting.json").read_text()),
        "quarantine": pd.read_csv(REFERENCE / f"{log}_quarantine.csv.gz"),
        "features": pd.read_csv(REFERENCE / f"{log}_features.csv.gz", dtype={"customer_id": str}),
        "rfm": pd.read_csv(REFERENCE / f"{log}_rfm.csv.gz", dtype={"customer_id": str}),
    }


def parameters(log: str) -> dict:
    return {**load_parameters("transactions")["customer_features"], "source_file": log}


def raw_table(engine, log: str):
    """The embedded log on the engine as its catalog dataset reads it (PostgreSQL: a table)."""
    path = str(PROJECT_ROOT / "data" / "01_raw" / f"{log}.csv")
    if engine.name == "duckdb":
        return engine.connection.read_csv(path, all_varchar=True)
    if engine.name == "pyspark":
        return engine.connection.read_csv(path, header=True, inferSchema=False)
    log = RawCustomersDataset(filepath=path).load()
    log.insert(0, "source_line", range(2, len(log) + 2))  # loaded with its file's line numbers
    return engine.table(log)


def assert_features_as_before(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal, except average order values that are exact half cents (see the module's docstring)."""
    found = found.astype({"customer_id": str})
    assert found.columns.tolist() == expected.columns.tolist()
    pd.testing.assert_frame_equal(
        found.drop(columns="average_order_value"),
        expected.drop(columns="average_order_value"),
        check_dtype=False,
    )
    cents = np.round(found["monetary"].to_numpy() * 100) / found["frequency"].to_numpy()
    differs = found["average_order_value"].to_numpy() != expected["average_order_value"].to_numpy()
    assert np.all(np.abs(cents[differs] % 1 - 0.5) < 1e-9)  # only exact half cents differ ...
    even = np.round(cents[differs]) / 100  # ... and they now go to the even cent
    np.testing.assert_array_equal(found["average_order_value"].to_numpy()[differs], even)
    assert differs.mean() < 0.02


def assert_as_before(log: str, accounting, quarantine, features, rfm) -> None:
    expected = reference(log)
    assert {k: v for k, v in accounting.items() if k != "source_file"} == expected["accounting"]
    pairs = quarantine[["source_line", "reason"]].sort_values("source_line", ignore_index=True)
    pd.testing.assert_frame_equal(pairs, expected["quarantine"], check_dtype=False)
    assert_features_as_before(features, expected["features"])
    pd.testing.assert_frame_equal(
        rfm.astype({"customer_id": str}), expected["rfm"], check_dtype=False
    )


# The 56,669-line log: here on DuckDB; on PostgreSQL through Kedro's catalog (below); on Spark by
# `kedro run --env spark_transactions` against the DuckDB run (tests/test_spark_transactions.py).
@pytest.mark.parametrize(
    ("engine", "log"),
    [("duckdb", log) for log in LOGS] + [("pyspark", "new_order_lines"),
                                         ("postgres", "new_order_lines")],
    indirect=["engine"],
)  # fmt: skip
def test_the_embedded_log_gives_the_former_answers_on_every_engine(engine, log):
    params = parameters(log)
    _, quarantine, _, netting_quarantine, features, accounting = run_nodes(
        raw_table(engine, log), params, engine.keep
    )
    rfm = score_rfm(engine.table(features), params).to_pandas()
    both = pd.concat([quarantine, netting_quarantine])
    assert_as_before(log, accounting, both, features, rfm)


def test_the_order_log_as_a_postgresql_table_through_kedro(postgres, tmp_path):
    """`order_lines` is a table of a real PostgreSQL server (loaded with the file's line numbers as
    `source_line`); the catalog connects customer_features to it (README: "The order log in a
    database"): every step is a table there, the features are computed by the database, and the
    answers are the former ones."""
    import ibis  # noqa: PLC0415

    log = RawCustomersDataset(filepath=str(PROJECT_ROOT / "data/01_raw/order_lines.csv")).load()
    log.insert(0, "source_line", range(2, len(log) + 2))  # loaded with its file's line numbers
    database = ibis.postgres.connect(**postgres)
    database.create_table(
        "order_lines", log.astype(object).where(log.notna(), None), overwrite=True
    )
    connection = {"backend": "postgres", **postgres}
    step = {"type": "ibis.TableDataset", "connection": connection,
            "save_args": {"materialized": "table"}}  # fmt: skip
    catalog = DataCatalog.from_config(
        {
            "order_lines_raw": {
                "type": "ibis.TableDataset",
                "table_name": "order_lines",
                "connection": connection,
            },
            **{
                name: {**step, "table_name": name}
                for name in ("order_lines_standardised", "order_lines_clean", "order_lines_net")
            },
        }  # fmt: skip
    )
    pipeline = create_pipeline()
    catalog["params:customer_features"] = parameters("order_lines")
    for name in pipeline.all_outputs() - set(catalog.keys()):
        catalog[name] = KeptMemoryDataset()
    SequentialRunner().run(pipeline, catalog)
    outputs = {name: catalog[name].load() for name in pipeline.all_outputs()}
    assert "order_lines_clean" in database.list_tables()  # a step, kept in the database
    assert outputs["customer_features"]._find_backend().name == "postgres"
    quarantine = pd.concat(
        [outputs["order_lines_quarantine"].to_pandas(), outputs["netting_quarantine"].to_pandas()]
    )
    assert_as_before(
        "order_lines",
        outputs["line_accounting"],
        quarantine,
        outputs["customer_features"].to_pandas(),
        outputs["rfm_scores"].to_pandas(),
    )


SECOND_EDITION = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
                  "Customer ID", "Country"]  # fmt: skip
HAND_MADE = {
    "first edition, every rule": (LOG, FIRST_EDITION, {}),
    "second edition, day first, seconds, snapshot": (
        [["1", "A", "a", "1", "03/04/2025 10:00:00", "5", "17850.0", "France"],
         ["2", "A", "a", "1", "01/05/2025 10:00:00", "5", "17850.0", "France"],
         ["C3", "A", "a", "-1", "02/05/2025 10:00:00", "5", "17850.0", "France"]],
        SECOND_EDITION,
        {"date_format": "%d/%m/%Y %H:%M:%S", "snapshot_date": "2025-06-01"},
    ),
    # one row per invoice: a cancellation with its purchase's number (customer 9) and ones with
    # numbers of their own (customers 7 and 8, test_nodes.MIRRORED), in one log: one Spark pass
    "one row per invoice": (
        [*MIRRORED, ["20", "1", "01/02/2025 10:00", "120.00", "9"],
         ["21", "1", "01/09/2025 10:00", "80.00", "9"],
         ["C21", "-1", "01/09/2025 11:00", "80.00", "9"]],
        ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
        {"snapshot_date": "2025-02-01"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("engine", ["pyspark"], indirect=True)
def test_spark_gives_duckdbs_answer_to_the_hand_made_logs_line_by_line(engine, connections):
    """The logs of test_nodes.py, whose every line's fate is asserted there on DuckDB: Spark
    quarantines, nets and counts the same lines and gives the same features and RFM scores."""
    import ibis  # noqa: PLC0415

    from tests.pipelines.customer_features.conftest import Engine  # noqa: PLC0415

    duckdb = Engine("duckdb", connections.setdefault("duckdb", ibis.duckdb.connect()))
    for log, (rows, header, changes) in HAND_MADE.items():
        params = {**load_parameters()["customer_features"], **changes}
        expected = run_nodes(duckdb.table(raw_log(rows, header)), params, duckdb.keep)
        found = run_nodes(engine.table(raw_log(rows, header)), params, engine.keep)
        assert found[5] == expected[5], log  # the line accounting
        for position in (1, 3):  # the quarantines: the same lines, the same reasons
            columns = ["source_line", "reason"]
            pd.testing.assert_frame_equal(found[position][columns], expected[position][columns])
        columns = ["source_line", "status", "net_quantity"]
        pd.testing.assert_frame_equal(found[2][columns], expected[2][columns], check_dtype=False)
        pd.testing.assert_frame_equal(found[4], expected[4], check_dtype=False)
        scores = [score_rfm(e.table(found[4]), params).to_pandas() for e in (engine, duckdb)]
        pd.testing.assert_frame_equal(*scores, check_dtype=False)

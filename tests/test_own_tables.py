"""Other customer tables, by parameters and catalog only: the Kedro CLI in a temp copy of the project.

The cards example (`--env cards`), a wholesale table in Excel with its own environment, and the same
customers read from a real SQLite database file and from Parquet.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.card_generator import generate_cards
from customer_segmentation.data_generator import RAW_COLUMNS, generate_clean_customers
from tests.conftest import FAST, kedro, latest

pytestmark = pytest.mark.slow

MALL_WORDS = ("annual income", "annual_income", "spending", "gender", "age (years)")


def test_cards_environment_recovers_planted_segments_and_speaks_of_cards(sequence_project):
    project_copy = sequence_project  # where `kedro run --env cards` ran after `kedro run`
    data = project_copy / "data" / "cards"
    selection = json.loads(latest(data / "05_model_input" / "k_selection.json").read_text())
    assert selection["k"] == 4
    segmented = pd.read_parquet(latest(data / "07_model_output" / "segmented_customers.parquet"))
    truth = generate_cards().drop_duplicates("CUST_ID").set_index("CUST_ID")["planted_segment"]
    ari = adjusted_rand_score(truth.loc[segmented["customer_id"]], segmented["segment_id"])
    assert ari >= 0.9, ari
    assert "BRANCH" in segmented.columns  # undeclared: carried through untouched
    with open(latest(data / "06_models" / "feature_transformer.pkl"), "rb") as file:
        transformer = pd.read_pickle(file)
    assert type(transformer.named_transformers_["balance"]["transform"]).__name__ == (
        "FunctionTransformer"
    )
    profiles = pd.read_csv(latest(data / "07_model_output" / "segment_profiles.csv"))
    assert "z_cash_advance" in profiles.columns and "share_card_tier_Gold" in profiles.columns
    assert not [c for c in profiles.columns if "age" in c or "income" in c or "gender" in c]
    assert profiles["segment_name"].is_unique
    report = latest(data / "08_reporting" / "segment_report.html").read_text()
    assert "Credit-card customer segments" in report and "cash advance ($)" in report
    assert "card tier" in report
    for word in MALL_WORDS:
        assert word not in report, word
    figure = json.loads(latest(data / "08_reporting" / "segments_3d_plot.json").read_text())
    assert figure["layout"]["scene"]["xaxis"]["title"]["text"].startswith("PC1")
    scored = pd.read_csv(latest(data / "07_model_output" / "scored_customers.csv"))
    assert len(scored) == 39 and scored["segment_name"].notna().all()


def wholesale_customers(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A B2B table: client id, annual spend per product category, sales channel and region."""
    rng = np.random.default_rng(seed)
    planted = rng.integers(0, 3, n)
    medians = np.array([[12000, 1500, 2000, 3000], [3000, 9000, 14000, 800], [800, 600, 900, 400]])
    spend = np.exp(rng.normal(np.log(medians[planted]), 0.35)).round()
    table = pd.DataFrame(spend, columns=["Fresh", "Milk", "Grocery", "Frozen"])
    table.insert(0, "Client", [f"W{i:04d}" for i in range(n)])
    table["Channel"] = np.where(planted == 1, "Retail", "Horeca")
    table["Region"] = rng.choice(["Lisbon", "Oporto", "Other"], n)
    return table, planted


WHOLESALE_ENV = {
    "catalog_01_raw.yml": """
        customers_raw:
          type: pandas.ExcelDataset
          filepath: data/01_raw/wholesale.xlsx
        new_customers_raw:
          type: pandas.ExcelDataset
          filepath: data/01_raw/new_wholesale.xlsx
        """,
    "globals.yml": """
        raw_customers_file: data/01_raw/wholesale.xlsx
        new_customers_file: data/01_raw/new_wholesale.xlsx
        """,
    "parameters_data_processing.yml": """
        data_processing:
          columns:
            - {name: client, role: id, source: [Client]}
            - {name: fresh, role: numeric, source: [Fresh], label: fresh food, unit: €, range: {min: 0, max: null}}
            - {name: milk, role: numeric, source: [Milk], label: milk, unit: €, range: {min: 0, max: null}}
            - {name: grocery, role: numeric, source: [Grocery], label: grocery, unit: €, range: {min: 0, max: null}}
            - {name: frozen, role: numeric, source: [Frozen], label: frozen food, unit: €, range: {min: 0, max: null}}
            - {name: channel, role: categorical, source: [Channel], values: {horeca: Horeca, retail: Retail}}
          features: [fresh, milk, grocery, frozen]
          transforms: {fresh: log1p, milk: log1p, grocery: log1p, frozen: log1p}
        """,
    "parameters_clustering.yml": """
        clustering:
          naming: {columns: [], max_columns: 2}
          actions:
            - when: {channel: Retail}
              action: Shelf promotions with retail partners.
        """,
}


def test_a_table_with_other_headers_and_roles_runs_by_parameters_and_catalog(project_copy):
    customers, planted = wholesale_customers(400, seed=5)
    raw = project_copy / "data" / "01_raw"
    customers.to_excel(raw / "wholesale.xlsx", index=False)
    wholesale_customers(25, seed=6)[0].to_excel(raw / "new_wholesale.xlsx", index=False)
    env = project_copy / "conf" / "wholesale"
    env.mkdir()
    for name, text in WHOLESALE_ENV.items():
        (env / name).write_text(textwrap.dedent(text))
    kedro(project_copy, "run", "--env", "wholesale", "--params", FAST)
    data = project_copy / "data" / "wholesale"
    segmented = pd.read_parquet(latest(data / "07_model_output" / "segmented_customers.parquet"))
    assert list(segmented.columns[:7]) == [
        "client", "fresh", "milk", "grocery", "frozen", "channel", "Region",
    ]  # fmt: skip
    by_client = pd.Series(planted, index=customers["Client"])
    assert adjusted_rand_score(by_client.loc[segmented["client"]], segmented["segment_id"]) > 0.9
    profiles = pd.read_csv(latest(data / "07_model_output" / "segment_profiles.csv"))
    retail = profiles["share_channel_Retail"] > 0.5
    assert (
        profiles.loc[retail, "suggested_action"] == "Shelf promotions with retail partners."
    ).all()
    assert all(("fresh food" in n) or ("milk" in n) or ("grocery" in n) or ("frozen" in n)
               for n in profiles["segment_name"])  # fmt: skip
    report = latest(data / "08_reporting" / "segment_report.html").read_text()
    assert "log1p fresh food (€)" in report
    for word in MALL_WORDS:
        assert word not in report, word
    scored = pd.read_csv(latest(data / "07_model_output" / "scored_customers.csv"))
    assert len(scored) == 25


def mall_frame(n: int) -> pd.DataFrame:
    return generate_clean_customers(n, seed=21)[RAW_COLUMNS]


def test_customers_from_a_real_sqlite_database_file(project_copy):
    database = project_copy / "data" / "01_raw" / "crm.db"
    with sqlite3.connect(database) as connection:
        mall_frame(300).to_sql("customers", connection, index=False)
    env = project_copy / "conf" / "crm"
    env.mkdir()
    (env / "catalog_01_raw.yml").write_text(
        "customers_raw:\n  type: pandas.SQLTableDataset\n  table_name: customers\n"
        "  credentials: crm_db\n"
    )
    (env / "credentials.yml").write_text(f"crm_db:\n  con: sqlite:///{database}\n")
    (env / "globals.yml").write_text("raw_customers_file: crm.db table customers\n")
    kedro(project_copy, "run", "--env", "crm", "--pipelines", "data_processing")
    report = json.loads(
        latest(project_copy / "data/crm/08_reporting/data_quality_report.json").read_text()
    )
    assert (report["rows_in"], report["rows_kept"]) == (300, 300)
    assert report["source_file"] == "crm.db table customers"
    primary = pd.read_parquet(project_copy / "data/crm/03_primary/customers_primary.parquet")
    assert primary["customer_id"].tolist()[:3] == ["1", "2", "3"]  # integers in SQL, text here


def test_customers_from_parquet(project_copy):
    frame = mall_frame(250)
    frame.loc[3, "Age"] = None
    frame.to_parquet(project_copy / "data" / "01_raw" / "customers.parquet")
    env = project_copy / "conf" / "lake"
    env.mkdir()
    (env / "catalog_01_raw.yml").write_text(
        "customers_raw:\n  type: pandas.ParquetDataset\n  filepath: data/01_raw/customers.parquet\n"
    )
    kedro(project_copy, "run", "--env", "lake", "--pipelines", "data_processing")
    report = json.loads(
        latest(project_copy / "data/lake/08_reporting/data_quality_report.json").read_text()
    )
    assert (report["rows_in"], report["rows_kept"]) == (250, 250)
    assert report["values_imputed"] == {"age": 1}

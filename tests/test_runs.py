"""Runs you can trust, unit by unit: data roots per environment, run records, the run lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog

from customer_segmentation.runs import (
    RUN_RECORD,
    NoCompleteRunError,
    RunInProgressError,
    RunLock,
    complete_runs,
    pin_inputs,
)
from customer_segmentation.schema import per_column
from tests.conftest import config_loader

V1, V2, V3 = "2026-12-01T10.00.00.000Z", "2026-12-01T11.00.00.000Z", "2026-12-01T12.00.00.000Z"


def test_every_environment_writes_under_its_own_data_root():
    roots = {env: config_loader(env)["globals"]["data_root"] for env in
             (None, "cards", "transactions", "spark", "spark_transactions", "kaggle")}  # fmt: skip
    assert roots[None] == "data"
    assert roots["cards"] == "data/cards" and roots["transactions"] == "data/transactions"
    assert len(set(roots.values())) == len(roots)  # nothing shared by accident
    # conf/shifted scores a later batch with the default model: it shares the root on purpose
    assert config_loader("shifted")["globals"]["data_root"] == "data"
    catalog = config_loader("cards")["catalog"]
    assert catalog["segment_model"]["filepath"] == "data/cards/06_models/segment_model.pkl"
    assert catalog["customers_raw"]["filepath"] == "data/01_raw/cards.csv"  # raw inputs stay


def test_each_environment_names_its_workflow():
    from customer_segmentation.session import workflow_of  # noqa: PLC0415

    assert {
        env: workflow_of(config_loader(env))
        for env in (None, "cards", "transactions", "spark", "spark_transactions")
    } == {  # fmt: skip
        None: "customer_table",
        "cards": "customer_table",
        "transactions": "order_log",
        "spark": "customer_table_spark",
        "spark_transactions": "order_log_spark",
    }


@pytest.mark.parametrize("env", ["cards", "transactions", "spark_transactions"])
def test_mall_words_do_not_leak_into_other_environments(env):
    text = json.dumps(config_loader(env)["parameters"]).lower()
    for word in ("annual_income", "spending_score", '"age"', "income", "spending"):
        assert word not in text, word


def test_no_symbolic_links_in_conf():
    conf = Path(__file__).resolve().parents[1] / "conf"
    assert not [p for p in conf.rglob("*") if p.is_symlink()]


def test_per_column_settings_read_lists_and_mappings():
    listed = [{"column": "age", "low": "Young"}, {"column": "income", "high": "Rich"}]
    assert per_column(listed) == {"age": {"low": "Young"}, "income": {"high": "Rich"}}
    assert per_column({"age": {"low": "Young"}}) == {"age": {"low": "Young"}}
    assert per_column(None) == {}


def catalog_at(root: Path, version: str) -> DataCatalog:
    """A catalog of versioned datasets under `root`, saving at `version`."""
    config = {
        "model": {"type": "pickle.PickleDataset", "filepath": f"{root}/model.pkl",
                  "versioned": True},
        "segmented": {"type": "pandas.ParquetDataset", "filepath": f"{root}/seg.parquet",
                      "versioned": True},
        "previous": {"type": "customer_segmentation.datasets.PreviousRunParquetDataset",
                     "filepath": f"{root}/seg.parquet", "versioned": True},
        RUN_RECORD: {"type": "json.JSONDataset", "filepath": f"{root}/run_record.json",
                     "versioned": True},
    }  # fmt: skip
    return DataCatalog.from_config(config, save_version=version)


def save_run(root: Path, version: str, model: str, complete: bool) -> None:
    catalog = catalog_at(root, version)
    catalog.save("model", model)
    catalog.save("segmented", pd.DataFrame({"customer_id": ["1"], "segment_id": [1]}))
    if complete:
        saved = {"model": "model.pkl", "segmented": "seg.parquet"}
        catalog.save(RUN_RECORD, {"status": "complete", "run_version": version, "saved": saved})


def test_inputs_are_read_at_the_newest_complete_run(tmp_path):
    save_run(tmp_path, V1, "first", complete=True)
    save_run(tmp_path, V2, "killed", complete=False)  # no record: stopped after saving
    catalog = catalog_at(tmp_path, V3)
    assert [r["run_version"] for r in complete_runs(catalog)] == [V1]
    pinned = pin_inputs(catalog, {"model", "params:x"}, None, "local", tmp_path)
    assert pinned == {"model": V1}
    assert catalog.load("model") == "first"  # not the newer version of the stopped run


def test_the_previous_segmentation_is_the_complete_run_before_the_one_read(tmp_path):
    save_run(tmp_path, V1, "first", complete=True)
    save_run(tmp_path, V2, "second", complete=True)
    catalog = catalog_at(tmp_path, V3)
    # a run that writes `segmented` itself reads the newest complete run as its previous
    assert pin_inputs(catalog, {"previous"}, None, "local", tmp_path) == {"previous": V2}
    # a run that reads both (monitoring on its own) compares the two newest complete runs
    catalog = catalog_at(tmp_path, V3)
    pinned = pin_inputs(catalog, {"segmented", "previous"}, None, "local", tmp_path)
    assert pinned == {"segmented": V2, "previous": V1}
    assert catalog.load("previous").attrs["version"] == V1


def test_no_previous_run_loads_an_empty_table_and_a_user_pin_wins(tmp_path):
    save_run(tmp_path, V1, "first", complete=True)
    catalog = catalog_at(tmp_path, V3)
    assert pin_inputs(catalog, {"segmented", "previous"}, None, "local", tmp_path) == {
        "segmented": V1
    }
    assert catalog.load("previous").empty
    catalog = catalog_at(tmp_path, V3)
    assert pin_inputs(catalog, {"model"}, {"model": V1}, "local", tmp_path) == {}


def test_an_input_no_complete_run_saved_is_a_clear_error(tmp_path):
    save_run(tmp_path, V1, "killed", complete=False)
    with pytest.raises(NoCompleteRunError, match="no complete run of the environment 'cards'"):
        pin_inputs(catalog_at(tmp_path, V3), {"model"}, None, "cards", tmp_path)


def test_a_second_run_in_the_same_root_is_refused_while_the_first_runs(tmp_path):
    first = RunLock(tmp_path, "local")
    first.acquire()
    holder = json.loads((tmp_path / ".run.lock").read_text())
    assert holder["pid"] == os.getpid()
    with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path, "local").acquire()
    first.release()
    assert not (tmp_path / ".run.lock").exists()
    again = RunLock(tmp_path, "local")
    again.acquire()
    again.release()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / ".run.lock").write_text(json.dumps({"pid": int(dead.stdout), "started": "then"}))
    lock = RunLock(tmp_path, "local")
    lock.acquire()
    assert lock.held and "Taking over the run lock" in caplog.text
    assert json.loads((tmp_path / ".run.lock").read_text())["pid"] == os.getpid()
    lock.release()

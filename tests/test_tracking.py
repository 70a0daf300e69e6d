"""Tracked runs through the Kedro CLI in a temp copy of the project, with its own real MLflow store."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import FAST, kedro, latest
from tests.servers import free_port, local_server, make_target

pytestmark = pytest.mark.slow


def store(project: Path) -> dict[str, str]:
    """The temp project's own tracking store, as a user's `sqlite:///mlflow.db` at its root."""
    return {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}


def tracked_runs(project: Path) -> pd.DataFrame:
    mlflow.set_tracking_uri(store(project)["MLFLOW_TRACKING_URI"])
    return mlflow.search_runs(
        experiment_names=["customer_segmentation"], order_by=["attributes.start_time ASC"]
    )


def test_three_experiments_are_tracked_and_compared_in_one_table(project_copy):
    env = store(project_copy)
    kedro(project_copy, "run", "--params", FAST, env=env)
    kedro(project_copy, "run", "--env", "age_income_score", "--params", FAST, env=env)
    kedro(project_copy, "run", "--params", f"{FAST},data_processing.scaler=minmax", env=env)

    runs = tracked_runs(project_copy)
    assert runs["status"].tolist() == ["FINISHED"] * 3
    assert runs["tags.environment"].tolist() == ["local", "age_income_score", "local"]
    assert runs["tags.pipeline"].eq("__default__").all()
    assert runs["tags.git_commit"].str.startswith("unknown").all()  # the temp copy is no git tree
    assert runs["tags.data_fingerprint"].nunique() == 1  # same embedded data every time
    assert runs["params.data_processing.scaler"].tolist() == ["standard", "standard", "minmax"]
    assert runs["metrics.rows_in"].eq(2001).all() and runs["metrics.rows_kept"].eq(1995).all()
    assert runs["metrics.k"].between(2, 10).all() and runs["metrics.silhouette"].gt(0).all()
    first = runs["run_id"].iloc[0]
    client = MlflowClient()
    sweep = client.get_metric_history(first, "sweep.silhouette")
    assert sorted(m.step for m in sweep) == list(range(2, 11))
    sizes = runs.filter(like="metrics.segment_size.").iloc[0].dropna()
    assert sizes.sum() == 1995
    artifacts = {
        f.path
        for folder in ("report", "plots", "segments", "model")
        for f in client.list_artifacts(first, folder)
    }
    assert artifacts == {
        "report/segment_report.html",
        "plots/elbow_plot.png",
        "plots/k_scores_plot.png",
        "segments/segment_profiles.csv",
        "model/segment_model.pkl",
    }
    assert (project_copy / "mlartifacts").is_dir()

    kedro(project_copy, "run", "--pipelines", "experiments", env=env)
    assert len(tracked_runs(project_copy)) == 3  # comparing records no run of its own
    table = pd.read_csv(latest(project_copy / "data/08_reporting/experiment_comparison.csv"))
    assert table["run_id"].tolist() == runs["run_id"].iloc[::-1].tolist()  # newest first
    assert table["environment"].tolist() == ["local", "age_income_score", "local"]
    assert table["data_processing.scaler"].tolist() == ["minmax", "standard", "standard"]
    assert "annual_income_k', 'spending_score" in table["data_processing.features"].iloc[0]
    assert "'age'" in table["data_processing.features"].iloc[1]
    assert "clustering.algorithm" not in table  # the same in all three: not a difference
    assert table["silhouette"].tolist() == pytest.approx(runs["metrics.silhouette"][::-1].tolist())
    assert (project_copy / "data/08_reporting/experiment_comparison_plot.png").is_dir()

    log = project_copy / "ui.log"
    with mlflow_ui(project_copy, env, log) as url:  # `make ui` as a user types it
        experiment = runs["experiment_id"].iloc[0]  # printed first: the runs list's address
        assert f"the runs of customer_segmentation: {url}/#/experiments/{experiment}/runs" in (
            log.read_text()
        )
        request = urllib.request.Request(
            f"{url}/api/2.0/mlflow/runs/search",
            data=json.dumps({"experiment_ids": [runs["experiment_id"].iloc[0]]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            served = json.load(response)["runs"]
        assert {r["info"]["run_id"] for r in served} == set(runs["run_id"])
        with urllib.request.urlopen(f"{url}/", timeout=30) as response:
            assert b"MLflow" in response.read()


def test_tracking_can_be_switched_off_for_an_environment(project_copy):
    quiet = project_copy / "conf" / "quiet"
    quiet.mkdir()
    (quiet / "mlflow.yml").write_text(
        "tracking:\n  disable_tracking:\n    pipelines: [__default__, data_processing]\n"
    )
    env = store(project_copy)
    kedro(project_copy, "run", "--env", "quiet", "--pipelines", "data_processing", env=env)
    assert tracked_runs(project_copy).empty
    kedro(project_copy, "run", "--pipelines", "data_processing", env=env)  # base: tracked
    assert tracked_runs(project_copy)["tags.pipeline"].tolist() == ["data_processing"]

    raw = project_copy / "data/01_raw/customers.csv"  # other data: another fingerprint
    raw.write_text(raw.read_text() + "999999,Female,30,50,50\n")
    kedro(project_copy, "run", "--pipelines", "data_processing", env=env)
    runs = tracked_runs(project_copy)
    assert runs["tags.data_inputs"].tolist() == ["customers_raw"] * 2
    assert runs["tags.data_fingerprint"].nunique() == 2
    assert not runs.filter(like="metrics.").columns.size  # data_processing alone: no run metrics


def mlflow_ui(project: Path, env: dict[str, str], log: Path):
    """`make ui UI_PORT=<a free port>` in `project`, as a user starts it."""
    port = free_port(5000, 5999)
    return local_server(
        make_target("ui", UI_PORT=port), project, f"http://127.0.0.1:{port}", "/health", log, env
    )

"""Drift of a shifted batch and segment migration between two runs, through the Kedro CLI in a temp
copy of the project."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import kedro, latest, versions

pytestmark = pytest.mark.slow


def report_json(project: Path, name: str) -> dict:
    return json.loads(latest(project / f"data/08_reporting/{name}.json").read_text())


def test_a_shifted_batch_drifts_on_the_shifted_feature_only(ran_copy):
    project_copy = ran_copy  # after one default run
    shipped = report_json(project_copy, "drift_report")
    assert shipped["status"] == "stable" and shipped["drifting_features"] == {}

    # the embedded later batch: 2,000 customers earning 30 k$ more (conf/shifted)
    result = kedro(project_copy, "run", "--pipelines", "scoring", "--env", "shifted")
    drift = report_json(project_copy, "drift_report")
    assert drift["batch_rows"] == 2000 and drift["training_rows"] == 1995
    income, score = drift["features"]["annual_income_k"], drift["features"]["spending_score"]
    assert income["status"] == "act" and income["psi"] > 0.25 and income["ks_statistic"] > 0.3
    assert score["status"] == "stable" and score["psi"] < 0.1
    assert drift["drifting_features"] == {"annual_income_k": "act"}
    assert drift["far_from_centroids"]["batch_share"] > 0.05
    assert drift["status"] == "act"
    log = " ".join((result.stdout + result.stderr).split())
    assert "WARNING" in log and "annual_income_k (PSI" in log and "spending_score (PSI" not in log
    assert len(versions(project_copy / "data/08_reporting/drift_plot.png")) == 2

    strict = kedro(
        project_copy, "run", "--pipelines", "scoring", "--env", "shifted",
        "--params", "monitoring.drift.strict=true", check=False,
    )  # fmt: skip
    assert strict.returncode != 0
    assert "DriftError" in strict.stderr + strict.stdout
    assert len(versions(project_copy / "data/08_reporting/drift_report.json")) == 3  # written first


def test_segment_migration_between_two_runs(ran_project, ran_twice, tmp_path):
    first = report_json(ran_project, "segment_matching")  # the first run
    assert first["pairs"] == [] and "no previous complete run" in first["status"]
    assert (
        "nothing to compare yet"
        in latest(ran_project / "data/08_reporting/segment_report.html").read_text()
    )

    # then `kedro run --params "model_selection.k_policy=fixed,model_selection.k=4"`
    project_copy = Path(shutil.copytree(ran_twice, tmp_path / "project"))
    matching = report_json(project_copy, "segment_matching")
    runs = versions(project_copy / "data/07_model_output/segmented_customers.parquet")
    assert matching["previous_version"] == runs[0].name
    assert matching["matched_on"] == ["age", "annual_income_k", "spending_score"]
    assert len(matching["pairs"]) == 5  # five old segments, each matched to one of four new ones
    assert sum(p["one_to_one"] for p in matching["pairs"]) == 4
    assert {p["current_segment_id"] for p in matching["pairs"]} == {1, 2, 3, 4}
    assert matching["customers_in_both"] == 1995 and matching["new_customers"] == 0
    migration = pd.read_csv(latest(project_copy / "data/08_reporting/segment_migration.csv"))
    assert migration["customers"].sum() == 1995
    assert set(migration["from_segment_id"]) == {1, 2, 3, 4, 5}
    assert set(migration["to_segment_id"]) == {1, 2, 3, 4}
    sankey = json.loads(
        latest(project_copy / "data/08_reporting/segment_migration_plot.json").read_text()
    )
    assert sankey["data"][0]["type"] == "sankey"
    assert sum(sankey["data"][0]["link"]["value"]) == 1995
    report = latest(project_copy / "data/08_reporting/segment_report.html").read_text()
    assert "Since the previous segmentation" in report and "plotly" in report
    when = datetime.datetime.strptime(runs[0].name, "%Y-%m-%dT%H.%M.%S.%fZ")
    assert f"(run of {when.day} {when:%b %Y, %H:%M} UTC)" in report  # a date, not a version
    assert "nearest on age (years), annual income (k$), spending score (1–100)" in report  # labels

    # the same version on both sides: everyone stays where they were
    pinned = (
        f"segmented_customers_previous:{runs[1].name},segmented_customers_parquet:{runs[1].name}"
    )
    kedro(project_copy, "run", "--pipelines", "monitoring", "--load-versions", pinned)
    same = report_json(project_copy, "segment_matching")
    assert same["previous_version"] == runs[1].name
    assert same["stayed_share"] == 1.0
    assert all(p["centroid_distance"] == 0 for p in same["pairs"])

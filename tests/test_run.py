"""End to end: the Kedro CLI as a user types it, in a temp copy of the project."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from customer_segmentation.data_generator import RAW_COLUMNS, generate_clean_customers, to_csv_text
from customer_segmentation.models import ALGORITHM_NAMES
from customer_segmentation.pipelines.reporting.pipeline import REPORT_FIGURES
from tests.conftest import FAST, kedro, latest, versions
from tests.legibility import problems, run_figures

pytestmark = pytest.mark.slow


def test_data_processing_run_writes_outputs_and_accounts_for_rows(project_copy):
    result = kedro(project_copy, "run", "--pipelines", "data_processing")
    assert "Pipeline execution completed successfully" in result.stdout + result.stderr
    data = project_copy / "data"
    report = json.loads(latest(data / "08_reporting" / "data_quality_report.json").read_text())
    assert report["rows_in"] == 2001
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
    assert report["accounting_holds"] is True
    quarantine = latest(data / "02_intermediate" / "quarantined_customers.csv").read_text()
    assert quarantine.count("\n") - 1 == report["rows_quarantined"]
    assert (data / "04_feature" / "model_features.parquet").exists()
    assert latest(data / "06_models" / "feature_transformer.pkl").exists()
    log = result.stdout + result.stderr
    assert "Warning" not in log and "deprecated" not in log


@pytest.mark.parametrize("gender_header", ["Genre", "Gender"])
def test_kaggle_environment_reads_both_header_variants(project_copy, gender_header):
    mall = generate_clean_customers(200, seed=11)
    text = to_csv_text(mall).replace("Genre", gender_header, 1)
    (project_copy / "data" / "01_raw" / "Mall_Customers.csv").write_text(text)
    kedro(project_copy, "run", "--env", "kaggle", "--pipelines", "data_processing")
    report = json.loads(
        latest(project_copy / "data/kaggle/08_reporting/data_quality_report.json").read_text()
    )
    assert report["source_file"] == "data/01_raw/Mall_Customers.csv"
    assert (report["rows_in"], report["rows_kept"]) == (200, 200)
    assert RAW_COLUMNS[0] == "CustomerID"


def test_missing_column_fails_with_one_clear_message(project_copy):
    raw = project_copy / "data" / "01_raw" / "customers.csv"
    lines = raw.read_text().splitlines()
    raw.write_text("\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n")
    result = kedro(project_copy, "run", "--pipelines", "data_processing", check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "DataValidationError" in log
    assert "data/01_raw/customers.csv: required column 'spending_score'" in log


def test_params_override_on_the_command_line(project_copy):
    kedro(
        project_copy,
        "run",
        "--pipelines",
        "data_processing",
        "--params",
        "data_processing.scaler=minmax",
    )
    with open(
        latest(project_copy / "data" / "06_models" / "feature_transformer.pkl"), "rb"
    ) as file:
        transformer = pickle.load(file)
    scaler = transformer.named_transformers_["annual_income_k"]["scale"]
    assert type(scaler).__name__ == "MinMaxScaler"


VERSIONED_OUTPUTS = [
    "02_intermediate/quarantined_customers.csv",
    "06_models/feature_transformer.pkl",
    "05_model_input/k_metrics.csv",
    "05_model_input/k_selection.json",
    "06_models/algorithm_comparison.csv",
    "06_models/algorithm_agreement.csv",
    "06_models/algorithm_choice.json",
    "08_reporting/data_quality_report.json",
    "06_models/segment_model.pkl",
    "07_model_output/segment_centroids.csv",
    "07_model_output/segment_profiles.csv",
    "07_model_output/segment_profiles.json",
    "07_model_output/segmented_customers.csv",
    "07_model_output/segmented_customers.parquet",
    "07_model_output/scored_customers.csv",
    "07_model_output/scoring_quarantine.csv",
    "08_reporting/scoring_data_quality_report.json",
    "08_reporting/segment_report.html",
    "08_reporting/segments_3d_plot.json",
    *(f"08_reporting/{name}.png" for name in REPORT_FIGURES),
]


def test_default_run_twice_keeps_two_versions_of_every_versioned_dataset(ran_twice):
    data = ran_twice / "data"  # `kedro run`, then `kedro run` with k fixed at 4
    first, _ = versions(data / "05_model_input" / "k_selection.json")
    selection = json.loads((first / "k_selection.json").read_text())
    assert selection["k"] == 5 and selection["policy"] == "consensus"
    for output in VERSIONED_OUTPUTS:
        found = versions(data / output)
        assert len(found) == 2, f"{output}: {found}"
        assert all((version / (data / output).name).stat().st_size > 0 for version in found)


def test_the_best_algorithm_by_the_documented_rule_runs_end_to_end(project_copy):
    data = project_copy / "data"
    kedro(project_copy, "run", "--params", f"{FAST},clustering.algorithm=best")
    choice = json.loads(latest(data / "06_models" / "algorithm_choice.json").read_text())
    table = pd.read_csv(latest(data / "06_models" / "algorithm_comparison.csv"))
    eligible = table[(table["stability"] >= 0.8) & (table["smallest_segment_share"] >= 0.02)
                     & (table["share_unassigned"] <= 0.05)]  # fmt: skip
    best = eligible.sort_values("silhouette", ascending=False).iloc[0]["algorithm"]
    assert choice["policy"] == "best" and choice["algorithm"] == best == choice["rule_pick"]
    with open(latest(data / "06_models" / "segment_model.pkl"), "rb") as file:
        assert pickle.load(file).named_steps["segments"].algorithm == best
    report = latest(data / "08_reporting" / "segment_report.html").read_text()
    assert "Which algorithm?" in report
    assert (
        f"Segments made by {ALGORITHM_NAMES[best]}, chosen by the automatic rule because" in report
    )
    profiles = pd.read_csv(latest(data / "07_model_output" / "segment_profiles.csv"))
    assert not profiles["segment_name"].str.contains(r"\(\d+\)$").any()  # no id suffix needed
    segmented = pd.read_parquet(latest(data / "07_model_output" / "segmented_customers.parquet"))
    primary = pd.read_parquet(data / "03_primary" / "customers_primary.parquet")
    assert len(segmented) == len(primary)  # unassigned customers stay, as segment 0
    scored = pd.read_csv(latest(data / "07_model_output" / "scored_customers.csv"))
    assert len(scored) == 58 and scored["segment_name"].notna().all()
    # every figure legible with the chosen algorithm's segments (HDBSCAN's unassigned included)
    figures = run_figures(project_copy)
    assert [p for name, figure in figures.items() for p in problems(name, figure)] == []


def test_scoring_pipeline_with_a_pinned_model_version(ran_copy):
    project_copy = ran_copy  # after one default run
    data = project_copy / "data"
    pinned = versions(data / "06_models" / "segment_model.pkl")[0].name
    kedro(
        project_copy,
        "run",
        "--pipelines",
        "scoring",
        "--load-versions",
        f"segment_model:{pinned}",
    )
    scored = versions(data / "07_model_output" / "scored_customers.csv")
    assert len(scored) == 2  # one from the default run, one from the scoring run
    lines = (scored[-1] / "scored_customers.csv").read_text().splitlines()
    assert lines[0].endswith("segment_id,segment_name,distance_to_centroid")
    assert len(lines) - 1 == 58  # 60 shipped new customers, 2 quarantined
    quarantine = latest(data / "07_model_output" / "scoring_quarantine.csv").read_text()
    assert "age not between 0 and 120" in quarantine and "spending_score missing" in quarantine


def test_parameter_mistake_stops_the_run_naming_parameter_and_allowed_values(project_copy):
    result = kedro(
        project_copy,
        "run",
        "--params",
        "data_processing.features=[shoe_size]",
        check=False,
    )
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "DataValidationError" in log
    assert "data_processing.features" in log and "not declared: shoe_size" in log
    assert "gender, age, annual_income_k, spending_score" in log  # the allowed values

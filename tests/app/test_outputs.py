"""RunOutputs: a run's saved outputs through the catalog, and uploads scored by the scoring pipeline."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from customer_segmentation.app.outputs import _MEMORY, NoRunYet, RunOutputs
from customer_segmentation.errors import DataValidationError
from tests.conftest import copy_project, latest, versions

NEW_CUSTOMERS = "data/01_raw/new_customers.csv"


@pytest.fixture(scope="module")
def outputs(ran_project) -> RunOutputs:
    return RunOutputs(ran_project)


def test_reads_the_newest_run_through_the_catalog(outputs, ran_project):
    saved = versions(ran_project / "data/06_models/segment_model.pkl")
    assert outputs.versions == [saved[-1].name]
    assert outputs.version == saved[-1].name
    assert outputs.env == "local"
    assert outputs.raw_input == "new_customers_raw"
    profiles = pd.read_csv(latest(ran_project / "data/07_model_output/segment_profiles.csv"))
    pd.testing.assert_frame_equal(outputs.segment_profiles, profiles)
    assert outputs.load("k_selection")["k"] == 5
    assert outputs.load("elbow_plot").startswith(b"\x89PNG")  # a figure, as PNG bytes
    assert not outputs.exists("experiment_comparison")  # never run here


def test_a_version_that_was_not_saved_is_refused_with_the_saved_ones(outputs, ran_project):
    with pytest.raises(
        NoRunYet, match="no complete run version '2020-01-01T00.00.00.000Z'"
    ) as error:
        RunOutputs(ran_project, version="2020-01-01T00.00.00.000Z")
    assert outputs.version in str(error.value)


def test_before_any_run_it_says_what_to_run(tmp_path):
    project = copy_project(tmp_path / "project")
    with pytest.raises(NoRunYet, match="no complete run has saved a segment model yet") as error:
        RunOutputs(project, env="cards")
    assert "`make run`, or `kedro run --env <environment>`" in str(error.value)
    assert "segment_model" in str(error.value)


def test_an_upload_is_scored_exactly_as_the_scoring_pipeline_scored_the_file(outputs, ran_project):
    raw = outputs.read_upload("new_customers.csv", (ran_project / NEW_CUSTOMERS).read_bytes())
    result = outputs.score(raw, "new_customers.csv")
    saved = pd.read_csv(latest(ran_project / "data/07_model_output/scored_customers.csv"))
    assert result.customers["customer_id"].astype(int).tolist() == saved["customer_id"].tolist()
    assert result.customers["segment_id"].tolist() == saved["segment_id"].tolist()
    assert result.customers["segment_name"].astype(str).tolist() == saved["segment_name"].tolist()
    assert result.customers["distance_to_centroid"].to_numpy() == pytest.approx(
        saved["distance_to_centroid"].to_numpy()
    )
    quarantine = pd.read_csv(latest(ran_project / "data/07_model_output/scoring_quarantine.csv"))
    assert result.quarantine["reason"].tolist() == quarantine["reason"].tolist()
    assert result.quality["accounting"] == "60 in = 58 kept + 2 quarantined"


def test_an_excel_upload_gives_the_same_segments(outputs, ran_project, tmp_path):
    csv = (ran_project / NEW_CUSTOMERS).read_bytes()
    workbook = tmp_path / "new.xlsx"
    pd.read_csv(ran_project / NEW_CUSTOMERS).to_excel(workbook, index=False)
    from_csv = outputs.score(outputs.read_upload("new.csv", csv), "new.csv")
    from_excel = outputs.score(outputs.read_upload("new.xlsx", workbook.read_bytes()), "new.xlsx")
    assert from_excel.customers["segment_id"].tolist() == from_csv.customers["segment_id"].tolist()
    assert from_excel.quality["source_file"] == "new.xlsx"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv: the file is empty (no header, no rows)."),
        (
            "latin.csv",
            "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n1,Fémale,3,4,5\n".encode(
                "latin-1"
            ),
            "latin.csv: the file is not valid utf-8 text.",
        ),
        (
            "no_income.csv",
            b"CustomerID,Age,Spending Score (1-100)\n1,30,50\n",
            "no_income.csv: required column 'annual_income_k' (source header 'Annual Income (k$)')",
        ),
        ("broken.xlsx", b"not a workbook", "broken.xlsx: the file cannot be read"),
        (
            "ragged.csv",
            b"CustomerID,Age,Annual Income (k$),Spending Score (1-100)\n1,30,50\n2,30,50,1,9\n",
            # the short line 2 first: a short line is never padded with blanks
            "ragged.csv: line 2 has 3 fields, the header has 4.",
        ),
    ],
)
def test_a_file_that_cannot_be_scored_gets_the_pipelines_message(outputs, name, content, message):
    with pytest.raises(DataValidationError) as error:
        outputs.score(outputs.read_upload(name, content), name)
    assert str(error.value).startswith(message), str(error.value)
    assert "Traceback" not in str(error.value)


def test_a_pinned_run_version_reads_that_runs_model_and_outputs(ran_twice):
    ran_copy = ran_twice  # a run with k = 5, then one with k = 4
    newest = RunOutputs(ran_copy)
    assert len(newest.versions) == 2 and newest.version == newest.versions[0]
    assert len(newest.segment_profiles) == 4 and newest.load("k_selection")["k"] == 4
    first = RunOutputs(ran_copy, version=newest.versions[1])
    assert len(first.segment_profiles) == 5 and first.load("k_selection")["k"] == 5
    assert first.load("segmented_customers_parquet")["segment_id"].nunique() == 5
    raw = first.read_upload("new_customers.csv", (ran_copy / NEW_CUSTOMERS).read_bytes())
    assert first.score(raw, "new_customers.csv").customers["segment_id"].max() == 5
    assert newest.score(raw, "new_customers.csv").customers["segment_id"].max() == 4


@pytest.mark.parametrize("name", ["new_customers [1].csv", "a**b?.csv", "[x].csv", "../up/x.csv"])
def test_any_upload_name_is_read_and_the_upload_freed(outputs, ran_project, name):
    data = (ran_project / NEW_CUSTOMERS).read_bytes()
    assert len(outputs.read_upload(name, data)) == 60
    with pytest.raises(DataValidationError, match=re.escape(f"{name.split('/')[-1]}: the file")):
        outputs.read_upload(name, b"\xff\xfe broken,\n1")
    assert _MEMORY.find("/") == []  # nothing left behind


def test_a_table_whose_every_row_is_invalid_comes_back_as_its_quarantine(outputs):
    raw = pd.DataFrame(
        {"CustomerID": ["1", "2"], "Age": ["-4", "30"], "Annual Income (k$)": ["50", "1e300"]}
        | {"Spending Score (1-100)": ["50", "50"]}
    )
    result = outputs.score(raw, "two.csv")
    assert result.customers.empty and list(result.customers.columns)[:2] == [
        "customer_id",
        "segment_id",
    ]
    assert result.quarantine["reason"].tolist() == [
        "age not between 0 and 120",
        "annual_income_k out of range (magnitude above 1e+15)",
    ]
    assert result.quality["rows_in"] == 2


def test_tables_scored_together_get_what_each_gets_alone(outputs, ran_project):
    shipped = pd.read_csv(ran_project / NEW_CUSTOMERS, dtype=str)
    tables = [shipped.iloc[i : i + 7].reset_index(drop=True) for i in range(0, 28, 7)]
    together = outputs.score_together(tables, "request body")
    for table, answer in zip(tables, together, strict=True):
        alone = outputs.score(table, "request body")
        pd.testing.assert_frame_equal(answer.customers, alone.customers)
        # (an empty quarantine's reason column has no text dtype alone)
        pd.testing.assert_frame_equal(answer.quarantine, alone.quarantine, check_dtype=False)
        assert answer.quality["rows_in"] == alone.quality["rows_in"] == 7

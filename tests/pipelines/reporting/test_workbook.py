"""The workbook to hand on, `segments.xlsx`: built by the node, written by SafeExcelDataset, opened
with openpyxl as a spreadsheet program would."""

from __future__ import annotations

import openpyxl
import pandas as pd

from customer_segmentation.datasets import SafeExcelDataset
from customer_segmentation.pipelines.reporting.workbook import build_workbook, sheet_name
from tests.conftest import latest
from tests.pipelines.reporting.test_nodes import profiles_of, segmented_table


def cells(sheet) -> list[object]:
    return [cell.value for row in sheet.iter_rows() for cell in row]


def test_a_summary_a_sheet_per_segment_and_the_profiles_with_no_formula(tmp_path, column_schema):
    segmented = segmented_table(300)
    segmented.loc[0, "customer_id"] = '=HYPERLINK("http://x","click")'  # an id from an export
    profiles = profiles_of(segmented)
    profiles.loc[0, "segment_name"] = "=1+1 [big]: spenders/savers"
    sheets = build_workbook(segmented, profiles, column_schema)
    path = tmp_path / "segments.xlsx"
    SafeExcelDataset(filepath=str(path), save_args={"index": False}).save(sheets)

    book = openpyxl.load_workbook(path)
    others = [f"{i} {n}"[:31].strip() for i, n in profiles.iloc[1:][["segment_id", "segment_name"]]
              .itertuples(index=False)]  # fmt: skip
    assert book.sheetnames == ["Summary", "1 =1+1  big   spenders savers", *others, "Profiles"]
    for sheet, size in zip(book.sheetnames[1:-1], profiles["size"], strict=True):
        assert book[sheet].max_row == size + 1  # a header and one row per customer
        assert book[sheet]["A1"].value == "customer id"  # the schema's label
    summary = pd.read_excel(path, sheet_name="Summary")
    assert summary["customers"].tolist() == profiles["size"].tolist()
    assert summary["customers in this workbook"].tolist() == profiles["size"].tolist()
    assert "mean annual income (k$)" in summary.columns
    every = [value for sheet in book.worksheets for value in cells(sheet)]
    assert not [v for v in every if isinstance(v, str) and v.startswith("=")]
    assert '\'=HYPERLINK("http://x","click")' in every  # kept, as text


def test_sheet_names_fit_excels_rules_and_stay_different():
    taken = {"Summary"}
    first = sheet_name(1, "Recent · Frequent · High spend and more words", taken)
    assert len(first) == 31 and first.startswith("1 Recent · Frequent")
    taken.add(first)
    second = sheet_name(1, "Recent · Frequent · High spend and more words", taken)
    assert len(second) <= 31 and second.endswith("(2)") and second != first


def test_the_default_run_writes_the_workbook(ran_project):
    path = latest(ran_project / "data/08_reporting/segments.xlsx")
    profiles = pd.read_csv(latest(ran_project / "data/07_model_output/segment_profiles.csv"))
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames[0] == "Summary" and book.sheetnames[-1] == "Profiles"
    sizes = [book[name].max_row - 1 for name in book.sheetnames[1:-1]]
    assert sizes == profiles["size"].tolist()

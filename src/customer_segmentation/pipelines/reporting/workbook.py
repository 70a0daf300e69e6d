"""The workbook to hand on: `segments.xlsx`, a summary sheet, one sheet per segment with its
customers, and the profiles, for a CRM import or a colleague without Python."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from customer_segmentation.schema import schema_from_dict

EXCEL_ROWS = 1_048_576  # rows in a worksheet, the header included
SHEET_NAME = 31  # characters in a worksheet's name
NOT_IN_A_SHEET_NAME = r"[\[\]:*?/\\]"


def sheet_name(segment_id: int, name: str, taken: set[str]) -> str:
    """'3 High income · High spending' cut to Excel's 31 characters, without the characters a sheet
    name cannot hold, and different from the names `taken`."""
    base = re.sub(NOT_IN_A_SHEET_NAME, " ", f"{segment_id} {name}")[:SHEET_NAME].strip()
    candidate, n = base, 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate, n = base[: SHEET_NAME - len(suffix)] + suffix, n + 1
    return candidate


def build_workbook(
    segmented_customers: pd.DataFrame,
    segment_profiles: pd.DataFrame,
    column_schema: dict[str, Any],
) -> dict[str, pd.DataFrame]:
    """The sheets of `segments.xlsx`, in order: "Summary" (per segment: id, name, customers, share,
    suggested action, the mean of every profiled numeric column by its label and unit, and how many
    of its customers the workbook lists), one sheet per segment (its customers: the id and every
    declared column, headed by their labels; at most Excel's 1,048,575 rows, the rest are in
    `segmented_customers.csv`), and "Profiles" (`segment_profiles` as it is)."""
    schema = schema_from_dict(column_schema)
    declared = [c for c in schema.names if c in segmented_customers.columns]
    headers = {c: schema.axis_label(c) for c in declared}
    numeric = [c.removeprefix("mean_") for c in segment_profiles.columns if c.startswith("mean_")]
    summary = pd.DataFrame(
        {
            "segment id": segment_profiles["segment_id"].astype(int),
            "segment": segment_profiles["segment_name"],
            "customers": segment_profiles["size"].astype(int),
            "share of customers (%)": (100 * segment_profiles["share"]).round(1),
            "suggested action": segment_profiles["suggested_action"],
            **{
                f"mean {schema.axis_label(c)}": segment_profiles[f"mean_{c}"].round(2)
                for c in numeric
            },
        }
    )
    sheets: dict[str, pd.DataFrame] = {}
    listed = []
    for segment_id, name in summary[["segment id", "segment"]].itertuples(index=False):
        members = segmented_customers.loc[segmented_customers["segment_id"] == segment_id, declared]
        members = members.head(EXCEL_ROWS - 1).rename(columns=headers)
        sheets[sheet_name(segment_id, name, set(sheets) | {"Summary", "Profiles"})] = members
        listed.append(len(members))
    summary["customers in this workbook"] = listed
    return {"Summary": summary, **sheets, "Profiles": segment_profiles.round(4)}

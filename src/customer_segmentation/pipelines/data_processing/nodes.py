"""Nodes of the data_processing pipeline: raw customers in, one clean row per customer out.

Every node is pure: it takes tables and the `params:data_processing` dict and returns tables. Rows that
cannot be used are never dropped silently: each step returns a quarantine record (the row labels with a
`reason`), and `collect_quarantine` turns the records into the `quarantined_customers` dataset.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from customer_segmentation.errors import DataValidationError, example_rows, validation_message

from .validation import NUMERIC_COLUMNS, coerce_numeric, normalise_gender, schema_failures

logger = logging.getLogger(__name__)

QUARANTINE_RECORD_COLUMNS = ["reason", "step"]


def quarantine_record(reasons: dict[object, list[str]], step: str) -> pd.DataFrame:
    """One row per quarantined row label (sorted), with its reasons joined by '; ' and the step."""
    rows = pd.Index(sorted(reasons), dtype="int64")
    return pd.DataFrame(
        {"reason": ["; ".join(reasons[row]) for row in rows], "step": step},
        index=rows,
        columns=QUARANTINE_RECORD_COLUMNS,
    )


def standardise_columns(customers_raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Rename source headers through `column_mapping`; fail clearly on an empty file or missing columns.

    The result has the standard names (`customer_id, gender, age, annual_income_k, spending_score`),
    text values, and a `source_line` column (the line of the file each row came from).
    """
    source = params["source_file"]
    required = list(params["required_columns"])
    if customers_raw.columns.empty:
        raise DataValidationError(
            validation_message(
                source,
                "the file is empty (no header, no rows).",
                f"a header with the columns {', '.join(required)} (or their source names) and rows",
                "an empty file",
            )
        )
    mapping = {str(k).strip(): v for k, v in params["column_mapping"].items()}
    customers = customers_raw.rename(columns=lambda c: mapping.get(str(c).strip(), str(c).strip()))
    missing = [column for column in required if column not in customers.columns]
    if missing:
        sources = {
            column: [k for k, v in mapping.items() if v == column] or [column] for column in missing
        }
        wanted = "; ".join(
            f"'{c}' (source header {' or '.join(map(repr, s))})" for c, s in sources.items()
        )
        raise DataValidationError(
            validation_message(
                source,
                f"required column {wanted} is missing.",
                f"columns {', '.join(required)} "
                + params.get(
                    "required_because", "after parameters 'data_processing.column_mapping'"
                ),
                f"columns {', '.join(map(str, customers_raw.columns))}",
                example_rows(customers_raw),
            )
        )
    if customers.empty:
        raise DataValidationError(
            validation_message(
                source,
                "the file has a header but no rows.",
                "at least one customer row",
                f"only the header: {', '.join(map(str, customers_raw.columns))}",
            )
        )
    customers = customers.reset_index(drop=True)
    customers.insert(0, "source_line", np.arange(2, len(customers) + 2))
    logger.info(
        "Standardised %d rows from %s (%d columns)", len(customers), source, customers.shape[1] - 1
    )
    return customers


def validate_customers(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check every row; return (typed valid rows, quarantine record of invalid rows).

    Checks: customer id present; age, income and score numeric (blank is allowed here: the missing-value
    step decides); ranges from `valid_ranges`; gender one of `gender_values` after normalising case and
    whitespace. The checks of ranges and genders run as a pandera schema.
    """
    typed = customers.copy()
    reasons: dict[object, list[str]] = {}
    ids = typed["customer_id"].astype("string").str.strip()
    typed["customer_id"] = ids.astype(object)
    for row in typed.index[ids.isna() | (ids == "")]:
        reasons.setdefault(row, []).append("customer_id missing")
    for column in NUMERIC_COLUMNS:
        if column not in typed.columns:
            continue
        typed[column], not_numeric = coerce_numeric(typed[column])
        for row in typed.index[not_numeric]:
            reasons.setdefault(row, []).append(f"{column} is not a number")
    if "gender" in typed.columns:
        typed["gender"] = normalise_gender(typed["gender"], params["gender_values"])
        typed.loc[typed["gender"].isna() | (typed["gender"] == ""), "gender"] = None
    for row, row_reasons in schema_failures(typed, params).items():
        reasons.setdefault(row, []).extend(row_reasons)
    record = quarantine_record(reasons, "validation")
    logger.info(
        "Validated %d rows: %d valid, %d quarantined",
        len(typed),
        len(typed) - len(record),
        len(record),
    )
    return typed.drop(index=record.index), record


def impute_missing_values(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Apply the per-column policy in `missing_values` (impute_median, impute_mode, quarantine).

    Returns (rows kept, quarantine record, number of values imputed per column). Columns without a
    policy are quarantined when blank. Medians and modes come from the rows that have a value.
    """
    policies = params.get("missing_values", {})
    imputed = customers.copy()
    quarantined: dict[object, list[str]] = {}
    counts: dict[str, int] = {}
    for column in [c for c in ("gender", *NUMERIC_COLUMNS) if c in imputed.columns]:
        blank = imputed[column].isna()
        policy = policies.get(column, "quarantine")
        if not blank.any():
            continue
        if policy == "quarantine":
            for row in imputed.index[blank]:
                quarantined.setdefault(row, []).append(f"{column} missing")
            continue
        present = imputed.loc[~blank, column]
        if present.empty:
            raise DataValidationError(
                validation_message(
                    params["source_file"],
                    f"column '{column}' has no values to {policy} from.",
                    f"some values in '{column}' (parameter data_processing.missing_values.{column}={policy})",
                    "every value blank",
                    example_rows(customers),
                )
            )
        if policy == "impute_median":
            fill = float(present.median())
        elif policy == "impute_mode":
            fill = present.mode().sort_values().iloc[0]
        else:
            raise DataValidationError(
                f"parameter data_processing.missing_values.{column}: expected impute_median, "
                f"impute_mode or quarantine, found {policy!r}"
            )
        imputed.loc[blank, column] = fill
        counts[column] = int(blank.sum())
    record = quarantine_record(quarantined, "missing_values")
    logger.info("Missing values: imputed %s, quarantined %d rows", counts or "nothing", len(record))
    return imputed.drop(index=record.index), record, counts


def remove_duplicate_customers(customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the first row of each customer id; quarantine the repeats."""
    repeated = customers["customer_id"].duplicated(keep="first")
    reason = ["duplicate customer_id (first occurrence kept)"]
    record = quarantine_record(dict.fromkeys(customers.index[repeated], reason), "duplicates")
    logger.info("Duplicates: %d repeated customer ids quarantined", len(record))
    return customers.loc[~repeated], record


def iqr_bounds(values: pd.Series, multiplier: float) -> tuple[float, float]:
    """Tukey fences: (Q1 - m*IQR, Q3 + m*IQR)."""
    q1, q3 = values.quantile([0.25, 0.75])
    spread = q3 - q1
    return q1 - multiplier * spread, q3 + multiplier * spread


def treat_outliers(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Apply `outliers.policy`: none, clip_iqr (clip to the Tukey fences) or quarantine_iqr.

    Returns (rows kept, quarantine record, number of values outside the fences per column).
    """
    settings = params["outliers"]
    policy = settings["policy"]
    if policy not in {"none", "clip_iqr", "quarantine_iqr"}:
        raise DataValidationError(
            f"parameter data_processing.outliers.policy: expected none, clip_iqr or quarantine_iqr, found {policy!r}"
        )
    treated = customers.copy()
    counts: dict[str, int] = {}
    if policy == "none":
        return treated, quarantine_record({}, "outliers"), counts
    reasons: dict[object, list[str]] = {}
    for column in settings["columns"]:
        low, high = iqr_bounds(treated[column], settings["iqr_multiplier"])
        outside = (treated[column] < low) | (treated[column] > high)
        counts[column] = int(outside.sum())
        if policy == "clip_iqr":
            treated[column] = treated[column].clip(low, high)
        else:
            for row in treated.index[outside]:
                reasons.setdefault(row, []).append(f"{column} outlier (outside {low:g}..{high:g})")
    record = quarantine_record(reasons, "outliers")
    logger.info(
        "Outliers (%s): %s values outside the IQR fences, %d rows quarantined",
        policy,
        counts,
        len(record),
    )
    return treated.drop(index=record.index), record, counts


def collect_quarantine(customers: pd.DataFrame, *records: pd.DataFrame) -> pd.DataFrame:
    """The quarantined rows as delivered (text values, source line), with `reason` and `step`."""
    nonempty = [r for r in records if not r.empty]
    record = pd.concat(nonempty) if nonempty else quarantine_record({}, "none")
    quarantined = customers.loc[record.index].join(record)
    logger.info("Quarantine: %d rows", len(quarantined))
    return quarantined.sort_values("source_line").reset_index(drop=True)


def build_primary_table(
    customers: pd.DataFrame, quarantined: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """One clean row per customer with a binary `is_female` flag beside the readable `gender`."""
    if customers.empty:
        raise DataValidationError(
            validation_message(
                params["source_file"],
                "no valid rows left: every row was quarantined.",
                "at least one row that passes validation and cleaning",
                "reasons: "
                + "; ".join(f"{r} ({n})" for r, n in quarantined["reason"].value_counts().items()),
                example_rows(quarantined),
            )
        )
    primary = customers.drop(columns="source_line").reset_index(drop=True)
    if "gender" in primary.columns:
        primary["is_female"] = (primary["gender"] == "Female").astype(int)
    for column in [c for c in NUMERIC_COLUMNS if c in primary.columns]:
        if np.allclose(primary[column], primary[column].round()):
            primary[column] = primary[column].round().astype("int64")
    logger.info("Primary table: %d customers", len(primary))
    return primary


def build_data_quality_report(
    customers: pd.DataFrame,
    primary: pd.DataFrame,
    quarantined: pd.DataFrame,
    imputed: dict[str, int],
    outliers: dict[str, int],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Rows in, kept and quarantined (by reason and step), values imputed, and the accounting check."""
    rows_in, rows_kept, rows_quarantined = len(customers), len(primary), len(quarantined)
    holds = rows_in == rows_kept + rows_quarantined
    report = {
        "source_file": params["source_file"],
        "rows_in": rows_in,
        "rows_kept": rows_kept,
        "rows_quarantined": rows_quarantined,
        "quarantined_by_reason": {
            str(k): int(v) for k, v in quarantined["reason"].value_counts().sort_index().items()
        },
        "quarantined_by_step": {
            str(k): int(v) for k, v in quarantined["step"].value_counts().sort_index().items()
        },
        "values_imputed": {k: int(v) for k, v in imputed.items()},
        "outlier_policy": params["outliers"]["policy"],
        "outliers_outside_iqr": {k: int(v) for k, v in outliers.items()},
        "accounting_holds": holds,
        "accounting": f"{rows_in} in = {rows_kept} kept + {rows_quarantined} quarantined",
    }
    if not holds:
        raise AssertionError(f"row accounting broken: {report['accounting']}")
    logger.info("Data quality: %s", report["accounting"])
    return report

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
import pyarrow as pa
import pyarrow.compute as pc

from customer_segmentation.engine import is_spark, spark_module
from customer_segmentation.errors import DataValidationError, example_rows, validation_message
from customer_segmentation.schema import RESERVED_COLUMNS, UNKNOWN_CATEGORY, schema_from_params

from .validation import (
    MAX_MAGNITUDE,
    coerce_numeric,
    magnitude_reason,
    normalise_categorical,
    placeholder_mask,
    schema_failures,
)

logger = logging.getLogger(__name__)

QUARANTINE_RECORD_COLUMNS = ["reason", "step"]


def on_spark():
    """The Spark versions of these nodes (imported only when a Spark DataFrame arrives)."""
    return spark_module("data_processing")


def examples_of(frame: Any) -> str:
    return example_rows(frame.limit(5).toPandas() if is_spark(frame) else frame)


def quarantine_record(reasons: dict[object, list[str]], step: str) -> pd.DataFrame:
    """One row per quarantined row label (sorted), with its reasons joined by '; ' and the step."""
    rows = pd.Index(sorted(reasons), dtype="int64")
    return pd.DataFrame(
        {"reason": ["; ".join(reasons[row]) for row in rows], "step": step},
        index=rows,
        columns=QUARANTINE_RECORD_COLUMNS,
    )


def declare_schema(primary: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """The checked column schema of the primary table (`data_processing.columns`, `features`,
    `transforms`; optional columns the file lacks left out) as a record.

    Later pipelines read labels, units and roles from it.
    """
    schema = schema_from_params(params).present_in(list(primary.columns))
    logger.info(
        "Schema: id %s; numeric %s; categorical %s; features %s",
        schema.id_column,
        schema.numeric,
        schema.categorical,
        list(schema.features),
    )
    return schema.to_dict()


def standard_names(headers: Any, schema: Any) -> list[str]:
    """The declared name of each source header (trimmed; an undeclared header keeps its text)."""
    mapping = schema.source_mapping()
    return [mapping.get(str(h).strip(), str(h).strip()) for h in headers]


def standardise_columns(customers_raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Rename source headers to the declared names; fail clearly on an empty file or missing columns.

    The result has the declared standard names, the undeclared columns untouched, the values as
    delivered, and a `source_line` column (the line of the file each row came from).
    """
    schema = schema_from_params(params)
    source = params["source_file"]
    required = [c.name for c in schema.columns if c.required]
    if not len(customers_raw.columns):
        raise DataValidationError(
            validation_message(
                source,
                "the file is empty (no header, no rows).",
                f"a header with the columns {', '.join(required)} (or their source names) and rows",
                "an empty file",
            )
        )
    headers = [str(c).strip() for c in customers_raw.columns]
    names = standard_names(customers_raw.columns, schema)
    clashes = sorted({n for n in names if names.count(n) > 1 or n in RESERVED_COLUMNS})
    if clashes:
        raise DataValidationError(
            validation_message(
                source,
                f"the header gives more than one column the name {', '.join(map(repr, clashes))}.",
                "one source header per declared column (parameters data_processing.columns[*].source),"
                f" and no header named {', '.join(RESERVED_COLUMNS)}",
                f"columns {', '.join(headers)}",
            )
        )
    missing = [column for column in required if column not in names]
    if missing:
        wanted = "; ".join(
            f"'{c}' (source header {' or '.join(map(repr, schema.column(c).source))})"
            for c in missing
        )
        raise DataValidationError(
            validation_message(
                source,
                f"required column {wanted} is missing.",
                f"columns {', '.join(required)} "
                + params.get("required_because", "after parameters 'data_processing.columns'"),
                f"columns {', '.join(headers)}",
                examples_of(customers_raw),
            )
        )
    if customers_raw.isEmpty() if is_spark(customers_raw) else customers_raw.empty:
        raise DataValidationError(
            validation_message(
                source,
                "the file has a header but no rows.",
                "at least one customer row",
                f"only the header: {', '.join(headers)}",
            )
        )
    if is_spark(customers_raw):
        return on_spark().standardise_columns(customers_raw, names)
    customers = customers_raw.set_axis(names, axis=1).reset_index(drop=True)
    # the line of the file each row is on: position + 2, or where blank lines or quoted line breaks
    # move it, the physical lines the reader found (RawCustomersDataset)
    lines = customers_raw.attrs.get("source_lines")
    if lines is None or len(lines) != len(customers):
        lines = np.arange(2, len(customers) + 2)
    customers.attrs.clear()  # the lines are a column now; pandas copies attrs with every operation
    customers.insert(0, "source_line", lines)
    logger.info(
        "Standardised %d rows from %s (%d columns)", len(customers), source, customers.shape[1] - 1
    )
    return customers


def id_text(ids: pd.Series) -> pd.Series:
    """Customer ids as trimmed text. Whole-number ids from typed sources (Excel, SQL, Parquet) read
    as floats when a cell is blank; they become '17', not '17.0'."""
    if pd.api.types.is_float_dtype(ids):
        whole = ids.notna() & np.isfinite(ids) & (ids == ids.round()) & (ids.abs() < 2**53)
        if whole[ids.notna()].all():
            return ids.astype("Int64").astype("string")
    return ids.astype("string").str.strip()


def validate_customers(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and check every row; return (typed valid rows, quarantine record of invalid rows).

    Checks: id present; numeric columns numeric (blank is allowed here: the missing-value step
    decides); numeric ranges and categorical spellings as declared. Undeclared columns are not
    checked. The checks of ranges and categories run as a pandera schema.
    """
    if is_spark(customers):
        return on_spark().validate_customers(customers, params)
    schema = schema_from_params(params)
    typed = customers.copy(deep=False)  # copy-on-write: a column is copied only when replaced
    reasons: dict[object, list[str]] = {}
    id_column = schema.id_column
    ids = id_text(typed[id_column])
    typed[id_column] = ids  # text (pandas string dtype): far smaller than Python objects
    for row in typed.index[ids.isna() | (ids == "")]:
        reasons.setdefault(row, []).append(f"{id_column} missing")
    placeholder_ids = placeholder_mask(ids, schema.column(id_column).placeholders)
    for row in typed.index[placeholder_ids]:
        reasons.setdefault(row, []).append(placeholder_reason(id_column, ids[row]))
    for column in schema.columns:
        if column.name not in typed.columns or column.role == "id":
            continue
        placeholders = placeholder_mask(typed[column.name], column.placeholders)
        if placeholders.any():  # a missing value: the column's `missing` policy decides
            typed[column.name] = typed[column.name].mask(placeholders)
        if column.role == "numeric":
            numbers, not_numeric = coerce_numeric(typed[column.name])
            for row in typed.index[not_numeric]:
                reasons.setdefault(row, []).append(f"{column.name} is not a number")
            too_large = numbers.abs() > MAX_MAGNITUDE
            for row in typed.index[too_large]:
                reasons.setdefault(row, []).append(magnitude_reason(column.name))
            typed[column.name] = numbers.mask(too_large)
        else:
            typed[column.name] = normalise_categorical(typed[column.name], column.values)
    for row, row_reasons in schema_failures(typed, schema).items():
        reasons.setdefault(row, []).extend(row_reasons)
    record = quarantine_record(reasons, "validation")
    logger.info(
        "Validated %d rows: %d valid, %d quarantined",
        len(typed),
        len(typed) - len(record),
        len(record),
    )
    return without(typed, record), record


def placeholder_reason(id_column: str, value: str) -> str:
    """ "customer_id missing (placeholder '(blank)')": an id that is an export's word for none."""
    return f"{id_column} missing (placeholder '{str(value).strip()}')"


def without(customers: pd.DataFrame, record: pd.DataFrame) -> pd.DataFrame:
    """`customers` without the rows of a quarantine record; with none, a copy-on-write view (no
    copy of millions of rows for nothing)."""
    return customers.drop(index=record.index) if len(record) else customers.copy(deep=False)


def learned(params: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The cleaning statistics of `kind` ("fills", "fences") learned at training, when `params`
    carries them (scoring: `scoring.nodes.scoring_cleaning_parameters`); None when training."""
    statistics = params.get("learned_statistics")
    return None if statistics is None else statistics.get(kind, {})


def no_learned_value(params: dict[str, Any], column: str, what: str) -> DataValidationError:
    return DataValidationError(
        validation_message(
            params["source_file"],
            f"the segment model has no {what} learned for column '{column}'.",
            f"a model trained on data with column '{column}' (run `kedro run` again)",
            f"learned at training: {', '.join(learned(params, 'fills') or {}) or 'nothing'}",
        )
    )


def impute_missing_values(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, Any]]:
    """Apply each declared column's `missing` policy (impute_median, impute_mode, quarantine, keep).

    Returns (rows kept, quarantine record, number of values imputed per column, the fill value of
    every imputed column). When training, medians and modes come from the rows that have a value
    (every imputable column's, blank or not: scoring needs them all); when scoring, they are the
    values learned at training (`learned_statistics` in `params`), so that a new customer's blank is
    filled the same whoever else is in the batch. `keep` fills a categorical blank with "Unknown".
    """
    if is_spark(customers):
        return on_spark().impute_missing_values(customers, params)
    schema = schema_from_params(params)
    imputed = customers.copy(deep=False)
    quarantined: dict[object, list[str]] = {}
    counts: dict[str, int] = {}
    fills: dict[str, Any] = {}
    for column in schema.columns:
        if column.role == "id" or column.name not in imputed.columns:
            continue
        blank = imputed[column.name].isna()
        if column.missing not in ("impute_median", "impute_mode", "keep"):
            for row in imputed.index[blank]:
                quarantined.setdefault(row, []).append(f"{column.name} missing")
            continue
        fill = fill_value(imputed[column.name], column, bool(blank.any()), params)
        if fill is None:  # nothing to learn and nothing to fill
            continue
        fills[column.name] = fill
        if blank.any():
            imputed.loc[blank, column.name] = fill
            counts[column.name] = int(blank.sum())
    record = quarantine_record(quarantined, "missing_values")
    logger.info("Missing values: imputed %s, quarantined %d rows", counts or "nothing", len(record))
    return without(imputed, record), record, counts, fills


def fill_value(values: pd.Series, column: Any, has_blanks: bool, params: dict[str, Any]) -> Any:
    """A column's fill value: "Unknown" for `keep`, the learned value when scoring, else the batch's
    median or mode. None when there is none and no blank needs one."""
    if column.missing == "keep":
        return UNKNOWN_CATEGORY
    learned_fills = learned(params, "fills")
    if learned_fills is not None:
        if column.name not in learned_fills and has_blanks:
            raise no_learned_value(params, column.name, f"{column.missing} value")
        return learned_fills.get(column.name)
    fill = batch_fill(values, column.missing)
    if fill is None and has_blanks:
        raise DataValidationError(
            validation_message(
                params["source_file"],
                f"column '{column.name}' has no values to {column.missing} from.",
                f"some values in '{column.name}' (parameter data_processing.columns: "
                f"{column.name} missing: {column.missing})",
                "every value blank",
                example_rows(values.to_frame()),
            )
        )
    return fill


def batch_fill(values: pd.Series, policy: str) -> Any:
    """The median (as a float) or the mode (ties: the smallest value) of the values present; None when
    every value is blank."""
    present = values.dropna()
    if present.empty:
        return None
    if policy == "impute_median":
        return float(present.median())
    mode = present.mode().sort_values().iloc[0]
    return mode.item() if hasattr(mode, "item") else mode


def cleaning_statistics(fills: dict[str, Any], fences: dict[str, list[float]]) -> dict[str, Any]:
    """What cleaning learned from the training customers, saved with the segment model: the fill
    value of every imputed column and the IQR fences of every outlier-treated column. Scoring applies
    these instead of learning them from the batch it is given."""
    return {"fills": dict(fills), "fences": {c: list(map(float, f)) for c, f in fences.items()}}


def repeats(ids: pd.Series) -> np.ndarray:
    """True where an id occurred on an earlier row. Found by a stable Arrow sort and a comparison of
    neighbours: for ten million text ids a third of the memory of hashing them."""
    ids = pa.array(ids)
    order = pc.sort_indices(ids)  # stable: of equal ids, the earliest row comes first
    ordered = ids.take(order)
    same_as_previous = pc.equal(ordered[1:], ordered[:-1]).fill_null(False)
    same_as_previous = same_as_previous.to_numpy(zero_copy_only=False)
    repeated = np.zeros(len(ids), dtype=bool)
    repeated[order.to_numpy()[1:]] = same_as_previous
    return repeated


def remove_duplicate_customers(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the first row of each customer id; quarantine the repeats."""
    if is_spark(customers):
        return on_spark().remove_duplicate_customers(customers, params)
    id_column = schema_from_params(params).id_column
    repeated = pd.Series(repeats(customers[id_column]), index=customers.index)
    reason = [f"duplicate {id_column} (first occurrence kept)"]
    record = quarantine_record(dict.fromkeys(customers.index[repeated], reason), "duplicates")
    logger.info("Duplicates: %d repeated customer ids quarantined", len(record))
    return (customers.loc[~repeated] if len(record) else customers.copy(deep=False)), record


def iqr_bounds(values: pd.Series, multiplier: float) -> tuple[float, float]:
    """Tukey fences: (Q1 - m*IQR, Q3 + m*IQR)."""
    q1, q3 = values.quantile([0.25, 0.75])
    spread = q3 - q1
    return q1 - multiplier * spread, q3 + multiplier * spread


def outlier_columns(customers: Any, params: dict[str, Any]) -> list[str]:
    """The columns `outliers.policy` applies to (checked against the declared numeric columns)."""
    settings = params["outliers"]
    policy = settings["policy"]
    if policy not in {"none", "clip_iqr", "quarantine_iqr"}:
        raise DataValidationError(
            f"parameter data_processing.outliers.policy: expected none, clip_iqr or quarantine_iqr, found {policy!r}"
        )
    numeric = schema_from_params(params).numeric
    columns = numeric if settings.get("columns") is None else list(settings["columns"])
    unknown = [c for c in columns if c not in numeric]
    if unknown:
        raise DataValidationError(
            f"parameter data_processing.outliers.columns: expected declared numeric columns "
            f"({', '.join(numeric)}) or null, found {unknown!r}"
        )
    return [c for c in columns if c in customers.columns] if policy != "none" else []


def treat_outliers(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, list[float]]]:
    """Apply `outliers.policy`: none, clip_iqr (clip to the Tukey fences) or quarantine_iqr.

    Returns (rows kept, quarantine record, number of values outside the fences per column, the
    fences per column). When training the fences come from the customers; when scoring they are the
    fences learned at training (`learned_statistics` in `params`).
    """
    settings = params["outliers"]
    policy = settings["policy"]
    columns = outlier_columns(customers, params)
    learned_fences = learned(params, "fences")
    if learned_fences is not None:
        missing = [c for c in columns if c not in learned_fences]
        if missing:
            raise no_learned_value(params, missing[0], "outlier fences")
    if is_spark(customers):
        if not columns:
            return customers, on_spark().empty_record(customers, "outliers"), {}, {}
        return on_spark().treat_outliers(customers, params, columns, learned_fences)
    treated = customers.copy(deep=False)
    counts: dict[str, int] = {}
    fences: dict[str, list[float]] = {}
    if policy == "none":
        return treated, quarantine_record({}, "outliers"), counts, fences
    reasons: dict[object, list[str]] = {}
    for column in columns:
        if learned_fences is not None:
            low, high = learned_fences[column]
        else:
            low, high = iqr_bounds(treated[column], settings["iqr_multiplier"])
        fences[column] = [float(low), float(high)]
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
    return without(treated, record), record, counts, fences


def collect_quarantine(customers: pd.DataFrame, *records: pd.DataFrame) -> pd.DataFrame:
    """The quarantined rows as delivered (text values, source line), with `reason` and `step`."""
    if is_spark(customers):
        return on_spark().collect_quarantine(customers, *records)
    nonempty = [r for r in records if not r.empty]
    record = pd.concat(nonempty) if nonempty else quarantine_record({}, "none")
    quarantined = customers.loc[record.index].join(record)
    logger.info("Quarantine: %d rows", len(quarantined))
    return quarantined.sort_values("source_line").reset_index(drop=True)


def build_primary_table(
    customers: pd.DataFrame, quarantined: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """One clean row per customer: declared columns typed, undeclared columns as delivered.

    Numeric columns that hold whole numbers only become integers.
    """
    if is_spark(customers):
        return on_spark().build_primary_table(
            customers, quarantined, schema_from_params(params), params
        )
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
    for column in [c for c in schema_from_params(params).numeric if c in primary.columns]:
        values = primary[column]
        if values.abs().max() < 2**53 and np.allclose(values, values.round()):
            primary[column] = values.round().astype("int64")
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
    if is_spark(customers):
        counts = on_spark().quality_counts(customers, primary, quarantined)
    else:
        counts = {
            "rows_in": len(customers),
            "rows_kept": len(primary),
            "rows_quarantined": len(quarantined),
            **{
                f"quarantined_by_{column}": {
                    str(k): int(v)
                    for k, v in quarantined[column].value_counts().sort_index().items()
                }
                for column in ("reason", "step")
            },
        }
    rows_in, rows_kept, rows_quarantined = (
        counts["rows_in"],
        counts["rows_kept"],
        counts["rows_quarantined"],
    )
    holds = rows_in == rows_kept + rows_quarantined
    report = {
        "source_file": params["source_file"],
        **counts,
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

"""The data_processing rules on Spark DataFrames (`kedro run --env spark`).

The nodes in `nodes.py` hand a Spark DataFrame to the function of the same name here, so the pipeline,
the declared schema, the parameters, the quarantine reasons and the row accounting are the same on
both engines. Rows are identified by `source_line` (the line of the file), which Spark numbers from the
order in which it read the file; quarantine records are DataFrames of (`source_line`, `reason`,
`step`). Every count and statistic is computed by Spark; only aggregates reach the driver.
"""

from __future__ import annotations

import logging
from functools import reduce
from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)

from customer_segmentation.errors import DataValidationError, example_rows, validation_message
from customer_segmentation.schema import UNKNOWN_CATEGORY, Schema, schema_from_params

from .nodes import learned, no_learned_value
from .validation import MAX_MAGNITUDE, failure_reason, magnitude_reason

logger = logging.getLogger(__name__)

ROW_BITS = 33  # monotonically_increasing_id(): partition index above bit 33, row within it below


def number_lines(frame: DataFrame, first: int = 2) -> DataFrame:
    """`frame` with `source_line` first: the line of the file each row came from (the header is
    line 1), from Spark's reading order: rows before them in their partition plus the rows of the
    earlier partitions (one count per partition reaches the driver). Works on a cluster and over
    Spark Connect (no RDD)."""
    ids = frame.withColumn("_id", F.monotonically_increasing_id())
    ids = ids.withColumn("_part", F.shiftright("_id", ROW_BITS)).withColumn(
        "_pos", F.col("_id").bitwiseAND((1 << ROW_BITS) - 1)
    )
    offsets, rows_before = [], 0
    for part in ids.groupBy("_part").count().orderBy("_part").collect():
        offsets.append((part["_part"], rows_before))
        rows_before += part["count"]
    offsets = frame.sparkSession.createDataFrame(offsets, "_part long, _offset long")
    numbered = ids.join(F.broadcast(offsets), "_part").withColumn(
        "source_line", (F.col("_offset") + F.col("_pos") + first).cast("long")
    )
    return numbered.select("source_line", *frame.columns)


def standardise_columns(customers_raw: DataFrame, names: list[str]) -> DataFrame:
    """Rename to the declared names (checked by the caller), every value as text (as delivered:
    a typed table such as the order log's customer features is checked like a CSV) and number the
    lines."""
    return number_lines(
        customers_raw.select(
            *[
                F.col(f"`{c}`").cast("string").alias(n)
                for c, n in zip(customers_raw.columns, names, strict=True)
            ]
        )
    )


def record(frame: DataFrame, reason: SparkColumn, step: str) -> DataFrame:
    """The quarantine record of the rows of `frame` where `reason` is not null."""
    return frame.select("source_line", reason.alias("reason"), F.lit(step).alias("step")).where(
        F.col("reason").isNotNull()
    )


def reasons(*checks: tuple[SparkColumn, str | SparkColumn]) -> SparkColumn:
    """The reasons of the failing checks, in order, joined by '; '; null when none fails."""
    failing = [
        F.when(condition, F.lit(text) if isinstance(text, str) else text)
        for condition, text in checks
    ]
    joined = F.concat_ws("; ", *failing) if failing else F.lit("")
    return F.when(joined != "", joined)


def blank(column: str) -> SparkColumn:
    return F.col(column).isNull() | (F.trim(F.col(column)) == "")


def is_placeholder(text: SparkColumn, tokens: list[str]) -> SparkColumn:
    """`validation.placeholder_mask` as a Spark column: the trimmed text in lower case is a token."""
    return F.coalesce(F.lower(text).isin(tokens), F.lit(False)) if tokens else F.lit(False)


def validate_customers(customers: DataFrame, params: dict[str, Any]) -> tuple[DataFrame, DataFrame]:
    """Type and check every row as `nodes.validate_customers` does, with the same reasons in the same
    order: id missing, then each numeric column that is not a number, then the declared rules."""
    schema = schema_from_params(params)
    id_column = schema.id_column
    present = [c for c in schema.columns if c.name in customers.columns and c.role != "id"]
    ids = F.trim(F.col(id_column))
    typed = {id_column: ids}
    checks: list[tuple[SparkColumn, str | SparkColumn]] = [
        (blank(id_column), f"{id_column} missing"),
        (
            is_placeholder(ids, schema.column(id_column).placeholders),
            F.concat(F.lit(f"{id_column} missing (placeholder '"), ids, F.lit("')")),
        ),
    ]
    for column in present:
        text = F.trim(F.col(column.name))
        # a placeholder is a missing value: the column's `missing` policy decides
        text = F.when(~is_placeholder(text, column.placeholders), text)
        if column.role == "numeric":
            number = text.try_cast("double")
            unusable = number.isNull() | F.isnan(number) | (F.abs(number) == float("inf"))
            given = text.isNotNull() & (text != "")
            checks.append((given & unusable, f"{column.name} is not a number"))
            too_large = ~unusable & (F.abs(number) > MAX_MAGNITUDE)
            checks.append((F.coalesce(too_large, F.lit(False)), magnitude_reason(column.name)))
            typed[column.name] = F.when(~unusable & ~too_large, number)
        else:
            spellings = [F.lit(x) for pair in column.values.items() for x in pair]
            spelled = F.create_map(*spellings)[F.lower(text)] if spellings else F.lit(None)
            value = F.coalesce(spelled, text)
            typed[column.name] = F.when(value != "", value)
    for column in present:
        value = typed[column.name]
        if column.role == "numeric" and column.has_range:
            outside = F.lit(False)
            if column.min is not None:
                outside = outside | (value < column.min)
            if column.max is not None:
                outside = outside | (value > column.max)
            checks.append((outside, failure_reason(column)))
        elif column.role == "categorical" and column.values:
            checks.append((~value.isin(column.canonical_values), failure_reason(column)))
    flagged = customers.select(
        "*", *[e.alias(f"_typed_{c}") for c, e in typed.items()], reasons(*checks).alias("_reason")
    ).cache()
    valid = flagged.where(F.col("_reason").isNull()).select(
        *[F.col(f"_typed_{c}").alias(c) if c in typed else F.col(c) for c in customers.columns]
    )
    return valid, record(flagged, F.col("_reason"), "validation")


def impute_missing_values(
    customers: DataFrame, params: dict[str, Any]
) -> tuple[DataFrame, DataFrame, dict[str, int], dict[str, Any]]:
    """Each declared column's `missing` policy, as `nodes.impute_missing_values`: when training the
    median and mode come from the rows that have a value (the mode's ties go to the smallest value),
    when scoring they are the values learned at training."""
    schema = schema_from_params(params)
    learned_fills = learned(params, "fills")
    columns = [c for c in schema.columns if c.role != "id" and c.name in customers.columns]
    blanks = customers.select(
        *[F.sum(F.col(c.name).isNull().cast("long")).alias(c.name) for c in columns]
    ).first()
    counts: dict[str, int] = {}
    fills: dict[str, Any] = {}
    quarantine_checks: list[tuple[SparkColumn, str]] = []
    for column in columns:
        blank = int(blanks[column.name] or 0)
        if column.missing == "quarantine":
            if blank:
                quarantine_checks.append((F.col(column.name).isNull(), f"{column.name} missing"))
            continue
        if learned_fills is not None and column.missing != "keep":
            if column.name not in learned_fills:
                if not blank:
                    continue
                raise no_learned_value(params, column.name, f"{column.missing} value")
            fills[column.name] = learned_fills[column.name]
        else:
            fills[column.name] = _fill_value(customers, column.name, column.missing, params, blank)
            if fills[column.name] is None:
                del fills[column.name]
                continue
        if blank:
            counts[column.name] = blank
    to_fill = {name: value for name, value in fills.items() if name in counts}
    imputed = customers.fillna(to_fill) if to_fill else customers
    flagged = imputed.withColumn("_reason", reasons(*quarantine_checks)).cache()
    quarantine = record(flagged, F.col("_reason"), "missing_values")
    logger.info("Missing values (Spark): imputed %s", counts or "nothing")
    return flagged.where(F.col("_reason").isNull()).drop("_reason"), quarantine, counts, fills


def _fill_value(
    customers: DataFrame, name: str, policy: str, params: dict[str, Any], blank: int
) -> Any:
    if policy == "keep":
        return UNKNOWN_CATEGORY
    present = customers.where(F.col(name).isNotNull())
    if policy == "impute_median":
        median = present.select(F.percentile(name, 0.5)).first()[0]
    else:
        top = (
            present.groupBy(name).count().orderBy(F.desc("count"), F.asc(name)).select(name).first()
        )
        median = None if top is None else top[0]
    if median is None:
        if not blank:
            return None
        raise DataValidationError(
            validation_message(
                params["source_file"],
                f"column '{name}' has no values to {policy} from.",
                f"some values in '{name}' (parameter data_processing.columns: {name} missing: "
                f"{policy})",
                "every value blank",
                example_rows(customers.limit(5).toPandas()),
            )
        )
    return float(median) if policy == "impute_median" else median


def remove_duplicate_customers(
    customers: DataFrame, params: dict[str, Any]
) -> tuple[DataFrame, DataFrame]:
    """Keep the first row (lowest source line) of each customer id; quarantine the repeats."""
    id_column = schema_from_params(params).id_column
    order = Window.partitionBy(id_column).orderBy("source_line")
    ranked = customers.withColumn("_rank", F.row_number().over(order)).cache()
    reason = F.when(F.col("_rank") > 1, F.lit(f"duplicate {id_column} (first occurrence kept)"))
    return ranked.where(F.col("_rank") == 1).drop("_rank"), record(ranked, reason, "duplicates")


def treat_outliers(
    customers: DataFrame,
    params: dict[str, Any],
    columns: list[str],
    learned_fences: dict[str, list[float]] | None = None,
) -> tuple[DataFrame, DataFrame, dict[str, int], dict[str, list[float]]]:
    """`outliers.policy` clip_iqr or quarantine_iqr on `columns` (checked by the caller), with the
    Tukey fences from exact quartiles (linear interpolation, as pandas) when training, the fences
    learned at training when scoring."""
    settings = params["outliers"]
    multiplier = settings["iqr_multiplier"]
    if learned_fences is not None:
        fences = {c: tuple(learned_fences[c]) for c in columns}
    else:
        quartiles = customers.select(
            *[F.percentile(c, [0.25, 0.75]).alias(c) for c in columns]
        ).first()
        fences = {}
        for column in columns:
            q1, q3 = quartiles[column]
            fences[column] = (q1 - multiplier * (q3 - q1), q3 + multiplier * (q3 - q1))
    outside_of = {c: (F.col(c) < low) | (F.col(c) > high) for c, (low, high) in fences.items()}
    outside_counts = customers.select(
        *[F.sum(outside.cast("long")).alias(c) for c, outside in outside_of.items()]
    ).first()  # every column's count in one pass
    counts = {c: int(outside_counts[c] or 0) for c in columns}
    treated, checks = customers, []
    for column, outside in outside_of.items():
        low, high = fences[column]
        if settings["policy"] == "clip_iqr":
            treated = treated.withColumn(
                column, F.least(F.greatest(column, F.lit(low)), F.lit(high))
            )
        else:
            checks.append((outside, f"{column} outlier (outside {low:g}..{high:g})"))
    flagged = treated.withColumn("_reason", reasons(*checks)).cache()
    quarantine = record(flagged, F.col("_reason"), "outliers")
    kept = flagged.where(F.col("_reason").isNull()).drop("_reason")
    return kept, quarantine, counts, {c: [float(lo), float(hi)] for c, (lo, hi) in fences.items()}


def empty_record(customers: DataFrame, step: str) -> DataFrame:
    return record(customers.limit(0), F.lit(None).cast("string"), step)


def collect_quarantine(customers: DataFrame, *records: DataFrame) -> DataFrame:
    """The quarantined rows as delivered, with `reason` and `step`, in file order."""
    every = reduce(DataFrame.unionByName, records)
    return customers.join(every, "source_line").orderBy("source_line")


def build_primary_table(
    customers: DataFrame, quarantined: DataFrame, schema: Schema, params: dict[str, Any]
) -> DataFrame:
    """One clean row per customer, as `nodes.build_primary_table`: whole-number numeric columns
    become integers. Stops with the quarantine reasons when no row is left."""
    if customers.isEmpty():
        counts = quarantined.groupBy("reason").count().orderBy(F.desc("count")).collect()
        raise DataValidationError(
            validation_message(
                params["source_file"],
                "no valid rows left: every row was quarantined.",
                "at least one row that passes validation and cleaning",
                "reasons: " + "; ".join(f"{r['reason']} ({r['count']})" for r in counts),
                example_rows(quarantined.limit(5).toPandas()),
            )
        )
    primary = customers.drop("source_line")
    numeric = [c for c in schema.numeric if c in primary.columns]
    if numeric:
        whole = primary.select(
            *[F.min((F.col(c) == F.round(c)).cast("int")).alias(c) for c in numeric]
        ).first()
        for column in [c for c in numeric if whole[c] == 1]:
            primary = primary.withColumn(column, F.round(column).cast("long"))
    return primary


def quality_counts(customers: DataFrame, primary: DataFrame, quarantined: DataFrame) -> dict:
    """Rows in, kept, quarantined and the quarantine by reason and by step, counted by Spark."""

    def by(column: str) -> dict[str, int]:
        rows = quarantined.groupBy(column).count().orderBy(column).collect()
        return {str(r[column]): int(r["count"]) for r in rows}

    return {
        "rows_in": customers.count(),
        "rows_kept": primary.count(),
        "rows_quarantined": quarantined.count(),
        "quarantined_by_reason": by("reason"),
        "quarantined_by_step": by("step"),
    }

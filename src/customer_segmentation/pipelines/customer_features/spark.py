"""The customer_features nodes on Spark: an order log on Spark -> one row of behaviour per customer.

The nodes in `nodes.py` hand a Spark DataFrame to the function of the same name here: the same rules
in the same order with the same reasons, the same netting (per customer and item, the latest
purchases first against the earliest cancellations first: window sums instead of sorted arrays), the
same features, RFM scores and line accounting, all computed by Spark. Only counts, the snapshot date
and a few example rows reach the driver.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)

from customer_segmentation.errors import DataValidationError, example_rows, validation_message
from customer_segmentation.pipelines.data_processing.spark import number_lines

logger = logging.getLogger(__name__)

# Python's strptime directives -> Spark's datetime pattern letters (one letter: one or two digits,
# as strptime reads them)
DIRECTIVES = {
    "Y": "yyyy", "y": "yy", "m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s",
    "p": "a", "b": "MMM", "B": "MMMM", "f": "SSSSSS", "%": "%",
}  # fmt: skip


def spark_date_pattern(date_format: str) -> str:
    """`customer_features.date_format` (strptime) as a Spark datetime pattern; letters between the
    directives are quoted. An unsupported directive stops the run naming the parameter."""
    pattern = []
    for part in re.split(r"(%.)", date_format):  # literal text and directives, alternately
        if part.startswith("%") and len(part) == 2:
            if part[1] not in DIRECTIVES:
                raise DataValidationError(
                    f"parameter customer_features.date_format: {part} is not supported on "
                    f"Spark; expected directives among {', '.join('%' + d for d in DIRECTIVES)}, "
                    f"found {date_format!r}"
                )
            pattern.append(DIRECTIVES[part[1]])
        elif re.search(r"[A-Za-z']", part):
            pattern.append("'" + part.replace("'", "''") + "'")
        else:
            pattern.append(part)
    return "".join(pattern)


def rounded(value: Column, digits: int) -> Column:
    """Rounded as numpy and pandas round: half to even on value x 10^digits (not on the decimal)."""
    return F.rint(value * 10**digits) / 10**digits


def standardise_order_lines(lines_raw: DataFrame, renamed: dict[str, str]) -> DataFrame:
    """The renamed fields, as text, with `source_line` first (the file's line)."""
    return number_lines(
        lines_raw.select(*[F.col(f"`{h}`").cast("string").alias(f) for h, f in renamed.items()])
    )


def count_lines(lines: DataFrame) -> int:
    return lines.count()


def stripped(lines: DataFrame, field: str) -> Column:
    return F.trim(F.col(field)) if field in lines.columns else F.lit(None).cast("string")


def finite(value: Column) -> Column:
    return value.isNotNull() & ~F.isnan(value) & (F.abs(value) != float("inf"))


def clean_order_lines(lines: DataFrame, params: dict[str, Any]) -> tuple[DataFrame, DataFrame]:
    """`nodes.clean_order_lines` on Spark: (typed usable lines, quarantined lines with reason)."""
    delivered = [c for c in lines.columns if c != "source_line"]
    customer_id = F.regexp_replace(stripped(lines, "customer_id"), r"^(\d+)\.0+$", "$1")
    invoice = F.coalesce(stripped(lines, "invoice"), F.lit(""))
    item = stripped(lines, "stock_code")
    date = F.try_to_timestamp(
        stripped(lines, "invoice_date"), F.lit(spark_date_pattern(params["date_format"]))
    )
    quantity = stripped(lines, "quantity").try_cast("double")
    price = stripped(lines, "unit_price").try_cast("double")
    codes = sorted({str(code).strip().upper() for code in params["non_product_codes"]})
    first_line = F.min("source_line").over(
        Window.partitionBy(*[F.col(f"`{c}`") for c in delivered])
    )
    typed = lines.select(
        "*",
        customer_id.alias("_customer_id"),
        invoice.alias("_invoice"),
        item.alias("_item"),
        date.alias("_date"),
        quantity.alias("_quantity"),
        price.alias("_price"),
        first_line.alias("_first_line"),
    )
    rules = [
        (F.col("source_line") != F.col("_first_line"),
         F.concat(F.lit("duplicate of line "), F.col("_first_line").cast("string"))),
        (F.coalesce(F.col("_customer_id"), F.lit("")) == "", F.lit("missing customer id")),
        (F.col("_date").isNull(), F.lit(f"unparseable date (expected {params['date_format']})")),
        (~finite(F.col("_quantity")), F.lit("unparseable quantity")),
        (~finite(F.col("_price")), F.lit("unparseable price")),
        (F.coalesce(F.upper(F.col("_item")).isin(codes), F.lit(False)), F.lit("non-product stock code")),
        (F.col("_quantity") == 0, F.lit("zero quantity")),
        (F.col("_price") <= 0, F.lit("non-positive price")),
    ]  # fmt: skip
    reason = F.when(rules[0][0], rules[0][1])
    for failing, why in rules[1:]:
        reason = reason.when(failing, why)
    flagged = typed.withColumn("reason", reason).cache()
    quarantine = flagged.where(F.col("reason").isNotNull()).select(*lines.columns, "reason")
    good = flagged.where(F.col("reason").isNull())
    if good.isEmpty():
        counts = quarantine.groupBy("reason").count().orderBy(F.desc("count"), "reason").limit(3)
        raise DataValidationError(
            validation_message(
                params["source_file"],
                f"no usable order line: all {lines.count():,} lines would be quarantined.",
                "order lines with a customer id, a date in the declared format "
                f"(customer_features.date_format: {params['date_format']!r}), a number as "
                "quantity and price, a price above 0",
                "; ".join(f"{r['reason']}: {r['count']:,} lines" for r in counts.collect()),
                example_rows(quarantine.orderBy("source_line").limit(5).toPandas()),
            )
        )
    prefix = params["cancellation_prefix"]
    cancelled = F.col("_invoice").startswith(prefix)
    plain_invoice = F.when(cancelled, F.substring("_invoice", len(prefix) + 1, 1 << 30)).otherwise(
        F.col("_invoice")
    )
    clean = good.select(
        "source_line",
        F.col("_customer_id").alias("customer_id"),
        plain_invoice.alias("invoice"),
        F.coalesce(F.col("_item"), plain_invoice).alias("item"),
        F.col("_date").alias("invoice_date"),
        F.when(cancelled, -F.abs("_quantity")).otherwise(F.col("_quantity")).alias("quantity"),
        F.col("_price").alias("unit_price"),
        stripped(lines, "country").alias("country"),
    )
    clean = clean.withColumn("is_cancellation", F.col("quantity") < 0).withColumn(
        "item_is_product", F.lit("stock_code" in lines.columns)
    )
    return clean, quarantine


def net_cancellations(clean: DataFrame) -> tuple[DataFrame, DataFrame]:
    """`nodes.net_cancellations` on Spark: window sums per customer and item."""
    key = ["customer_id", "item"]
    cancel, amount = F.col("is_cancellation"), F.abs("quantity")
    per_key = Window.partitionBy(*key)
    lines = clean.withColumn("_amount", amount).withColumn(
        "_matched",
        F.least(
            F.sum(F.when(~cancel, F.col("_amount")).otherwise(0.0)).over(per_key),
            F.sum(F.when(cancel, F.col("_amount")).otherwise(0.0)).over(per_key),
        ),
    )
    running = Window.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    # the latest purchases first, the earliest cancellations first
    latest_first = running.partitionBy(*key, "is_cancellation").orderBy(
        F.desc("invoice_date"), F.desc("source_line")
    )
    earliest_first = running.partitionBy(*key, "is_cancellation").orderBy(
        "invoice_date", "source_line"
    )
    cumulative = F.when(cancel, F.sum("_amount").over(earliest_first)).otherwise(
        F.sum("_amount").over(latest_first)
    )
    consumed = F.least(
        F.greatest(F.col("_matched") - (F.col("_cumulative") - F.col("_amount")), F.lit(0.0)),
        F.col("_amount"),
    )
    lines = lines.withColumn("_cumulative", cumulative).withColumn(
        "_remaining", F.col("_amount") - consumed
    )
    lines = lines.withColumn(
        "net_quantity", F.when(cancel, -F.col("_remaining")).otherwise(F.col("_remaining"))
    ).withColumn("status", F.when(F.col("_remaining") > 0, "used").otherwise("netted"))
    has_purchase = F.max((F.col("net_quantity") > 0).cast("int")).over(
        Window.partitionBy("customer_id")
    )
    lines = (
        lines.withColumn("_orphan", (F.col("status") == "used") & (has_purchase == 0))
        .drop("_amount", "_matched", "_cumulative", "_remaining")
        .cache()
    )
    quarantine = (
        lines.where("_orphan")
        .drop("_orphan")
        .withColumn("reason", F.lit("return without a purchase by this customer"))
    )
    return lines.where(~F.col("_orphan")).drop("_orphan"), quarantine


def snapshot_date(lines: DataFrame, params: dict[str, Any]):
    """`nodes.snapshot_date`: the parameter, or the day after the last invoice (one aggregate)."""
    if params.get("snapshot_date"):
        return pd.Timestamp(params["snapshot_date"]).normalize()
    last = lines.agg(F.max("invoice_date")).first()[0]
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def build_customer_features(
    net_lines: DataFrame, params: dict[str, Any], no_purchase: Callable[..., Exception]
) -> DataFrame:
    """`nodes.build_customer_features` on Spark (`no_purchase(lines, example rows)` is its error)."""
    used = F.col("status") == "used"
    value = F.col("net_quantity") * F.col("unit_price")
    buys = net_lines.where(used & (F.col("net_quantity") > 0))
    if buys.isEmpty():
        raise no_purchase(net_lines.count(), net_lines.drop("item_is_product").limit(5).toPandas())
    snapshot = F.lit(snapshot_date(net_lines, params).date())
    day = F.to_date("invoice_date")
    per = buys.groupBy("customer_id").agg(
        F.min(day).alias("_first"),
        F.max(day).alias("_last"),
        F.countDistinct("invoice").alias("frequency"),
        F.sum(value).alias("_gross"),
        F.countDistinct("item").alias("distinct_products"),
    )
    returned = (
        net_lines.where(used & (F.col("net_quantity") < 0))
        .groupBy("customer_id")
        .agg(F.sum(-value).alias("_returned"))
    )
    per = per.join(returned, "customer_id", "left").fillna(0.0, subset=["_returned"])
    monetary = F.col("_gross") - F.col("_returned")
    recency = F.datediff(snapshot, "_last")
    features = per.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        recency.alias("recency"),
        "frequency",
        rounded(monetary, 2).alias("monetary"),
        rounded(monetary / F.col("frequency"), 2).alias("average_order_value"),
        F.datediff(snapshot, "_first").alias("tenure"),
        "distinct_products",
        rounded(
            F.when(
                F.col("frequency") > 1,
                F.datediff("_last", "_first") / (F.col("frequency") - 1),
            ).otherwise(recency.cast("double")),
            1,
        ).alias("mean_days_between_orders"),
        rounded(F.col("_returned") / (F.col("_gross") + F.col("_returned")), 4).alias(
            "return_rate"
        ),
    )
    flags = net_lines.agg(
        F.min(F.col("item_is_product").cast("int")).alias("products"),
        F.max(F.col("country").isNotNull().cast("int")).alias("countries"),
    ).first()
    if not flags["products"]:  # a one-row-per-invoice export: no products
        features = features.drop("distinct_products")
    if flags["countries"]:
        counts = buys.groupBy(
            "customer_id", F.coalesce("country", F.lit("")).alias("country")
        ).count()
        first = Window.partitionBy("customer_id").orderBy(F.desc("count"), "country")
        mode = counts.withColumn("_n", F.row_number().over(first)).where("_n = 1")
        features = features.join(mode.select("customer_id", "country"), "customer_id", "left")
    return features.orderBy("customer_id")


def line_counts(quarantine: DataFrame, netting_quarantine: DataFrame, net_lines: DataFrame) -> dict:
    """The counts `nodes.build_line_accounting` adds up, by Spark."""
    reasons = quarantine.select("reason").unionByName(netting_quarantine.select("reason"))
    by_reason = reasons.groupBy(
        F.regexp_replace("reason", r"^duplicate of line \d+$", "duplicate line").alias("reason")
    ).count()
    status = net_lines.agg(
        F.sum((F.col("status") == "used").cast("long")).alias("used"),
        F.sum((F.col("status") == "netted").cast("long")).alias("netted"),
        F.sum(((F.col("status") == "used") & (F.col("net_quantity") < 0)).cast("long")).alias(
            "returns"
        ),
    ).first()
    return {
        "lines_used": int(status["used"] or 0),
        "lines_netted": int(status["netted"] or 0),
        "quarantined_by_reason": {
            r["reason"]: int(r["count"]) for r in by_reason.orderBy("reason").collect()
        },
        "unmatched_return_lines": int(status["returns"] or 0),
    }


def score_rfm(
    features: DataFrame, rules: list[dict[str, Any]], bins: int, scored: dict
) -> DataFrame:
    """`rfm.score_rfm` on Spark: equal-count bins of the rank (ties by customer id)."""
    total = features.count()
    scores = features.select("customer_id", "recency", "frequency", "monetary")
    for score, (column, higher_is_better) in scored.items():
        order = F.asc(column) if higher_is_better else F.desc(column)
        ranked = Window.orderBy(order, "customer_id")  # one partition: the customers, not the lines
        scores = scores.withColumn(
            score, F.ceil(F.row_number().over(ranked) * bins / total).cast("int")
        )
    scores = scores.withColumn(
        "rfm_cell",
        F.concat(
            F.lit("R"), F.col("r_score"), F.lit("F"), F.col("f_score"), F.lit("M"), F.col("m_score")
        ),
    )
    segment = F.lit(None).cast("string")
    for rule in reversed(rules):  # the first matching rule wins
        (r_low, r_high), (f_low, f_high) = rule["r"], rule["f"]
        matches = F.col("r_score").between(r_low, r_high) & F.col("f_score").between(f_low, f_high)
        segment = F.when(matches, F.lit(rule["name"])).otherwise(segment)
    return scores.withColumn("rfm_segment", segment).orderBy("customer_id")

"""Nodes of the customer_features pipeline: an order log in, one row of behaviour per customer out.

Every line of the log ends in exactly one place: quarantined with a reason, netted against a
cancellation, or used in a customer's features. `build_line_accounting` checks that sum. All steps are
vectorised group-bys: no Python loop over customers or lines.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from customer_segmentation.engine import is_spark, spark_module
from customer_segmentation.errors import DataValidationError, example_rows, validation_message

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("invoice", "quantity", "invoice_date", "unit_price", "customer_id")


def standardise_order_lines(lines_raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Rename the export's headers to the standard field names (`customer_features.columns`: field ->
    the headers it may have); keep the values as delivered and add `source_line` (the file's line).

    Stock code, description and country may be absent (an export of one row per invoice); the other
    fields are required, and a file without one of them stops with one message naming the file.
    """
    source = params["source_file"]
    spark = is_spark(lines_raw)
    if not len(lines_raw.columns) or (lines_raw.isEmpty() if spark else lines_raw.empty):
        lines = lines_raw.count() if spark else len(lines_raw)
        raise DataValidationError(
            validation_message(source, "the order log is empty.", "a header and order lines",
                               f"{len(lines_raw.columns)} columns, {lines} lines")
        )  # fmt: skip
    headers = {str(h).strip(): h for h in lines_raw.columns}
    renamed: dict[str, str] = {}
    for field, candidates in params["columns"].items():
        found = [headers[c] for c in candidates if c in headers]
        if found:
            renamed[found[0]] = field
    missing = [f for f in REQUIRED_FIELDS if f not in renamed.values()]
    if missing:
        raise DataValidationError(
            validation_message(
                source,
                f"required order-line column(s) missing: {', '.join(missing)}.",
                "; ".join(f"{f}: one of {params['columns'].get(f, [])}" for f in missing)
                + " (customer_features.columns in conf/<env>/parameters_customer_features.yml)",
                f"headers {list(lines_raw.columns)}",
                example_rows(lines_raw.limit(5).toPandas() if spark else lines_raw),
            )
        )
    if spark:
        return spark_module("customer_features").standardise_order_lines(lines_raw, renamed)
    lines = lines_raw[list(renamed)].rename(columns=renamed)
    lines.insert(0, "source_line", np.arange(2, len(lines) + 2))
    return lines


def _duplicate_of(lines: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.Series]:
    """Which lines exactly repeat an earlier line, and (for those) the earlier line's number."""
    key = pd.util.hash_pandas_object(lines[columns], index=False)
    repeat = key.duplicated().to_numpy()
    first_line = pd.Series(lines["source_line"].to_numpy(), index=key.to_numpy())[~repeat]
    return repeat, key[repeat].map(first_line)


def _stripped(lines: pd.DataFrame, field: str) -> pd.Series:
    if field not in lines:
        return pd.Series(pd.NA, index=lines.index, dtype="string")
    return lines[field].astype("string").str.strip()


def clean_order_lines(
    lines: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed order lines, and the quarantined lines with the first reason that applies:

    exact duplicate of an earlier line; missing customer id; unparseable date (by
    `date_format`, never guessed); unparseable quantity or price; non-product stock code
    (`non_product_codes`, case-insensitive); zero quantity; non-positive price.

    Customer ids, invoices, items and countries come out as categoricals (a few bytes per line).
    On Spark the same rules and reasons as Spark columns (`spark.py`).
    """
    if is_spark(lines):
        return spark_module("customer_features").clean_order_lines(lines, params)
    delivered = [c for c in lines.columns if c != "source_line"]
    customer_id = _id_text(_stripped(lines, "customer_id"))
    invoice = _stripped(lines, "invoice").fillna("")
    item = _stripped(lines, "stock_code")
    dates = pd.to_datetime(
        _stripped(lines, "invoice_date"), format=params["date_format"], errors="coerce"
    )
    quantity = pd.to_numeric(_stripped(lines, "quantity"), errors="coerce").to_numpy(float)
    price = pd.to_numeric(_stripped(lines, "unit_price"), errors="coerce").to_numpy(float)
    codes = {str(code).strip().upper() for code in params["non_product_codes"]}
    repeat, first_line = _duplicate_of(lines, delivered)

    rules = [
        ("duplicate", repeat),
        ("missing customer id", customer_id.fillna("").eq("").to_numpy()),
        (f"unparseable date (expected {params['date_format']})", dates.isna().to_numpy()),
        ("unparseable quantity", ~np.isfinite(quantity)),
        ("unparseable price", ~np.isfinite(price)),
        ("non-product stock code", item.str.upper().isin(codes).fillna(False).to_numpy(bool)),
        ("zero quantity", quantity == 0),
        ("non-positive price", price <= 0),
    ]
    rule = np.zeros(
        len(lines), dtype=np.int8
    )  # 0: usable; else the first rule (1-based) that fails
    for number, (_, failing) in reversed(list(enumerate(rules, start=1))):
        rule[failing] = number
    bad = rule > 0
    reason = pd.Series(np.asarray([why for why, _ in rules], dtype=object)[rule[bad] - 1])
    reason[rule[bad] == 1] = "duplicate of line " + first_line.astype(str).to_numpy()
    quarantine = lines[bad].reset_index(drop=True).assign(reason=reason.to_numpy())
    if bad.all():
        counts = quarantine["reason"].value_counts()
        raise DataValidationError(
            validation_message(
                params["source_file"],
                f"no usable order line: all {len(lines):,} lines would be quarantined.",
                "order lines with a customer id, a date in the declared format "
                f"(customer_features.date_format: {params['date_format']!r}), a number as "
                "quantity and price, a price above 0",
                "; ".join(f"{why}: {n:,} lines" for why, n in counts.head(3).items()),
                example_rows(quarantine),
            )
        )

    prefix = params["cancellation_prefix"]
    good = ~bad
    plain_invoice = invoice.str.removeprefix(prefix)
    clean = pd.DataFrame(
        {
            "source_line": lines["source_line"].to_numpy()[good],
            "customer_id": customer_id[good].astype("category"),
            "invoice": plain_invoice[good].astype("category"),
            # the netting key: the stock code, or the invoice for a one-row-per-invoice export
            "item": item.fillna(plain_invoice)[good].astype("category"),
            "invoice_date": dates[good],
            # a cancellation is negative whatever its sign in the file
            "quantity": np.where(invoice.str.startswith(prefix), -np.abs(quantity), quantity)[good],
            "unit_price": price[good],
            "country": _stripped(lines, "country")[good].astype("category"),
        }
    ).reset_index(drop=True)
    clean["is_cancellation"] = clean["quantity"] < 0
    clean["item_is_product"] = "stock_code" in lines
    logger.info("Order lines: %d usable, %d quarantined", len(clean), int(bad.sum()))
    return clean, quarantine


def count_lines(lines: pd.DataFrame) -> int:
    """The number of order lines in (for the line accounting)."""
    return lines.count() if is_spark(lines) else len(lines)


def _id_text(ids: pd.Series) -> pd.Series:
    """'17850.0' (an id column read as float by the exporting tool) -> '17850'."""
    return ids.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _consumed(amount: np.ndarray, key: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """Per line, how much of its group's `matched` quantity it absorbs, lines taken in order."""
    cumulative = pd.Series(amount).groupby(key, sort=False).cumsum().to_numpy()
    return np.clip(matched - (cumulative - amount), 0, amount)


def net_cancellations(clean: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Net cancelled quantities against the same customer's purchases of the same item.

    Per customer and item, the cancelled quantity cancels purchased quantity up to what was bought:
    the latest purchases first, the earliest cancellations first. A line cancelled (or cancelling)
    completely is `netted`; a purchase cancelled in part keeps its remaining quantity. Cancelled
    quantity beyond what the customer bought in the log is an unmatched return: it stays as a
    negative line (it lowers net spend and counts in the return rate). Returns by a customer with no
    purchase left are quarantined ("return without a purchase"), since they describe no customer.

    Returns the lines with `status` (used | netted) and `net_quantity`, and that quarantine.
    """
    if is_spark(clean):
        return spark_module("customer_features").net_cancellations(clean)
    lines = clean.sort_values(["invoice_date", "source_line"], kind="stable", ignore_index=True)
    cancel = lines["is_cancellation"].to_numpy(bool)
    amount = np.abs(lines["quantity"].to_numpy(float))
    customer = lines["customer_id"].cat.codes.to_numpy(np.int64)
    items = len(lines["item"].cat.categories) + 1
    key = customer * items + lines["item"].cat.codes.to_numpy(np.int64)
    bought = pd.Series(np.where(cancel, 0.0, amount)).groupby(key).transform("sum").to_numpy()
    cancelled = pd.Series(np.where(cancel, amount, 0.0)).groupby(key).transform("sum").to_numpy()
    matched = np.minimum(bought, cancelled)

    consumed = np.empty(len(lines))
    # the latest purchases first, the earliest cancellations first
    for rows in (np.flatnonzero(~cancel)[::-1], np.flatnonzero(cancel)):
        consumed[rows] = _consumed(amount[rows], key[rows], matched[rows])
    remaining = amount - consumed
    net_quantity = np.where(cancel, -remaining, remaining)
    used = remaining > 0
    lines["net_quantity"] = net_quantity
    lines["status"] = pd.Categorical.from_codes(used.astype(np.int8), ["netted", "used"])

    has_purchase = pd.Series(net_quantity > 0).groupby(customer).transform("any").to_numpy(bool)
    orphan = used & ~has_purchase
    quarantine = lines[orphan].assign(reason="return without a purchase by this customer")
    lines = lines[~orphan].reset_index(drop=True)
    logger.info(
        "Netting: %d lines netted, %d unmatched return lines",
        int((~used).sum()),
        int((used & cancel & ~orphan).sum()),
    )
    return lines, quarantine.reset_index(drop=True)


def snapshot_date(lines: pd.DataFrame, params: dict[str, Any]) -> pd.Timestamp:
    """`snapshot_date` from parameters, or the day after the last invoice in the log."""
    if is_spark(lines):
        return spark_module("customer_features").snapshot_date(lines, params)
    if params.get("snapshot_date"):
        return pd.Timestamp(params["snapshot_date"]).normalize()
    return lines["invoice_date"].max().normalize() + pd.Timedelta(days=1)


def _mode_by(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Most frequent value per group; ties go to the alphabetically first."""
    counts = pd.DataFrame({"g": groups, "v": values}).groupby(["g", "v"], observed=True).size()
    counts = counts.reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("g").set_index("g")["v"]


def build_customer_features(net_lines: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """One row per customer with a purchase left after netting, sorted by customer id:

    recency (days from the last purchase to the snapshot date), frequency (distinct invoices),
    monetary (net spend: purchases after netting minus unmatched returns), average order value,
    tenure (days from the first purchase to the snapshot), distinct products (when the log has stock
    codes), mean days between orders (for a one-order customer: the days since that order, a lower
    bound), return rate (unmatched returns / (purchases + unmatched returns), by value) and country
    (the customer's most frequent, when the log has one).
    """

    def no_purchase(lines: int, examples: pd.DataFrame) -> DataValidationError:
        return DataValidationError(
            validation_message(
                params["source_file"],
                "no customer has a purchase left after netting cancellations.",
                "purchases (positive quantities, invoices not starting with "
                f"{params['cancellation_prefix']!r}) by identified customers",
                f"{lines:,} usable lines, all cancelled, cancelling or returns",
                example_rows(examples),
            )
        )

    if is_spark(net_lines):
        return spark_module("customer_features").build_customer_features(
            net_lines, params, no_purchase
        )
    used = (net_lines["status"] == "used").to_numpy(bool)
    quantity = net_lines["net_quantity"].to_numpy(float)
    value = quantity * net_lines["unit_price"].to_numpy(float)
    buy, back = used & (quantity > 0), used & (quantity < 0)
    if not buy.any():
        raise no_purchase(len(net_lines), net_lines.drop(columns=["item_is_product"]))
    snapshot = snapshot_date(net_lines, params)
    buys = pd.DataFrame(
        {
            "customer_id": net_lines["customer_id"][buy],
            "day": net_lines["invoice_date"][buy].dt.normalize(),
            "invoice": net_lines["invoice"][buy],
            "item": net_lines["item"][buy],
            "value": value[buy],
        }
    )
    per = buys.groupby("customer_id", observed=True, sort=True)
    first, last = per["day"].min(), per["day"].max()
    frequency = per["invoice"].nunique()
    gross = per["value"].sum()
    returned = (
        pd.Series(-value[back])
        .groupby(net_lines["customer_id"][back].to_numpy(), observed=True)
        .sum()
    )
    returned = returned.reindex(gross.index, fill_value=0.0)
    monetary = gross - returned
    span = (last - first).dt.days
    features = pd.DataFrame(
        {
            "recency": (snapshot - last).dt.days,
            "frequency": frequency,
            "monetary": monetary.round(2),
            "average_order_value": (monetary / frequency).round(2),
            "tenure": (snapshot - first).dt.days,
            "distinct_products": per["item"].nunique(),
            "mean_days_between_orders": np.where(
                frequency > 1, span / (frequency - 1).clip(lower=1), (snapshot - last).dt.days
            ).round(1),
            "return_rate": (returned / (gross + returned)).round(4),
        }
    )
    if not net_lines["item_is_product"].all():  # a one-row-per-invoice export: no products
        features = features.drop(columns="distinct_products")
    if net_lines["country"].notna().any():
        country = net_lines["country"][buy].astype("string").fillna("")
        features["country"] = _mode_by(country, buys["customer_id"].astype("string"))
    features.index = features.index.astype("string")
    features.index.name = "customer_id"
    return features.reset_index()


def line_counts(
    quarantine: pd.DataFrame, netting_quarantine: pd.DataFrame, net_lines: pd.DataFrame
) -> dict[str, Any]:
    """Lines used, netted, quarantined by reason (duplicates as one reason) and unmatched returns."""
    reasons = pd.concat([quarantine["reason"], netting_quarantine["reason"]])
    by_reason = reasons.str.replace(r"^duplicate of line \d+$", "duplicate line", regex=True)
    status = net_lines["status"]
    return {
        "lines_used": int((status == "used").sum()),
        "lines_netted": int((status == "netted").sum()),
        "quarantined_by_reason": {
            k: int(v) for k, v in by_reason.value_counts().sort_index().items()
        },
        "unmatched_return_lines": int(((status == "used") & (net_lines["net_quantity"] < 0)).sum()),
    }


def build_line_accounting(
    lines_in: int,
    quarantine: pd.DataFrame,
    netting_quarantine: pd.DataFrame,
    net_lines: pd.DataFrame,
    features: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Where every line went: lines in = used + netted + quarantined (by reason); customers out.

    Raises `DataValidationError` if the sum does not hold (a defect, never expected).
    """
    if is_spark(net_lines):
        counts = spark_module("customer_features").line_counts(
            quarantine, netting_quarantine, net_lines
        )
        customers_out = features.count()
    else:
        counts, customers_out = (
            line_counts(quarantine, netting_quarantine, net_lines),
            len(features),
        )
    accounting = {
        "source_file": params["source_file"],
        "lines_in": lines_in,
        "lines_used": counts["lines_used"],
        "lines_netted": counts["lines_netted"],
        "lines_quarantined": sum(counts["quarantined_by_reason"].values()),
        "quarantined_by_reason": counts["quarantined_by_reason"],
        "unmatched_return_lines": counts["unmatched_return_lines"],
        "customers_out": customers_out,
        "snapshot_date": str(snapshot_date(net_lines, params).date())
        if counts["lines_used"] + counts["lines_netted"]
        else None,
    }
    total = accounting["lines_used"] + accounting["lines_netted"] + accounting["lines_quarantined"]
    accounting["holds"] = total == accounting["lines_in"]
    if not accounting["holds"]:
        raise DataValidationError(
            f"{params['source_file']}: line accounting does not hold: {accounting}"
        )
    logger.info(
        "Line accounting: %d in = %d used + %d netted + %d quarantined; %d customers",
        accounting["lines_in"],
        accounting["lines_used"],
        accounting["lines_netted"],
        accounting["lines_quarantined"],
        accounting["customers_out"],
    )
    return accounting

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

from customer_segmentation.errors import DataValidationError, example_rows, validation_message

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("invoice", "quantity", "invoice_date", "unit_price", "customer_id")
OPTIONAL_FIELDS = ("stock_code", "description", "country")
LINE_COLUMNS = ["source_line", "customer_id", "invoice", "item", "invoice_date", "quantity",
                "unit_price", "country"]  # fmt: skip


def standardise_order_lines(lines_raw: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Rename the export's headers to the standard field names (`customer_features.columns`: field ->
    the headers it may have); keep the values as delivered and add `source_line` (the file's line).

    Stock code, description and country may be absent (an export of one row per invoice); the other
    fields are required, and a file without one of them stops with one message naming the file.
    """
    source = params["source_file"]
    if lines_raw.columns.empty or lines_raw.empty:
        raise DataValidationError(
            validation_message(source, "the order log is empty.", "a header and order lines",
                               f"{len(lines_raw.columns)} columns, {len(lines_raw)} lines")
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
                "; ".join(f"{f}: one of {params['columns'][f]}" for f in missing)
                + " (customer_features.columns in conf/<env>/parameters_customer_features.yml)",
                f"headers {list(lines_raw.columns)}",
                example_rows(lines_raw),
            )
        )
    lines = lines_raw[list(renamed)].rename(columns=renamed)
    lines.insert(0, "source_line", np.arange(2, len(lines) + 2))
    return lines


def _duplicate_of(lines: pd.DataFrame, columns: list[str]) -> pd.Series:
    """For each exact repeat of an earlier line, the earlier line's number (else NA)."""
    key = pd.util.hash_pandas_object(lines[columns], index=False)
    first_line = lines["source_line"].groupby(key.to_numpy()).transform("first")
    return first_line.where(key.duplicated()).astype("Int64")


def clean_order_lines(
    lines: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed order lines, and the quarantined lines with the first reason that applies:

    exact duplicate of an earlier line; missing customer id; unparseable date (by
    `date_format`, never guessed); unparseable quantity or price; non-product stock code
    (`non_product_codes`, case-insensitive); zero quantity; non-positive price.
    """
    delivered = [c for c in lines.columns if c != "source_line"]
    text = lines[delivered].astype("string[pyarrow]").apply(lambda column: column.str.strip())
    dates = pd.to_datetime(text["invoice_date"], format=params["date_format"], errors="coerce")
    quantity = pd.to_numeric(text["quantity"], errors="coerce")
    price = pd.to_numeric(text["unit_price"], errors="coerce")
    item = text["stock_code"] if "stock_code" in text else pd.Series(pd.NA, index=text.index)
    codes = {str(code).strip().upper() for code in params["non_product_codes"]}
    duplicate_of = _duplicate_of(lines, delivered)

    rules = [
        (duplicate_of.notna(), "duplicate of line " + duplicate_of.astype("string")),
        (text["customer_id"].fillna("").eq(""), "missing customer id"),
        (dates.isna(), "unparseable date (expected " + params["date_format"] + ")"),
        (quantity.isna() | ~np.isfinite(quantity), "unparseable quantity"),
        (price.isna() | ~np.isfinite(price), "unparseable price"),
        (item.str.upper().isin(codes).fillna(False), "non-product stock code"),
        (quantity.eq(0), "zero quantity"),
        (price.le(0), "non-positive price"),
    ]
    reason = pd.Series(pd.NA, index=lines.index, dtype="string")
    for failing, why in reversed(rules):  # the first rule that applies wins
        reason = reason.mask(failing.fillna(False).astype(bool), why)
    bad = reason.notna()

    quarantine = lines[bad].assign(reason=reason[bad])
    prefix = params["cancellation_prefix"]
    invoice = text["invoice"].fillna("")
    clean = pd.DataFrame(
        {
            "source_line": lines["source_line"],
            "customer_id": _id_text(text["customer_id"]),
            "invoice": invoice.str.removeprefix(prefix),
            # the netting key: the stock code, or the invoice for a one-row-per-invoice export
            "item": item.fillna(invoice.str.removeprefix(prefix)),
            "invoice_date": dates,
            # a cancellation is negative whatever its sign in the file
            "quantity": np.where(invoice.str.startswith(prefix), -quantity.abs(), quantity),
            "unit_price": price,
            "country": text["country"] if "country" in text else pd.NA,
        }
    )[~bad].reset_index(drop=True)
    clean["is_cancellation"] = clean["quantity"] < 0
    clean["item_is_product"] = "stock_code" in text
    logger.info("Order lines: %d usable, %d quarantined", len(clean), int(bad.sum()))
    return clean, quarantine.reset_index(drop=True)


def _id_text(ids: pd.Series) -> pd.Series:
    """'17850.0' (an id column read as float by the exporting tool) -> '17850'."""
    return ids.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _consumed(quantity: pd.Series, groups: list[pd.Series], matched: pd.Series) -> pd.Series:
    """Per line, how much of the group's `matched` quantity it absorbs, lines taken in order."""
    cumulative = quantity.groupby(groups, sort=False).cumsum()
    return (matched - (cumulative - quantity)).clip(lower=0).clip(upper=quantity)


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
    lines = clean.sort_values(["invoice_date", "source_line"], kind="stable").reset_index(drop=True)
    amount = lines["quantity"].abs()
    key = [lines["customer_id"], lines["item"]]
    bought = amount.where(~lines["is_cancellation"], 0).groupby(key).transform("sum")
    cancelled = amount.where(lines["is_cancellation"], 0).groupby(key).transform("sum")
    matched = np.minimum(bought, cancelled)

    purchases = lines.index[~lines["is_cancellation"]][::-1]  # the latest purchases first
    cancels = lines.index[lines["is_cancellation"]]  # the earliest cancellations first
    consumed = pd.concat(
        [
            _consumed(amount[idx], [lines["customer_id"][idx], lines["item"][idx]], matched[idx])
            for idx in (purchases, cancels)
        ]
    ).reindex(lines.index)
    remaining = amount - consumed
    lines["net_quantity"] = np.where(lines["is_cancellation"], -remaining, remaining)
    lines["status"] = np.where(remaining > 0, "used", "netted")

    has_purchase = (
        (lines["net_quantity"] > 0).groupby(lines["customer_id"]).transform("any").astype(bool)
    )
    orphan = (lines["status"] == "used") & ~has_purchase
    quarantine = lines[orphan].assign(reason="return without a purchase by this customer")
    lines = lines[~orphan].reset_index(drop=True)
    logger.info(
        "Netting: %d lines netted, %d unmatched return lines",
        int((lines["status"] == "netted").sum()),
        int(((lines["status"] == "used") & (lines["net_quantity"] < 0)).sum()),
    )
    return lines, quarantine.reset_index(drop=True)


def snapshot_date(lines: pd.DataFrame, params: dict[str, Any]) -> pd.Timestamp:
    """`snapshot_date` from parameters, or the day after the last invoice in the log."""
    if params.get("snapshot_date"):
        return pd.Timestamp(params["snapshot_date"]).normalize()
    return lines["invoice_date"].max().normalize() + pd.Timedelta(days=1)


def _mode_by(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Most frequent value per group; ties go to the alphabetically first."""
    counts = pd.DataFrame({"g": groups, "v": values}).value_counts().reset_index(name="n")
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
    used = net_lines[net_lines["status"] == "used"]
    value = used["net_quantity"] * used["unit_price"]
    purchase = used["net_quantity"] > 0
    snapshot = snapshot_date(net_lines, params)
    day = used["invoice_date"].dt.normalize()
    buys = used[purchase].assign(day=day[purchase], value=value[purchase])
    per = buys.groupby("customer_id", sort=True)
    first, last = per["day"].min(), per["day"].max()
    frequency = per["invoice"].nunique()
    gross = per["value"].sum()
    returned = (-value[~purchase]).groupby(used.loc[~purchase, "customer_id"]).sum()
    returned = returned.reindex(gross.index, fill_value=0.0)
    monetary = gross - returned
    tenure = (snapshot - first).dt.days
    span = (last - first).dt.days
    features = pd.DataFrame(
        {
            "recency": (snapshot - last).dt.days,
            "frequency": frequency,
            "monetary": monetary.round(2),
            "average_order_value": (monetary / frequency).round(2),
            "tenure": tenure,
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
        features["country"] = _mode_by(buys["country"].fillna(""), buys["customer_id"])
    features.index.name = "customer_id"
    return features.reset_index()


def build_line_accounting(
    lines: pd.DataFrame,
    quarantine: pd.DataFrame,
    netting_quarantine: pd.DataFrame,
    net_lines: pd.DataFrame,
    features: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Where every line went: lines in = used + netted + quarantined (by reason); customers out.

    Raises `DataValidationError` if the sum does not hold (a defect, never expected).
    """
    reasons = pd.concat([quarantine["reason"], netting_quarantine["reason"]])
    by_reason = reasons.str.replace(r"^duplicate of line \d+$", "duplicate line", regex=True)
    accounting = {
        "source_file": params["source_file"],
        "lines_in": len(lines),
        "lines_used": int((net_lines["status"] == "used").sum()),
        "lines_netted": int((net_lines["status"] == "netted").sum()),
        "lines_quarantined": len(reasons),
        "quarantined_by_reason": {
            k: int(v) for k, v in by_reason.value_counts().sort_index().items()
        },
        "unmatched_return_lines": int(
            ((net_lines["status"] == "used") & (net_lines["net_quantity"] < 0)).sum()
        ),
        "customers_out": len(features),
        "snapshot_date": str(snapshot_date(net_lines, params).date()) if len(net_lines) else None,
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

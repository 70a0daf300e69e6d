"""Nodes of the customer_features pipeline: an order log in, one row of behaviour per customer out.

Every line of the log ends in exactly one place: quarantined with a reason, netted against a
cancellation, or used in a customer's features. `build_line_accounting` checks that sum.

The rules are written once, as Ibis expressions: the nodes take and return Ibis tables, and the
engine that computes them is the one the catalog's datasets connect to (DuckDB embedded by default,
PySpark for `--env spark_transactions`, a SQL database such as PostgreSQL). What the engines do
differently (line numbers, dates, numbers, rounding) is settled in `backends.py`. Only counts, the
snapshot date and a few example rows leave the engine. A pandas table handed in (the explorer, the
scoring service, tests) is computed by DuckDB in memory.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from customer_segmentation.errors import DataValidationError, example_rows, validation_message
from customer_segmentation.schema import placeholder_tokens

from .backends import (
    NUMBER,
    earliest_equal_line,
    engine,
    numbered,
    parsed_number,
    rounded,
    row_hash,
    scalar,
    trimmed,
    with_timestamp,
)

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("invoice", "quantity", "invoice_date", "unit_price", "customer_id")
DUPLICATE = "duplicate of line "
ORPHAN = "return without a purchase by this customer"


def _table(lines: ir.Table | pd.DataFrame) -> ir.Table:
    """An Ibis table: a pandas table (every cell as text) becomes an in-memory one."""
    if isinstance(lines, pd.DataFrame):
        return ibis.memtable(lines.astype(object).where(lines.notna(), None).astype("string"))
    return lines


def _examples(table: ir.Table, rows: int = 5) -> str:
    return example_rows(table.limit(rows).to_pandas())


def standardise_order_lines(lines_raw: ir.Table | pd.DataFrame, params: dict[str, Any]) -> ir.Table:
    """Rename the export's headers to the standard field names (`customer_features.columns`: field ->
    the headers it may have); keep the values as delivered (as text) and add `source_line` (the
    file's line; a database table with its own `source_line` column keeps it).

    Stock code, description and country may be absent (an export of one row per invoice); the other
    fields are required, and a file without one of them stops with one message naming the file.
    """
    source = params["source_file"]
    lines_raw = _table(lines_raw)
    if not len(lines_raw.columns) or not scalar(lines_raw.limit(1).count()):
        raise DataValidationError(
            validation_message(source, "the order log is empty.", "a header and order lines",
                               f"{len(lines_raw.columns)} columns, 0 lines")
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
                _examples(lines_raw),
            )
        )
    kept = [h for h in lines_raw.columns if h in renamed or h == "source_line"]
    lines = lines_raw.select(
        *[lines_raw[h].cast("string").name(renamed[h]) for h in kept if h != "source_line"],
        *(["source_line"] if "source_line" in kept else []),
    )
    return numbered(lines)


def count_lines(lines: ir.Table) -> int:
    """The number of order lines in (for the line accounting)."""
    return int(scalar(lines.count()))


def _text(lines: ir.Table, field: str) -> ir.StringValue:
    """A field's text, trimmed; null where the log has no such field."""
    if field not in lines.columns:
        return ibis.null("string")
    return trimmed(lines[field], engine(lines))


def _id_text(ids: ir.StringValue) -> ir.StringValue:
    """'17850.0' (an id column read as float by the exporting tool) -> '17850'."""
    float_like = r"^[0-9]+[.]0+$"
    return ibis.ifelse(ids.re_search(float_like), ids.re_extract(r"^([0-9]+)[.]", 1), ids)


def _with_first_line(lines: ir.Table, delivered: list[str]) -> ir.Table:
    """`lines` with `_first_line`: for a line that repeats an earlier line exactly (the same
    delivered values, blanks equal to blanks), the first such line; null otherwise.

    On Spark a window over the values (`earliest_equal_line`: one shuffle of the log). Elsewhere
    one group-by and one equality join on the values (a blank as '' plus a blank flag, so every
    engine can hash the join), joined back to the lines; where the engine hashes rows (`row_hash`,
    DuckDB) only the lines whose hash another line shares are compared value by value."""
    earliest = earliest_equal_line(lines, delivered)
    if earliest is not None:
        repeat = earliest < lines.source_line
        return lines.mutate(_first_line=ibis.ifelse(repeat, earliest, ibis.null("int64")))
    candidates = lines
    digest = row_hash(lines, delivered)
    if digest is not None:
        hashed = lines.select("source_line", _h=digest)
        shared = hashed.group_by("_h").agg(_n=hashed.count())
        shared = hashed.semi_join(shared.filter(shared._n > 1), "_h")
        candidates = lines.semi_join(shared, "source_line")
    keys = {}
    for number, field in enumerate(delivered):
        keys[f"_v{number}"] = candidates[field].fill_null("")
        keys[f"_b{number}"] = candidates[field].isnull()
    keyed = candidates.select("source_line", **keys).view()  # a relation of its own: joinable
    firsts = keyed.group_by(list(keys)).agg(_first_line=keyed.source_line.min(), _n=keyed.count())
    repeated = firsts.filter(firsts._n > 1).drop("_n")
    joined = keyed.join(repeated, list(keys))
    repeats = joined.filter(joined.source_line != joined._first_line)
    repeats = repeats.select("source_line", "_first_line")
    return lines.left_join(repeats, "source_line").select(*lines.columns, "_first_line")


def clean_order_lines(lines: ir.Table, params: dict[str, Any]) -> tuple[ir.Table, ir.Table]:
    """Typed order lines, and the quarantined lines with the first reason that applies:

    exact duplicate of an earlier line; missing customer id (blank, or a placeholder such as
    "(blank)" or "NULL": `schema.PLACEHOLDERS`, plus `missing_tokens.customer_id`); unparseable date (by
    `date_format`, never guessed); unparseable quantity or price; non-product stock code
    (`non_product_codes`, case-insensitive); zero quantity; non-positive price.

    Quantities and prices are exact decimals (DECIMAL(18, 4)); a number of 1e14 or more in magnitude
    is unparseable.
    """
    delivered = [c for c in lines.columns if c != "source_line"]
    typed = _with_first_line(lines, delivered)
    date_format = params["date_format"]
    typed = typed.select(  # every field read once, in its own projection; the text stays behind
        "source_line",
        "_first_line",
        _customer_id=_id_text(_text(typed, "customer_id")),
        _invoice=_text(typed, "invoice").fill_null(""),
        _item=_text(typed, "stock_code"),
        _date_text=_text(typed, "invoice_date"),
        _quantity=parsed_number(_text(typed, "quantity"), engine(lines)),
        _price=parsed_number(_text(typed, "unit_price"), engine(lines)),
        _country=_text(typed, "country"),
    )
    typed = with_timestamp(typed, "_date_text", date_format, "_date")
    extra = params.get("missing_tokens") or {}
    id_tokens = placeholder_tokens("id", extra.get("customer_id"))
    country_tokens = placeholder_tokens("categorical", extra.get("country"))
    # an export's word for "no country" is no country (the field is optional)
    typed = typed.mutate(
        _country=ibis.ifelse(
            typed._country.lower().isin(country_tokens).fill_null(False),
            ibis.null("string"),
            typed._country,
        )
    )
    codes = sorted({str(code).strip().upper() for code in params["non_product_codes"]})
    rules = [
        (typed._first_line.notnull(), ibis.literal(DUPLICATE) + typed._first_line.cast("string")),
        (typed._customer_id.fill_null("") == "", "missing customer id"),
        (
            typed._customer_id.lower().isin(id_tokens),
            ibis.literal("missing customer id (placeholder '") + typed._customer_id + "')",
        ),
        (typed._date.isnull(), f"unparseable date (expected {date_format})"),
        (typed._quantity.isnull(), "unparseable quantity"),
        (typed._price.isnull(), "unparseable price"),
        (typed._item.upper().isin(codes).fill_null(False), "non-product stock code"),
        (typed._quantity == 0, "zero quantity"),
        (typed._price <= 0, "non-positive price"),
    ]  # fmt: skip
    reason = ibis.cases(*[(failing.fill_null(False), why) for failing, why in rules], else_=None)
    # computed once by the engine: the check below, the usable lines and the quarantine read it
    flagged = typed.mutate(reason=reason).drop("_first_line", "_date_text").cache()
    reasons = flagged.filter(flagged.reason.notnull()).select("source_line", "reason")
    quarantine = lines.join(reasons, "source_line").select("source_line", *delivered, "reason")
    good = flagged.filter(flagged.reason.isnull())
    if not scalar(good.limit(1).count()):
        counts = quarantine.reason.value_counts().order_by([ibis.desc("reason_count"), "reason"])
        top = counts.limit(3).to_pandas()
        raise DataValidationError(
            validation_message(
                params["source_file"],
                f"no usable order line: all {count_lines(lines):,} lines would be quarantined.",
                "order lines with a customer id, a date in the declared format "
                f"(customer_features.date_format: {date_format!r}), a number as "
                "quantity and price, a price above 0",
                "; ".join(f"{r.reason}: {r.reason_count:,} lines" for r in top.itertuples()),
                _examples(quarantine.order_by("source_line")),
            )
        )
    prefix = params["cancellation_prefix"]
    cancelled = good._invoice.startswith(prefix)
    plain_invoice = ibis.ifelse(cancelled, good._invoice.substr(len(prefix)), good._invoice)
    clean = good.select(
        "source_line",
        customer_id=good._customer_id,
        invoice=plain_invoice,
        # the netting key: the stock code, or the invoice for a one-row-per-invoice export
        item=good._item.fill_null(plain_invoice),
        invoice_date=good._date,
        # a cancellation is negative whatever its sign in the file
        quantity=ibis.ifelse(cancelled, -good._quantity.abs(), good._quantity),
        unit_price=good._price,
        country=good._country,
    )
    clean = clean.mutate(
        is_cancellation=clean.quantity < 0,
        item_is_product=ibis.literal("stock_code" in delivered),
    )
    if "stock_code" not in delivered:  # one row per invoice: the netting key is an invoice
        clean = _key_by_mirrored_invoice(clean)
    return clean, quarantine.order_by("source_line")


def _key_by_mirrored_invoice(clean: ir.Table) -> ir.Table:
    """For a log without stock codes (one row per invoice), the invoice each cancellation nets.

    A cancellation that carries its purchase's number (`C536379` for `536379`) nets that invoice.
    Any other nets the same customer's latest purchase of the same amount (|quantity| x price,
    exact) made at or before it and not cancelled yet: per customer and amount, in time order,
    purchases open and cancellations close like brackets, and a cancellation with nothing open is
    left unpaired. A paired cancellation takes the purchase's invoice as its netting key, and its
    quantity and price (the same amount), so that it nets the purchase completely and the order
    no longer counts. An unpaired one keeps its own number: netting leaves it an unmatched return.

    Windows only, no join of the lines with themselves: `_depth` is the running count of open
    purchases, `_floor` its running minimum (each unpaired cancellation lowers it by one), so the
    bracket level of a purchase is `_depth - _floor` and that of a paired cancellation one more;
    at one level purchases and their cancellations alternate, so a cancellation's purchase is the
    line before it at its level.
    """
    key = ["customer_id", "_amount"]
    lines = clean.mutate(_amount=clean.quantity.abs() * clean.unit_price)
    cancelled = lines.filter(lines.is_cancellation)
    buys = lines.filter(~lines.is_cancellation)
    # paired by number first: those cancellations and purchases take no part in pairing by amount
    fields = [*key, "source_line", "invoice_date", "is_cancellation"]
    events = (
        buys.anti_join(cancelled, ["customer_id", "item"])
        .select(*fields)
        .union(cancelled.anti_join(buys, ["customer_id", "item"]).select(*fields))
    )
    order = ["invoice_date", "is_cancellation", "source_line"]  # a purchase before its cancellation
    running = ibis.window(group_by=key, order_by=order, preceding=None, following=0)
    events = events.mutate(_depth=ibis.ifelse(events.is_cancellation, -1, 1).sum().over(running))
    events = events.mutate(_floor=ibis.least(events._depth.min().over(running), 0))
    previous = events._floor.lag().over(ibis.window(group_by=key, order_by=order))
    events = events.mutate(_unpaired=events._floor < previous.fill_null(0))
    events = events.filter(~events._unpaired).mutate(
        _level=events._depth - events._floor + ibis.ifelse(events.is_cancellation, 1, 0)
    )
    at_level = ibis.window(group_by=[*key, "_level"], order_by=order)
    events = events.mutate(
        _purchase=events.source_line.lag().over(at_level),
        _after_purchase=~events.is_cancellation.lag().over(at_level),
    )
    paired = events.filter(events.is_cancellation & events._after_purchase.fill_null(False))
    purchases = clean.select(
        _purchase="source_line", _item="item", _quantity="quantity", _price="unit_price"
    )
    pairs = paired.select("source_line", "_purchase").join(purchases, "_purchase")
    keyed = clean.left_join(pairs.drop("_purchase"), "source_line")
    matched = keyed._item.notnull()
    replaced = {
        "item": keyed._item.fill_null(keyed.item),
        "quantity": ibis.ifelse(matched, -keyed._quantity, keyed.quantity),
        "unit_price": ibis.ifelse(matched, keyed._price, keyed.unit_price),
    }
    return keyed.select(*[replaced.get(c, keyed[c]).name(c) for c in clean.columns])


def _netted(clean: ir.Table, pairs: ir.Table) -> ir.Table:
    """`clean` with `net_quantity` and `status`: per customer x item pair of `pairs` (which has
    both purchases and cancellations; `_matched` the quantity they cancel), the running sums that
    net them; every other line keeps its quantity."""
    key = ["customer_id", "item"]
    columns = clean.columns
    both = clean.join(pairs, key)
    amount = both.quantity.abs()
    by_pair = [*key, "is_cancellation"]
    # the latest purchases first, the earliest cancellations first
    latest_first = ibis.window(
        group_by=by_pair,
        order_by=[ibis.desc("invoice_date"), ibis.desc("source_line")],
        preceding=None,
        following=0,
    )
    earliest_first = ibis.window(
        group_by=by_pair, order_by=["invoice_date", "source_line"], preceding=None, following=0
    )
    cumulative = ibis.ifelse(
        both.is_cancellation, amount.sum().over(earliest_first), amount.sum().over(latest_first)
    )
    consumed = ibis.least(ibis.greatest(both._matched - (cumulative - amount), 0), amount)
    netted_pairs = both.select(*columns, _remaining=(amount - consumed).cast(NUMBER))
    others = clean.anti_join(pairs, key).select(
        *columns, _remaining=clean.quantity.abs().cast(NUMBER)
    )
    lines = netted_pairs.union(others)
    signed = ibis.ifelse(lines.is_cancellation, -lines._remaining, lines._remaining)
    return lines.select(
        *columns,
        net_quantity=signed,
        status=ibis.ifelse(lines._remaining > 0, "used", "netted"),
    )


def net_cancellations(clean: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Net cancelled quantities against the same customer's purchases of the same item.

    Per customer and item, the cancelled quantity cancels purchased quantity up to what was bought:
    the latest purchases first, the earliest cancellations first. A line cancelled (or cancelling)
    completely is `netted`; a purchase cancelled in part keeps its remaining quantity. Cancelled
    quantity beyond what the customer bought in the log is an unmatched return: it stays as a
    negative line (it lowers net spend and counts in the return rate). Returns by a customer with no
    purchase left are quarantined ("return without a purchase"), since they describe no customer.

    Running sums are taken only over the customer x item pairs that have both purchases and
    cancellations; every other line keeps its quantity. Whether a customer has a purchase left is
    read from the pairs (one of them has more bought than cancelled): no window over the log.

    Returns the lines with `status` (used | netted) and `net_quantity`, and that quarantine.
    """
    key = ["customer_id", "item"]
    cancel = clean.is_cancellation
    amount = clean.quantity.abs()
    pairs = clean.group_by(key).agg(
        _bought=ibis.ifelse(cancel, 0, amount).sum(),
        _cancelled=ibis.ifelse(cancel, amount, 0).sum(),
    )
    buyers = pairs.filter(pairs._bought > pairs._cancelled).select("customer_id").distinct()
    both = pairs.filter((pairs._bought > 0) & (pairs._cancelled > 0))
    both = both.select(*key, _matched=ibis.least(both._bought, both._cancelled))
    lines = _netted(clean, both)
    # computed once: the kept lines and the quarantine read it
    lines = (
        lines.left_join(buyers.mutate(_buys=True), "customer_id")
        .select(*lines.columns, "_buys")
        .cache()
    )
    orphan = (lines.status == "used") & lines._buys.isnull()
    kept = lines.filter(~orphan).drop("_buys")
    quarantine = lines.filter(orphan).drop("_buys").mutate(reason=ibis.literal(ORPHAN))
    return kept, quarantine.order_by("source_line")


def snapshot_date(lines: ir.Table, params: dict[str, Any]) -> datetime.date:
    """`snapshot_date` from parameters, or the day after the last invoice in the log."""
    if params.get("snapshot_date"):
        return pd.Timestamp(params["snapshot_date"]).date()
    return pd.Timestamp(scalar(lines.invoice_date.max())).date() + datetime.timedelta(days=1)


def _no_purchase(net_lines: ir.Table, params: dict[str, Any]) -> DataValidationError:
    return DataValidationError(
        validation_message(
            params["source_file"],
            "no customer has a purchase left after netting cancellations.",
            "purchases (positive quantities, invoices not starting with "
            f"{params['cancellation_prefix']!r}) by identified customers",
            f"{count_lines(net_lines):,} usable lines, all cancelled, cancelling or returns",
            _examples(net_lines.drop("item_is_product").order_by("source_line")),
        )
    )


def _country_mode(buys: ir.Table) -> ir.Table:
    """Each customer's most frequent country (blank for none); ties go to the alphabetically first."""
    counts = buys.group_by(["customer_id", buys.country.fill_null("").name("country")]).agg(
        _n=buys.count()
    )
    first = ibis.window(group_by="customer_id", order_by=[ibis.desc("_n"), "country"])
    ranked = counts.mutate(_rank=ibis.row_number().over(first))
    return ranked.filter(ranked._rank == 0).select("customer_id", "country")


def _check_dominant_customer(used: ir.Table, per: ir.Table, params: dict[str, Any]) -> None:
    """Stop when one customer id holds an implausible share of the log: more than
    `dominant_id.max_line_share` of the usable lines, or more orders than `dominant_id.max_orders_ratio`
    times the 99th percentile of orders (a placeholder id, a house account, guest sales under one id).
    Ids in `dominant_id.accept` are real customers (B2B, house accounts) and pass."""
    guard = params.get("dominant_id") or {}
    if not guard:
        return
    accepted = [str(i) for i in guard.get("accept") or []]
    lines = used.group_by("customer_id").agg(_lines=used.count())
    lines = lines.join(per.select("customer_id", "frequency"), "customer_id")
    top = lines.filter(~lines.customer_id.isin(accepted)) if accepted else lines
    summary = lines.aggregate(
        _total=lines._lines.sum(), _p99=lines.frequency.quantile(0.99), _customers=lines.count()
    ).to_pandas()
    total, p99 = int(summary["_total"].iloc[0]), float(summary["_p99"].iloc[0])
    if int(summary["_customers"].iloc[0]) < int(guard.get("min_customers", 100)):
        return  # with few customers, a large share is what every customer has
    worst = top.order_by([ibis.desc("_lines"), "customer_id"]).limit(1).to_pandas()
    most = top.order_by([ibis.desc("frequency"), "customer_id"]).limit(1).to_pandas()
    share_limit, ratio_limit = float(guard["max_line_share"]), float(guard["max_orders_ratio"])
    for row, why in ((worst, "lines"), (most, "orders")):
        if row.empty:
            continue
        customer, n_lines, orders = row.iloc[0][["customer_id", "_lines", "frequency"]]
        share, ratio = n_lines / total, orders / max(p99, 1.0)
        if share > share_limit or ratio > ratio_limit:
            raise DataValidationError(
                validation_message(
                    params["source_file"],
                    f"customer id {customer!r} holds {share:.1%} of the usable order lines "
                    f"({n_lines:,} of {total:,}) and {orders:,} orders, {ratio:,.0f} × the 99th "
                    f"percentile of orders per customer ({p99:g}): one id like this is usually "
                    "guest sales, a placeholder or a house account, and would be a segment of its own.",
                    f"no customer id above {share_limit:.0%} of the lines or {ratio_limit:g} × the "
                    "99th percentile of orders (customer_features.dominant_id). To leave its lines "
                    "out, add it to customer_features.missing_tokens.customer_id; to keep it (a B2B "
                    "or house account), to customer_features.dominant_id.accept",
                    f"{customer!r}, the largest customer id by {why}",
                    example_rows(
                        lines.order_by([ibis.desc("_lines"), "customer_id"])
                        .limit(3)
                        .rename(lines="_lines", orders="frequency")
                        .to_pandas()
                    ),
                )
            )


def build_customer_features(net_lines: ir.Table, params: dict[str, Any]) -> ir.Table:
    """One row per customer with a purchase left after netting, sorted by customer id:

    recency (days from the last purchase to the snapshot date), frequency (distinct invoices),
    monetary (net spend: purchases after netting minus unmatched returns, summed exactly), average
    order value, tenure (days from the first purchase to the snapshot), distinct products (when the
    log has stock codes), mean days between orders (for a one-order customer: the days since that
    order, a lower bound), return rate (unmatched returns / (purchases + unmatched returns), by
    value) and country (the customer's most frequent, when the log has one). Figures are rounded
    half to even (money to cents).
    """
    used = net_lines.filter(net_lines.status == "used")
    used = used.mutate(_value=used.net_quantity * used.unit_price, _day=used.invoice_date.date())
    buys = used.filter(used.net_quantity > 0)
    if not scalar(buys.limit(1).count()):
        raise _no_purchase(net_lines, params)
    snapshot = ibis.literal(snapshot_date(net_lines, params))
    bought, back = used.net_quantity > 0, used.net_quantity < 0
    per = used.group_by("customer_id").agg(
        _first=used._day.min(where=bought),
        _last=used._day.max(where=bought),
        frequency=used.invoice.nunique(where=bought),
        _gross=used._value.sum(where=bought),
        _returned=(-used._value).sum(where=back),
        distinct_products=used.item.nunique(where=bought),
    )
    per = per.filter(per.frequency > 0)  # customers with a purchase left
    _check_dominant_customer(used, per, params)
    gross = per._gross.cast("float64")
    returned_value = per._returned.fill_null(0).cast("float64")
    monetary = per._gross - per._returned.fill_null(0)  # exact
    recency = snapshot.delta(per._last, unit="day")
    span = per._last.delta(per._first, unit="day")
    features = per.select(
        customer_id=per.customer_id.cast("string"),
        recency=recency.cast("int64"),
        frequency=per.frequency.cast("int64"),
        monetary=rounded(monetary, 2),
        average_order_value=rounded(monetary, 2, per=per.frequency),
        tenure=snapshot.delta(per._first, unit="day").cast("int64"),
        distinct_products=per.distinct_products.cast("int64"),
        mean_days_between_orders=rounded(
            ibis.ifelse(per.frequency > 1, span / (per.frequency - 1), recency.cast("float64")), 1
        ),
        return_rate=rounded(returned_value / (gross + returned_value), 4),
    )
    flags = net_lines.aggregate(
        products=net_lines.item_is_product.all(),
        countries=net_lines.country.notnull().any(),
    ).to_pandas()
    if not flags["products"].iloc[0]:  # a one-row-per-invoice export: no products
        features = features.drop("distinct_products")
    if flags["countries"].iloc[0]:
        features = features.left_join(_country_mode(buys), "customer_id").drop("customer_id_right")
    return features.order_by("customer_id")


def line_counts(
    quarantine: ir.Table, netting_quarantine: ir.Table, net_lines: ir.Table
) -> dict[str, Any]:
    """Lines used, netted, quarantined by reason (duplicates as one reason) and unmatched returns."""
    by_reason: dict[str, int] = {}
    for table in (quarantine, netting_quarantine):  # counted apart: one query each
        reason = ibis.ifelse(table.reason.startswith(DUPLICATE), "duplicate line", table.reason)
        for row in (
            table.group_by(reason.name("reason")).agg(n=table.count()).to_pandas().itertuples()
        ):
            by_reason[row.reason] = by_reason.get(row.reason, 0) + int(row.n)
    used = net_lines.status == "used"
    status = net_lines.aggregate(
        used=net_lines.count(where=used),
        netted=net_lines.count(where=net_lines.status == "netted"),
        returns=net_lines.count(where=used & (net_lines.net_quantity < 0)),
    ).to_pandas()
    figure = {name: int(count) for name, count in status.fillna(0).iloc[0].items()}
    return {
        "lines_used": figure["used"],
        "lines_netted": figure["netted"],
        "quarantined_by_reason": dict(sorted(by_reason.items())),
        "unmatched_return_lines": figure["returns"],
    }


def build_line_accounting(
    lines_in: int,
    quarantine: ir.Table,
    netting_quarantine: ir.Table,
    net_lines: ir.Table,
    features: ir.Table,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Where every line went: lines in = used + netted + quarantined (by reason); customers out.

    Raises `DataValidationError` if the sum does not hold (a defect, never expected).
    """
    counts = line_counts(quarantine, netting_quarantine, net_lines)
    accounting = {
        "source_file": params["source_file"],
        "lines_in": lines_in,
        "lines_used": counts["lines_used"],
        "lines_netted": counts["lines_netted"],
        "lines_quarantined": sum(counts["quarantined_by_reason"].values()),
        "quarantined_by_reason": counts["quarantined_by_reason"],
        "unmatched_return_lines": counts["unmatched_return_lines"],
        "customers_out": count_lines(features),
        "snapshot_date": str(snapshot_date(net_lines, params))
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

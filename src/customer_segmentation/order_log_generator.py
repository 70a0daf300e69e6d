"""Seeded generator of the third embedded example, `transactions`: a shop's order log.

`make data` rewrites `data/01_raw/order_lines.csv` (about 2,000 customers, ~50,000 lines over 13
months) and `data/01_raw/new_order_lines.csv` (new customers to score) byte-identically;
`kedro run --env transactions` turns the log into one row per customer and segments it.

The file has the public Online Retail layout (`InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country`, dates month-first `MM/DD/YYYY HH:MM`). Six planted
behaviours (`BEHAVIOURS`) differ in when, how often and how much customers buy. The dirt of a real
export is planted and documented in `DIRT`: cancellations of earlier purchases (one of 74,215 units,
cancelled minutes later), returns of items bought before the log starts, lines without a customer id,
zero prices, postage/manual/fee codes, exact duplicate lines, an impossible date and unreadable numbers.
Generation is vectorised, so the benchmark can draw millions of lines with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from customer_segmentation.data_generator import planted_counts

ORDER_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
DATE_FORMAT = "%m/%d/%Y %H:%M"
LOG_END = pd.Timestamp("2025-12-31")
LOG_DAYS = 395  # about 13 months: 2024-12-01 .. 2025-12-31
ORDER_SEED = 909
ORDER_CUSTOMERS = 2_000
NEW_ORDER_SEED = 77
NEW_ORDER_CUSTOMERS = 60
FIRST_INVOICE = 536_365
PRODUCTS = 600
COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Netherlands", "Spain")
COUNTRY_SHARES = (0.84, 0.05, 0.04, 0.03, 0.02, 0.02)
NON_PRODUCT_CODES = {
    "POST": ("POSTAGE", 18.0),
    "DOT": ("DOTCOM POSTAGE", 11.5),
    "M": ("Manual", 2.5),
    "BANK CHARGES": ("Bank Charges", 15.0),
    "AMAZONFEE": ("AMAZON FEE", 13.5),
    "C2": ("CARRIAGE", 50.0),
}
WORDS = ("HEART", "LANTERN", "MUG", "CANDLE", "BUNTING", "TIN", "BAG", "CLOCK", "FRAME", "JAR")
COLOURS = ("RED", "WHITE", "PINK", "BLUE", "GREEN", "VINTAGE", "IVORY", "GOLD")


@dataclass(frozen=True)
class Behaviour:
    """A planted behaviour: share of customers; ranges (low, high) of orders, of the days before the
    end of the log of the first order (tenure) and of the last order (recency); mean lines per order,
    mean units per line, and a price factor."""

    name: str
    share: float
    orders: tuple[int, int]
    tenure_days: tuple[int, int]
    recency_days: tuple[int, int]
    lines_per_order: float
    units_per_line: float
    price_factor: float


BEHAVIOURS = (
    Behaviour("Champions", 0.12, (22, 40), (340, 394), (0, 10), 3.5, 12, 1.0),
    Behaviour("Loyal regulars", 0.22, (8, 14), (260, 394), (8, 45), 3.0, 6, 1.0),
    Behaviour("Big-ticket occasionals", 0.12, (2, 4), (120, 394), (25, 120), 6.0, 60, 2.5),
    Behaviour("New customers", 0.14, (1, 2), (1, 40), (0, 40), 3.0, 4, 1.0),
    Behaviour("Lapsing", 0.20, (5, 9), (300, 394), (120, 220), 3.0, 6, 1.0),
    Behaviour("Lost", 0.20, (1, 2), (280, 394), (280, 394), 2.0, 3, 1.0),
)

# The planted dirt (rates are per order unless said otherwise; counts are exact).
DIRT = {
    "guest_order_rate": 0.02,  # whole orders without a customer id -> quarantined: missing customer id
    "postage_line_rate": 0.03,  # an extra POST/DOT/M/... line -> quarantined: non-product stock code
    "cancelled_order_rate": 0.015,  # a C-invoice cancelling (part of) an earlier order -> netted
    "unmatched_returns": 80,  # C-lines for items bought before the log -> used: count as returns
    "zero_prices": 40,  # lines with UnitPrice 0 -> quarantined: non-positive price
    "duplicate_lines": 150,  # exact repeats of a line -> quarantined: duplicate line
    "huge_cancelled_line": 74_215,  # units bought and cancelled 12 minutes later -> netted
    "bad_date": "02/30/2025 10:15",  # one line -> quarantined: unparseable date (line number)
    "bad_quantity": "1O",  # one line (letter O) -> quarantined: unparseable quantity
}


def _products(rng: np.random.Generator) -> pd.DataFrame:
    codes = [f"{20_000 + 97 * i:05d}" + ("A" if i % 7 == 0 else "") for i in range(PRODUCTS)]
    names = [
        f"{COLOURS[i % len(COLOURS)]} {WORDS[(i // len(COLOURS)) % len(WORDS)]} {i:03d}"
        for i in range(PRODUCTS)
    ]
    prices = np.round(np.exp(rng.normal(1.0, 0.7, PRODUCTS)), 2).clip(0.29, 49.95)
    popularity = 1.0 / np.arange(1, PRODUCTS + 1) ** 0.8
    return pd.DataFrame(
        {"code": codes, "name": names, "price": prices, "weight": popularity / popularity.sum()}
    )


def _orders(rng: np.random.Generator, n_customers: int, first_id: int) -> pd.DataFrame:
    """One row per order: customer, behaviour, country and timestamp (days before the log end)."""
    counts = planted_counts([b.share for b in BEHAVIOURS], n_customers)
    behaviour = rng.permutation(np.repeat(np.arange(len(BEHAVIOURS)), counts))
    spec = {
        field: np.array([getattr(BEHAVIOURS[b], field) for b in behaviour])
        for field in ("orders", "tenure_days", "recency_days")
    }

    def draw(ranges: np.ndarray) -> np.ndarray:
        return rng.integers(ranges[:, 0], ranges[:, 1] + 1)

    n_orders = draw(spec["orders"])
    recency = draw(spec["recency_days"])
    tenure = np.maximum(draw(spec["tenure_days"]), recency)
    tenure = np.where(n_orders == 1, recency, tenure)
    country = rng.choice(len(COUNTRIES), size=n_customers, p=COUNTRY_SHARES)

    customer = np.repeat(np.arange(n_customers), n_orders)
    position = np.arange(len(customer)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    last = position == np.repeat(n_orders - 1, n_orders)
    low, high = recency[customer], tenure[customer]
    days = np.where(position == 0, high, np.where(last, low, rng.uniform(low, high + 1e-9)))
    minutes = rng.integers(8 * 60, 18 * 60, size=len(customer))
    when = LOG_END - pd.to_timedelta(np.floor(days), unit="D") + pd.to_timedelta(minutes, unit="m")
    return pd.DataFrame(
        {
            "customer": first_id + customer,
            "behaviour": behaviour[customer],
            "country": np.asarray(COUNTRIES)[country[customer]],
            "when": when,
        }
    )


def _lines(rng: np.random.Generator, orders: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Order lines of `orders` (sorted by time), invoice numbers in time order."""
    orders = orders.sort_values(["when", "customer"], kind="stable").reset_index(drop=True)
    orders["invoice"] = (FIRST_INVOICE + np.arange(len(orders))).astype(str)
    mean_lines = np.array([b.lines_per_order for b in BEHAVIOURS])[orders["behaviour"]]
    per_order = 1 + rng.poisson(mean_lines - 1)
    lines = orders.loc[orders.index.repeat(per_order)].reset_index(drop=True)
    product = rng.choice(PRODUCTS, size=len(lines), p=products["weight"].to_numpy())
    units = np.array([b.units_per_line for b in BEHAVIOURS])[lines["behaviour"]]
    factor = np.array([b.price_factor for b in BEHAVIOURS])[lines["behaviour"]]
    lines["code"] = products["code"].to_numpy()[product]
    lines["name"] = products["name"].to_numpy()[product]
    lines["quantity"] = 1 + rng.poisson(units - 1)
    lines["price"] = np.round(products["price"].to_numpy()[product] * factor, 2)
    return lines


def _cancellations(rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    """C-invoices that cancel all or part of randomly chosen earlier orders, hours later."""
    invoices = lines["invoice"].unique()
    chosen = rng.choice(
        invoices, size=int(len(invoices) * DIRT["cancelled_order_rate"]), replace=False
    )
    cancelled = lines[lines["invoice"].isin(chosen)].copy()
    share = rng.choice([1.0, 0.5], size=len(cancelled), p=[0.7, 0.3])
    cancelled["quantity"] = -np.maximum(1, np.floor(cancelled["quantity"] * share)).astype(int)
    cancelled["invoice"] = "C" + cancelled["invoice"]
    cancelled["when"] += pd.to_timedelta(rng.integers(10, 600, size=len(cancelled)), unit="m")
    return cancelled


def _unmatched_returns(
    rng: np.random.Generator, lines: pd.DataFrame, products: pd.DataFrame
) -> pd.DataFrame:
    """C-lines returning products the customer never bought in the log (bought before it began)."""
    n = DIRT["unmatched_returns"]
    source = lines.iloc[rng.choice(len(lines), size=n, replace=False)].copy()
    product = rng.choice(PRODUCTS, size=n)  # a code outside the customer's purchases, usually
    source["code"] = products["code"].to_numpy()[product] + "R"
    source["name"] = products["name"].to_numpy()[product]
    source["quantity"] = -rng.integers(1, 4, size=n)
    source["invoice"] = "C" + source["invoice"] + "R"
    source["when"] += pd.to_timedelta(1, unit="D")
    return source


def _postage(rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    invoices = lines["invoice"].drop_duplicates()
    chosen = invoices.sample(frac=DIRT["postage_line_rate"], random_state=rng.integers(1 << 31))
    extra = lines.drop_duplicates("invoice")
    extra = extra[extra["invoice"].isin(chosen)].copy()
    codes = list(NON_PRODUCT_CODES)
    pick = rng.choice(len(codes), size=len(extra))
    extra["code"] = np.asarray(codes)[pick]
    extra["name"] = [NON_PRODUCT_CODES[codes[i]][0] for i in pick]
    extra["price"] = [NON_PRODUCT_CODES[codes[i]][1] for i in pick]
    extra["quantity"] = 1
    return extra


def _as_text(lines: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "InvoiceNo": lines["invoice"],
            "StockCode": lines["code"],
            "Description": lines["name"],
            "Quantity": lines["quantity"].astype(str),
            "InvoiceDate": lines["when"].dt.strftime(DATE_FORMAT),
            "UnitPrice": lines["price"].map("{:.2f}".format),
            "CustomerID": lines["customer"].astype(str),
            "Country": lines["country"],
        }
    ).reset_index(drop=True)


def generate_order_log(
    n_customers: int = ORDER_CUSTOMERS,
    seed: int = ORDER_SEED,
    first_id: int = 12_346,
    dirt: bool = True,
) -> tuple[pd.DataFrame, pd.Series]:
    """The order log as text in the Online Retail layout, and the planted behaviour per customer id.

    With `dirt`, the documented `DIRT` is planted; without, the log is clean (for tests of one rule).
    """
    rng = np.random.default_rng(seed)
    products = _products(rng)
    orders = _orders(rng, n_customers, first_id)
    planted = (
        orders.drop_duplicates("customer")
        .set_index("customer")["behaviour"]
        .map(lambda b: BEHAVIOURS[b].name)
        .sort_index()
    )
    planted.index = planted.index.astype(str)
    lines = _lines(rng, orders, products)
    parts = [lines]
    guests = pd.Index([])
    if dirt:
        invoices = lines["invoice"].drop_duplicates()
        guests = pd.Index(
            invoices.sample(frac=DIRT["guest_order_rate"], random_state=rng.integers(1 << 31))
        )
        huge = lines[lines["behaviour"] == 0].iloc[[0]].copy()
        huge[["code", "name", "price"]] = ["23843", "PAPER CRAFT , LITTLE BIRDIE", 2.08]
        huge["quantity"] = DIRT["huge_cancelled_line"]
        huge["invoice"] = str(FIRST_INVOICE - 1)
        huge_cancel = huge.assign(
            invoice="C" + huge["invoice"],
            quantity=-DIRT["huge_cancelled_line"],
            when=huge["when"] + pd.Timedelta(minutes=12),
        )
        members = lines[~lines["invoice"].isin(guests)]
        parts = [
            lines,
            _cancellations(rng, members),
            _unmatched_returns(rng, members, products),
            _postage(rng, lines),
            huge,
            huge_cancel,
        ]
    log = pd.concat(parts, ignore_index=True)
    log = log.sort_values(["when", "invoice"], kind="stable").reset_index(drop=True)
    text = _as_text(log)
    if dirt:
        text.loc[text["InvoiceNo"].isin(guests), "CustomerID"] = ""
        text = _plant_line_dirt(rng, text)
    return text, planted


def _plant_line_dirt(rng: np.random.Generator, text: pd.DataFrame) -> pd.DataFrame:
    """Zero prices, an impossible date, an unreadable quantity, and exact duplicate lines."""
    products = ~text["InvoiceNo"].str.startswith("C") & (text["CustomerID"] != "")
    spots = rng.choice(np.flatnonzero(products), size=DIRT["zero_prices"] + 2, replace=False)
    text.loc[spots[:-2], "UnitPrice"] = "0.00"
    text.loc[spots[-2], "InvoiceDate"] = DIRT["bad_date"]
    text.loc[spots[-1], "Quantity"] = DIRT["bad_quantity"]
    repeats = np.sort(rng.choice(len(text), size=DIRT["duplicate_lines"], replace=False))
    order = np.sort(np.concatenate([np.arange(len(text)), repeats]), kind="stable")
    return text.iloc[order].reset_index(drop=True)


def order_log_csv_text(lines: pd.DataFrame) -> str:
    """The CSV text as written to `data/01_raw/` (`\\n` line ends)."""
    return lines[ORDER_COLUMNS].to_csv(index=False, lineterminator="\n")


def generate_new_order_log() -> pd.DataFrame:
    """New customers' order lines to score (clean; other customer ids than the main log)."""
    return generate_order_log(NEW_ORDER_CUSTOMERS, NEW_ORDER_SEED, first_id=90_001, dirt=False)[0]

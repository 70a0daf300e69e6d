"""Seeded generator of the second embedded example, `cards`: credit-card customers, another schema.

`make data` (or `python -m customer_segmentation.data_generator`) rewrites `data/01_raw/cards.csv` and
`data/01_raw/new_cards.csv` byte-identically; `kedro run --env cards` segments them.

Four planted behavioural segments differ in how customers use the card: transactors (large one-off
purchases, paid off), revolvers (high balance, cash advances), instalment buyers and dormant cards.
Amounts are log-normal (heavily right-skewed, with many exact zeros), so the cards environment
clusters on `log1p` of them. A few documented dirty rows (`CARD_DIRTY_ROWS`) imitate a real export.
The planted segment of every row is returned for tests and never written to the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from customer_segmentation.data_generator import plant_dirty_rows, planted_counts

CARD_COLUMNS = [
    "CUST_ID",
    "BALANCE",
    "PURCHASES",
    "ONEOFF_PURCHASES",
    "INSTALLMENTS_PURCHASES",
    "CASH_ADVANCE",
    "CREDIT_LIMIT",
    "PAYMENTS",
    "TENURE",
    "CARD_TIER",
    "BRANCH",  # not declared in the cards schema: carried through to the segmented export
]
AMOUNTS = ("BALANCE", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES", "CASH_ADVANCE", "PAYMENTS")
CARD_SEED = 2_025
CARD_CUSTOMERS = 3_000
NEW_CARDS_SEED = 11
NEW_CARDS = 40
TIERS = ("Classic", "Gold", "Platinum")
BRANCHES = ("North", "South", "East", "West")


@dataclass(frozen=True)
class CardSegment:
    """A planted segment: share, per amount (median, share of exact zeros), credit limit, tiers."""

    name: str
    share: float
    amounts: dict[str, tuple[float, float]]
    credit_limit: float
    tier_shares: tuple[float, float, float]


CARD_SEGMENTS = (
    CardSegment(
        "Transactors", 0.35,
        {"BALANCE": (300, 0.0), "ONEOFF_PURCHASES": (2_500, 0.0), "INSTALLMENTS_PURCHASES": (150, 0.0),
         "CASH_ADVANCE": (100, 0.97), "PAYMENTS": (3_000, 0.0)},
        9_000, (0.3, 0.45, 0.25),
    ),
    CardSegment(
        "Revolvers", 0.25,
        {"BALANCE": (4_000, 0.0), "ONEOFF_PURCHASES": (80, 0.0), "INSTALLMENTS_PURCHASES": (60, 0.0),
         "CASH_ADVANCE": (2_500, 0.0), "PAYMENTS": (1_200, 0.0)},
        6_000, (0.6, 0.35, 0.05),
    ),
    CardSegment(
        "Instalment buyers", 0.25,
        {"BALANCE": (1_000, 0.0), "ONEOFF_PURCHASES": (50, 0.0), "INSTALLMENTS_PURCHASES": (1_500, 0.0),
         "CASH_ADVANCE": (100, 0.97), "PAYMENTS": (1_000, 0.0)},
        4_000, (0.7, 0.25, 0.05),
    ),
    CardSegment(
        "Dormant", 0.15,
        {"BALANCE": (60, 0.0), "ONEOFF_PURCHASES": (40, 0.97), "INSTALLMENTS_PURCHASES": (40, 0.97),
         "CASH_ADVANCE": (100, 0.97), "PAYMENTS": (80, 0.0)},
        2_000, (0.9, 0.1, 0.0),
    ),
)  # fmt: skip

# What each dirty row imitates, by position (0-based), and what the cards parameters do with it.
CARD_DIRTY_ROWS = {
    "blank_credit_limit": (5, "CREDIT_LIMIT", "", "kept: credit_limit imputed with the median"),
    "blank_tier": (17, "CARD_TIER", "", "kept: card_tier 'Unknown' (missing: keep)"),
    "blank_balance": (29, "BALANCE", "", "quarantined: balance missing"),
    "negative_payments": (41, "PAYMENTS", "-120.50", "quarantined: payments not at least 0"),
    "tier_lowercase": (53, "CARD_TIER", " gold", "kept: normalised to Gold"),
    "unknown_tier": (67, "CARD_TIER", "Diamond", "quarantined: card_tier not one of ..."),
    "text_in_amount": (79, "CASH_ADVANCE", "12O.50", "quarantined: cash_advance is not a number"),
}


def _amounts(rng: np.random.Generator, median: float, zero_share: float, size: int) -> np.ndarray:
    values = np.exp(rng.normal(np.log(median), 0.45, size))
    values[rng.random(size) < zero_share] = 0.0
    return np.round(values, 2)


def generate_clean_cards(n: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    """Draw `n` card customers from the planted segments, shuffled; raw columns + planted_segment."""
    rng = np.random.default_rng(seed)
    counts = planted_counts([s.share for s in CARD_SEGMENTS], n)
    parts = []
    for segment, count in zip(CARD_SEGMENTS, counts, strict=True):
        part = {column: _amounts(rng, *segment.amounts[column], count) for column in AMOUNTS}
        part["PURCHASES"] = np.round(part["ONEOFF_PURCHASES"] + part["INSTALLMENTS_PURCHASES"], 2)
        limit = np.exp(rng.normal(np.log(segment.credit_limit), 0.35, count))
        part["CREDIT_LIMIT"] = np.round(limit / 50) * 50
        part["TENURE"] = rng.choice([6, 8, 10, 12], count, p=[0.1, 0.1, 0.15, 0.65])
        part["CARD_TIER"] = rng.choice(TIERS, count, p=segment.tier_shares)
        part["BRANCH"] = rng.choice(BRANCHES, count)
        part["planted_segment"] = segment.name
        parts.append(pd.DataFrame(part))
    cards = pd.concat(parts, ignore_index=True)
    cards = cards.iloc[rng.permutation(len(cards))].reset_index(drop=True)
    cards.insert(0, "CUST_ID", [f"C{i:05d}" for i in range(first_id, first_id + len(cards))])
    return cards[[*CARD_COLUMNS, "planted_segment"]]


def _as_text(cards: pd.DataFrame) -> pd.DataFrame:
    text = cards.copy()
    for column in CARD_COLUMNS:
        text[column] = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in cards[column]]
    return text.astype(object)


def generate_cards(n: int = CARD_CUSTOMERS, seed: int = CARD_SEED) -> pd.DataFrame:
    """The embedded cards table: clean draws, the documented dirty rows and one repeated id, as text."""
    cards = plant_dirty_rows(_as_text(generate_clean_cards(n, seed)), CARD_DIRTY_ROWS)
    repeat = cards.loc[[100]].copy()
    repeat["dirty_kind"] = "duplicated_customer_id"
    return pd.concat([cards, repeat], ignore_index=True)


def generate_new_cards(n: int = NEW_CARDS, seed: int = NEW_CARDS_SEED) -> pd.DataFrame:
    """New card customers to score, with one blank balance."""
    cards = _as_text(generate_clean_cards(n, seed, first_id=90_001))
    cards["dirty_kind"] = ""
    cards.loc[2, ["BALANCE", "dirty_kind"]] = ["", "blank_balance"]
    return cards


def cards_csv_text(cards: pd.DataFrame) -> str:
    """The CSV text exactly as written to `data/01_raw/` (raw columns only, `\\n` line ends)."""
    return cards[CARD_COLUMNS].to_csv(index=False, lineterminator="\n")

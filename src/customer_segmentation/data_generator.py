"""Seeded generator of the embedded default data (`data/01_raw/`), in the Kaggle Mall Customers schema.

`make data` (or `python -m customer_segmentation.data_generator`) rewrites
`data/01_raw/customers.csv` and `data/01_raw/new_customers.csv` byte-identically, and the cards example
of `card_generator` (`cards.csv`, `new_cards.csv`).

The customers come from five planted segments that differ in income, spending score and age. A small,
documented set of dirty rows (`DIRTY_ROWS`) imitates what a real export carries. The planted segment of
every row is returned by `generate_customers` for tests; it is never written to the CSV the pipeline reads.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RAW_COLUMNS = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
AGE_RANGE = (18, 70)
INCOME_RANGE = (15, 140)
SCORE_RANGE = (1, 100)
DEFAULT_SEED = 20_24
DEFAULT_CUSTOMERS = 2_000
NEW_CUSTOMERS_SEED = 7
NEW_CUSTOMERS = 60
NEW_CUSTOMERS_FIRST_ID = 100_001
# A later batch of new customers who earn more than the training customers (drift monitoring:
# `kedro run --pipelines scoring --env shifted`).
SHIFTED_CUSTOMERS, SHIFTED_SEED, SHIFTED_FIRST_ID, INCOME_SHIFT = 2_000, 11, 500_001, 30


@dataclass(frozen=True)
class PlantedSegment:
    """One planted segment: its share of customers and (mean, sd) of each attribute."""

    name: str
    share: float
    income: tuple[float, float]
    score: tuple[float, float]
    age: tuple[float, float]
    female_share: float


PLANTED_SEGMENTS = (
    PlantedSegment("Average", 0.35, (55, 8), (50, 6), (42, 11), 0.55),
    PlantedSegment("Affluent big spenders", 0.17, (105, 10), (82, 6), (32, 6), 0.55),
    PlantedSegment("Low-income big spenders", 0.14, (25, 5), (80, 7), (25, 5), 0.60),
    PlantedSegment("Affluent savers", 0.18, (102, 10), (17, 6), (44, 9), 0.45),
    PlantedSegment("Low-income savers", 0.16, (26, 5), (20, 6), (52, 10), 0.55),
)

# What each dirty row imitates, by the position (0-based, in file order) it is planted at, and what
# the default parameters do with it. Tests and the README rely on this table.
DIRTY_ROWS = {
    "blank_age": (11, "Age", "", "kept: age imputed with the median"),
    "blank_gender": (23, "Genre", "", "kept: gender imputed with the mode"),
    "blank_spending_score": (
        37,
        "Spending Score (1-100)",
        "",
        "quarantined: spending_score missing",
    ),
    "blank_income": (52, "Annual Income (k$)", "", "quarantined: annual_income_k missing"),
    "impossible_age": (64, "Age", "150", "quarantined: age out of range"),
    "impossible_score": (78, "Spending Score (1-100)", "140", "quarantined: score out of range"),
    "non_numeric_income": (91, "Annual Income (k$)", "45k", "quarantined: not a number"),
    "gender_F": (105, "Genre", "F", "kept: normalised to Female"),
    "gender_female_padded": (117, "Genre", "female ", "kept: normalised to Female"),
    "gender_M": (129, "Genre", "M", "kept: normalised to Male"),
}
# A second row that reuses the customer id of the row at this position (appended at the end of the
# file): the first occurrence is kept, the repeat is quarantined as a duplicate.
DUPLICATED_ID_OF_ROW = 140


def planted_counts(shares: list[float], n: int) -> np.ndarray:
    """How many of `n` rows each planted segment gets (the first takes the rounding remainder)."""
    counts = np.floor(np.array(shares) * n).astype(int)
    counts[0] += n - counts.sum()
    return counts


def plant_dirty_rows(rows: pd.DataFrame, dirty_rows: dict[str, tuple]) -> pd.DataFrame:
    """`rows` (text) with each documented dirty value put in place and a `dirty_kind` column."""
    rows = rows.copy()
    rows["dirty_kind"] = ""
    for kind, (position, column, value, _) in dirty_rows.items():
        rows.loc[position, [column, "dirty_kind"]] = [value, kind]
    return rows


def _draw(rng: np.random.Generator, mean_sd: tuple[float, float], size: int, bounds) -> np.ndarray:
    values = rng.normal(mean_sd[0], mean_sd[1], size)
    return np.clip(np.rint(values), *bounds).astype(int)


def generate_clean_customers(n: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    """Draw `n` customers from the planted segments, shuffled; columns in the raw schema + planted_segment."""
    rng = np.random.default_rng(seed)
    counts = planted_counts([s.share for s in PLANTED_SEGMENTS], n)
    parts = []
    for segment, count in zip(PLANTED_SEGMENTS, counts, strict=True):
        female = rng.random(count) < segment.female_share
        parts.append(
            pd.DataFrame(
                {
                    "Genre": np.where(female, "Female", "Male"),
                    "Age": _draw(rng, segment.age, count, AGE_RANGE),
                    "Annual Income (k$)": _draw(rng, segment.income, count, INCOME_RANGE),
                    "Spending Score (1-100)": _draw(rng, segment.score, count, SCORE_RANGE),
                    "planted_segment": segment.name,
                }
            )
        )
    customers = pd.concat(parts, ignore_index=True)
    customers = customers.iloc[rng.permutation(len(customers))].reset_index(drop=True)
    customers.insert(0, "CustomerID", np.arange(first_id, first_id + len(customers)))
    return customers


def _as_text(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.astype({column: str for column in RAW_COLUMNS}).astype(object)


def generate_customers(n: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The embedded default customers: clean draws plus the documented dirty rows, all as text.

    Returns the raw columns plus `planted_segment` (for tests) and `dirty_kind` (empty for clean rows).
    """
    customers = plant_dirty_rows(_as_text(generate_clean_customers(n, seed)), DIRTY_ROWS)
    repeat = customers.loc[[DUPLICATED_ID_OF_ROW]].copy()
    repeat["Age"] = str(int(repeat["Age"].iloc[0]) + 1)
    repeat["dirty_kind"] = "duplicated_customer_id"
    return pd.concat([customers, repeat], ignore_index=True)


def generate_new_customers(n: int = NEW_CUSTOMERS, seed: int = NEW_CUSTOMERS_SEED) -> pd.DataFrame:
    """A small sample of new customers to score, with one impossible age and one blank score."""
    customers = _as_text(generate_clean_customers(n, seed, first_id=NEW_CUSTOMERS_FIRST_ID))
    customers["dirty_kind"] = ""
    customers.loc[3, ["Age", "dirty_kind"]] = ["-4", "impossible_age"]
    customers.loc[8, ["Spending Score (1-100)", "dirty_kind"]] = ["", "blank_spending_score"]
    return customers


def generate_shifted_customers(
    n: int = SHIFTED_CUSTOMERS, seed: int = SHIFTED_SEED, income_shift: int = INCOME_SHIFT
) -> pd.DataFrame:
    """New customers drawn like the training ones, except that every annual income is
    `income_shift` k$ higher: a batch whose income has drifted and whose other columns have not."""
    customers = generate_clean_customers(n, seed, first_id=SHIFTED_FIRST_ID)
    customers["Annual Income (k$)"] = customers["Annual Income (k$)"] + income_shift
    return _as_text(customers)


def to_csv_text(customers: pd.DataFrame) -> str:
    """The CSV text exactly as written to `data/01_raw/` (raw columns only, `\\n` line ends)."""
    return customers[RAW_COLUMNS].to_csv(index=False, lineterminator="\n")


def write_default_data(raw_dir: Path) -> list[Path]:
    """Write the Mall-style, the cards and the order-log examples into `raw_dir`; return their paths."""
    # imported here: these generators build on this module's helpers
    from customer_segmentation.card_generator import (  # noqa: PLC0415
        cards_csv_text,
        generate_cards,
        generate_new_cards,
    )
    from customer_segmentation.order_log_generator import (  # noqa: PLC0415
        generate_new_order_log,
        generate_order_log,
        order_log_csv_text,
    )

    raw_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("customers.csv", to_csv_text(generate_customers())),
        ("new_customers.csv", to_csv_text(generate_new_customers())),
        ("shifted_customers.csv", to_csv_text(generate_shifted_customers())),
        ("cards.csv", cards_csv_text(generate_cards())),
        ("new_cards.csv", cards_csv_text(generate_new_cards())),
        ("order_lines.csv", order_log_csv_text(generate_order_log()[0])),
        ("new_order_lines.csv", order_log_csv_text(generate_new_order_log())),
    ):
        path = raw_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Command line: regenerate the default data (default folder: data/01_raw)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/01_raw"), help="target folder")
    args = parser.parse_args()
    for path in write_default_data(args.out):
        print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    main()

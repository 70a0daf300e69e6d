"""RFM: quintile scores of recency, frequency and monetary value, and the named R x F grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from customer_segmentation.engine import is_spark, spark_module
from customer_segmentation.errors import DataValidationError

SCORED = {
    "r_score": ("recency", False),
    "f_score": ("frequency", True),
    "m_score": ("monetary", True),
}


def quantile_scores(
    values: pd.Series, ids: pd.Series, bins: int, higher_is_better: bool
) -> np.ndarray:
    """Scores 1..bins by equal-count bins of the rank; ties are broken by customer id, so heavy ties
    (many one-order customers) still fill every bin, and the same data always gives the same scores."""
    order = pd.DataFrame({"v": values.to_numpy(), "id": ids.to_numpy()})
    order = order.sort_values(["v", "id"], ascending=[higher_is_better, True], kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order.index.to_numpy()] = np.arange(1, len(order) + 1)
    return np.ceil(rank * bins / len(order)).astype(int)


def check_rfm_rules(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The `rfm.segments` rules, checked to cover every R x F cell exactly as written (first match)."""
    bins = params["bins"]
    rules = params["segments"]
    if not isinstance(bins, int) or bins < 2:
        raise DataValidationError(
            f"customer_features.rfm.bins: expected a whole number of at least 2, found {bins!r}"
        )
    for rule in rules:
        ranges = [rule.get("r"), rule.get("f")] if isinstance(rule, dict) else [None]
        if (
            not isinstance(rule, dict)
            or not rule.get("name")
            or not all(
                isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r)
                for r in ranges
            )
        ):
            raise DataValidationError(
                "customer_features.rfm.segments: expected rules {name, r: [low, high], f: [low, "
                f"high]}} with whole-number scores 1..{bins}, found {rule!r}"
            )
    uncovered = []
    for r in range(1, bins + 1):
        for f in range(1, bins + 1):
            if not any(_matches(rule, r, f) for rule in rules):
                uncovered.append(f"R{r}F{f}")
    if uncovered:
        raise DataValidationError(
            "customer_features.rfm.segments: the rules leave R x F cells without a segment: "
            f"{', '.join(uncovered)}. Each rule is {{name, r: [low, high], f: [low, high]}} with "
            f"scores 1..{bins}; add a rule (or widen one) that covers these cells."
        )
    return rules


def rfm_cell_names(params: dict[str, Any]) -> dict[str, str]:
    """The RFM segment of every R x F cell ('R5F4' -> 'Champions') by the first matching rule."""
    rules = check_rfm_rules(params)
    cells = [(r, f) for r in range(1, params["bins"] + 1) for f in range(1, params["bins"] + 1)]
    return {
        f"R{r}F{f}": next(rule["name"] for rule in rules if _matches(rule, r, f)) for r, f in cells
    }


def _matches(rule: dict[str, Any], r: int | np.ndarray, f: int | np.ndarray):
    (r_low, r_high), (f_low, f_high) = rule["r"], rule["f"]
    return (r >= r_low) & (r <= r_high) & (f >= f_low) & (f <= f_high)


def score_rfm(features: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Per customer: R, F and M scores (1..`rfm.bins`; a recent purchase scores a high R), the cell
    ('R5F4M3'), and the named segment of the first `rfm.segments` rule that matches its R and F."""
    rfm = params["rfm"]
    rules = check_rfm_rules(rfm)
    if is_spark(features):
        return spark_module("customer_features").score_rfm(features, rules, rfm["bins"], SCORED)
    scores = features[["customer_id", "recency", "frequency", "monetary"]].copy()
    for score, (column, higher_is_better) in SCORED.items():
        scores[score] = quantile_scores(
            features[column], features["customer_id"], rfm["bins"], higher_is_better
        )
    scores["rfm_cell"] = (
        "R" + scores["r_score"].astype(str) + "F" + scores["f_score"].astype(str)
        + "M" + scores["m_score"].astype(str)
    )  # fmt: skip
    segment = pd.Series(pd.NA, index=scores.index, dtype="string")
    for rule in reversed(rules):  # the first matching rule wins
        segment = segment.mask(_matches(rule, scores["r_score"], scores["f_score"]), rule["name"])
    scores["rfm_segment"] = segment
    return scores

"""RFM: quintile scores of recency, frequency and monetary value, and the named R x F grid."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from customer_segmentation.errors import DataValidationError

SCORED = {
    "r_score": ("recency", False),
    "f_score": ("frequency", True),
    "m_score": ("monetary", True),
}


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


def _matches(rule: dict[str, Any], r: Any, f: Any) -> Any:
    (r_low, r_high), (f_low, f_high) = rule["r"], rule["f"]
    return (r >= r_low) & (r <= r_high) & (f >= f_low) & (f <= f_high)


def score_rfm(features: ir.Table, params: dict[str, Any]) -> ir.Table:
    """Per customer: R, F and M scores (1..`rfm.bins`; a recent purchase scores a high R), the cell
    ('R5F4M3'), and the named segment of the first `rfm.segments` rule that matches its R and F.

    Scores are equal-count bins of the rank; ties are broken by customer id, so heavy ties (many
    one-order customers) still fill every bin, and the same data always gives the same scores."""
    rfm = params["rfm"]
    rules = check_rfm_rules(rfm)
    bins = rfm["bins"]
    total = features.count()
    scores = features.select("customer_id", "recency", "frequency", "monetary")
    for score, (column, higher_is_better) in SCORED.items():
        order = scores[column] if higher_is_better else scores[column].desc()
        rank = ibis.row_number().over(ibis.window(order_by=[order, scores.customer_id])) + 1
        scores = scores.mutate(**{score: (rank * bins / total).ceil().cast("int64")})
    cell = ibis.literal("R") + scores.r_score.cast("string") + "F" + scores.f_score.cast("string")
    scores = scores.mutate(rfm_cell=cell + "M" + scores.m_score.cast("string"))
    segment = ibis.cases(
        *[(_matches(rule, scores.r_score, scores.f_score), rule["name"]) for rule in rules],
        else_=ibis.null("string"),
    )  # the first matching rule wins
    return scores.mutate(rfm_segment=segment).order_by("customer_id")

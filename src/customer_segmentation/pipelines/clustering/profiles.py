"""Segment profiles, human names and suggested actions, by documented rules.

Names describe each segment relative to the whole population: the z-score of the segment's mean
income, spending score and age places it at a level (low / mid / high, thresholds in
`clustering.level_thresholds`), and each level has a word (`clustering.level_words`), e.g.
"High income · Low spending · Middle-aged". `clustering.segment_names` overrides a name per id.
The suggested action is looked up by income level and spending level in `clustering.actions`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

NAMED_BY = ("annual_income_k", "spending_score", "age")


def level_of(z_score: float, thresholds: dict[str, float]) -> str:
    """'low', 'mid' or 'high' relative to the population, by the z-score thresholds."""
    if z_score <= thresholds["low"]:
        return "low"
    return "high" if z_score >= thresholds["high"] else "mid"


def z_scores(segment_means: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Segment means as z-scores against the whole population (0 where a column does not vary)."""
    spread = population.std(ddof=0).replace(0, np.nan)
    return ((segment_means - population.mean()) / spread).fillna(0.0)


def profile_segments(
    assigned: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per segment: name, action, size, share, mean/median of each column, difference and
    z-score against the population, share of women. Returned as a table and as JSON-ready dict."""
    columns = [c for c in params["profile_columns"] if c in assigned.columns]
    groups = assigned.groupby("segment_id")
    means, medians = groups[columns].mean(), groups[columns].median()
    z = z_scores(means, assigned[columns])
    profiles = pd.DataFrame(index=means.index)
    profiles["size"] = groups.size()
    profiles["share"] = profiles["size"] / len(assigned)
    for column in columns:
        profiles[f"mean_{column}"] = means[column]
        profiles[f"median_{column}"] = medians[column]
        profiles[f"diff_{column}"] = means[column] - assigned[column].mean()
        profiles[f"z_{column}"] = z[column]
    if "is_female" in assigned.columns:
        profiles["share_female"] = groups["is_female"].mean()
    levels = z.apply(
        lambda row: {c: level_of(row[c], params["level_thresholds"]) for c in columns}, axis=1
    )
    profiles.insert(0, "segment_name", name_segments(levels, params))
    profiles.insert(1, "suggested_action", [suggest_action(level, params) for level in levels])
    profiles = profiles.reset_index()
    for _, row in profiles.iterrows():
        logger.info(
            "Segment %d: %s — %d customers (%.0f%%)",
            row["segment_id"],
            row["segment_name"],
            row["size"],
            100 * row["share"],
        )
    population = {c: round(float(assigned[c].mean()), 4) for c in columns}
    document = {
        "population": {"customers": len(assigned), "mean": population},
        "segments": profiles.round(4).to_dict(orient="records"),
    }
    return profiles, document


def describe(levels: dict[str, str], words: dict[str, dict[str, str]]) -> str:
    """'High income · Low spending · Middle-aged' from the levels of the naming columns."""
    return " · ".join(words[c][levels[c]] for c in NAMED_BY if c in levels)


def name_segments(levels: pd.Series, params: dict[str, Any]) -> list[str]:
    """Generated names (made unique) with the per-id overrides of `segment_names` applied."""
    names = [describe(level, params["level_words"]) for level in levels]
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    names = [
        f"{name} ({segment_id})" if counts[name] > 1 else name
        for name, segment_id in zip(names, levels.index, strict=True)
    ]
    overrides = {int(k): str(v) for k, v in (params.get("segment_names") or {}).items()}
    return [
        overrides.get(int(segment_id), name)
        for name, segment_id in zip(names, levels.index, strict=True)
    ]


def suggest_action(levels: dict[str, str], params: dict[str, Any]) -> str:
    """The action for this segment's income and spending levels (`clustering.actions`)."""
    key = f"{levels.get('annual_income_k', 'mid')} income, {levels.get('spending_score', 'mid')} spending"
    return params["actions"].get(key, params["actions"]["default"])

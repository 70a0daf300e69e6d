"""Segment profiles, human names and suggested actions, by documented rules over the declared schema.

Profiles compare each segment with the whole population: for every profiled numeric column the mean,
median, difference and z-score (`z = (segment mean - population mean) / population sd`), and for every
profiled categorical column the share of each category.

Names: each numeric column is placed at a level (low / mid / high) by its z-score
(`clustering.level_thresholds`). A name says what is true of the segment's typical customer, so a
level names it only when the segment's median is at the same level as its mean (a few big customers
can lift a mean): otherwise the column is named at "mid". A segment is named by the columns in
`clustering.naming.columns` (in that order) or, when that list is empty, by the `naming.max_columns`
columns whose mean departs most from the population (largest |z|, mid levels left out unless nothing
else departs). The words come from `clustering.level_words`, else from the column's label ("High
cash advance"). A word that claims a figure carries its bound on the median (`{word: One-off,
median_at_most: 1, otherwise: Few orders}`) and gives way to `otherwise` when the median is beyond
it. `clustering.status_words` put a word about activity first ("New", "Dormant") when the segment's
medians meet all its conditions; it replaces the words of the columns it lists in `replaces`.
`clustering.segment_names` overrides a name per id; a name gets its id as a suffix only when two
segments would otherwise share it.

Actions: the first rule of `clustering.actions` whose `when` matches the segment's levels (numeric
columns) or most common category (categorical columns) gives the suggested action; otherwise
`clustering.default_action`.

Segment 0 (customers a density method leaves unassigned) is named and given an action by
`clustering.unassigned`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from customer_segmentation.errors import DataValidationError
from customer_segmentation.models import UNASSIGNED, UNASSIGNED_NAME
from customer_segmentation.schema import Schema, per_column, schema_from_dict

from .statistics import segment_statistics

logger = logging.getLogger(__name__)

LEVELS = ("low", "mid", "high")


def level_of(z_score: float, thresholds: dict[str, float]) -> str:
    """'low', 'mid' or 'high' relative to the population, by the z-score thresholds."""
    if z_score <= thresholds["low"]:
        return "low"
    return "high" if z_score >= thresholds["high"] else "mid"


def z_scores(segment_means: pd.DataFrame, mean: pd.Series, std: pd.Series) -> pd.DataFrame:
    """Segment means as z-scores against the whole population (0 where a column does not vary)."""
    return ((segment_means - mean) / std.replace(0, np.nan)).fillna(0.0)


def profiled_columns(schema: Schema, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns to profile: `profile_columns`, or every declared one."""
    wanted = params.get("profile_columns")
    if wanted is None:
        return schema.numeric, schema.categorical
    unknown = [c for c in wanted if c not in schema.numeric + schema.categorical]
    if unknown:
        raise DataValidationError(
            "parameter clustering.profile_columns: expected null or declared numeric and categorical "
            f"columns ({', '.join(schema.numeric + schema.categorical)}), found {unknown!r}"
        )
    return [c for c in wanted if c in schema.numeric], [
        c for c in wanted if c in schema.categorical
    ]


def profile_segments(
    assigned: pd.DataFrame, column_schema: dict[str, Any], params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per segment: name, action, size, share; per numeric column the mean, median,
    difference and z-score against the population; per categorical column the share of each category
    (`share_<column>_<category>`). Returned as a table and as a JSON-ready dict."""
    schema = schema_from_dict(column_schema)
    numeric, categorical = profiled_columns(schema, params)
    statistics = segment_statistics(assigned, numeric, categorical)
    means, medians = statistics.means, statistics.medians
    z = z_scores(means, statistics.population_mean, statistics.population_std)
    profiles = pd.DataFrame(index=statistics.sizes.index)
    profiles["size"] = statistics.sizes
    profiles["share"] = profiles["size"] / statistics.customers
    for column in numeric:
        profiles[f"mean_{column}"] = means[column]
        profiles[f"median_{column}"] = medians[column]
        profiles[f"diff_{column}"] = means[column] - statistics.population_mean[column]
        profiles[f"z_{column}"] = z[column]
    population_shares: dict[str, dict[str, float]] = {}
    modes: dict[str, pd.Series] = {}
    for column in categorical:
        shares = statistics.shares(column)
        for category in shares.columns:
            profiles[f"share_{column}_{category}"] = shares[category]
        population_shares[column] = {
            str(k): round(float(v), 4)
            for k, v in statistics.population_shares(column).sort_index().items()
        }
        modes[column] = shares.idxmax(axis=1)
    thresholds = params["level_thresholds"]
    levels = [
        {
            **{c: level_of(z.loc[sid, c], thresholds) for c in numeric},
            **{c: modes[c][sid] for c in categorical},
        }
        for sid in profiles.index
    ]
    median_z = z_scores(medians, statistics.population_mean, statistics.population_std)
    named = profiles.index[profiles.index != UNASSIGNED]
    profiles.insert(
        0,
        "segment_name",
        pd.Series(
            name_segments(
                named,
                z.loc[named],
                [
                    typical_levels(lv, median_z.loc[sid], thresholds)
                    for sid, lv in zip(profiles.index, levels, strict=True)
                    if sid != UNASSIGNED
                ],
                schema,
                params,
                medians.loc[named],
            ),
            index=named,
        ).reindex(profiles.index),
    )
    rules = applicable_rules(params, numeric + categorical)
    default = str(params["default_action"])
    profiles.insert(1, "suggested_action", [suggest_action(lv, rules, default) for lv in levels])
    if UNASSIGNED in profiles.index:  # customers a density method left out of every segment
        unassigned = params.get("unassigned") or {}
        profiles.loc[UNASSIGNED, "segment_name"] = unassigned.get("name", UNASSIGNED_NAME)
        profiles.loc[UNASSIGNED, "suggested_action"] = unassigned.get("action", default)
    profiles = profiles.reset_index()
    for _, row in profiles.iterrows():
        logger.info(
            "Segment %d: %s — %d customers (%.0f%%)",
            row["segment_id"],
            row["segment_name"],
            row["size"],
            100 * row["share"],
        )
    document = {
        "population": {
            "customers": statistics.customers,
            "mean": {c: round(float(statistics.population_mean[c]), 4) for c in numeric},
            "category_shares": population_shares,
        },
        "segments": profiles.round(4).to_dict(orient="records"),
    }
    return profiles, document


def typical_levels(
    levels: dict[str, str], median_z: pd.Series, thresholds: dict[str, float]
) -> dict[str, str]:
    """The levels that name a segment: a numeric column's level where the segment's median is at
    the same level as its mean, else 'mid'; categorical columns as they are."""
    return {
        column: level
        if column not in median_z.index or level_of(median_z[column], thresholds) == level
        else "mid"
        for column, level in levels.items()
    }


def level_word(
    column: str,
    level: str,
    schema: Schema,
    words: dict[str, dict[str, Any]],
    median: float | None = None,
) -> str:
    """The word of a column at a level: `level_words`, else 'High <label>' from the schema. A word
    written `{word, median_at_most | median_at_least, otherwise}` is used only when the segment's
    median is within its bound, else `otherwise` (default: 'Low <label>')."""
    generic = f"{level.capitalize()} {schema.label(column)}"
    word = words.get(column, {}).get(level)
    if word is None:
        return generic
    if not isinstance(word, dict):
        return str(word)
    if median is not None and not meets(median, word):
        return str(word.get("otherwise", generic))
    return str(word["word"])


def meets(median: float, bound: dict[str, Any]) -> bool:
    """Whether a median is within `median_at_most` and `median_at_least` (either may be absent)."""
    if "median_at_most" in bound and not median <= float(bound["median_at_most"]):
        return False
    return not ("median_at_least" in bound and not median >= float(bound["median_at_least"]))


def naming_columns(z_row: pd.Series, levels: dict[str, str], params: dict[str, Any]) -> list[str]:
    """The columns that name one segment: `naming.columns`, or the most departing ones by |z|."""
    naming = params.get("naming") or {}
    fixed = [c for c in naming.get("columns") or [] if c in z_row.index]
    if fixed:
        return fixed
    ranked = z_row.abs().sort_values(ascending=False, kind="stable").index.tolist()
    departing = [c for c in ranked if levels[c] != "mid"]
    return (departing or ranked[:1])[: int(naming.get("max_columns", 3))]


def status_word(medians: pd.Series, params: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The first of `status_words` whose conditions (bounds on the segment's medians) all hold:
    (word, the columns whose words it replaces); (None, []) when none does. An entry naming a
    column that is not profiled never holds."""
    for entry in params.get("status_words") or []:
        conditions = entry.get("when") or {}
        if conditions and all(
            column in medians.index and meets(float(medians[column]), bound)
            for column, bound in conditions.items()
        ):
            return str(entry["word"]), list(entry.get("replaces") or [])
    return None, []


def name_segments(
    segment_ids: pd.Index,
    z: pd.DataFrame,
    levels: list[dict[str, str]],
    schema: Schema,
    params: dict[str, Any],
    medians: pd.DataFrame | None = None,
) -> list[str]:
    """Generated names with the per-id overrides of `segment_names` applied; unique within the run:
    a name shared by two segments gets each one's id, '(2)'."""
    words = per_column(params.get("level_words"))
    naming = params.get("naming") or {}
    names = []
    for sid, level in zip(segment_ids, levels, strict=True):
        columns = naming_columns(z.loc[sid], level, params) if len(z.columns) else []
        typical = medians.loc[sid] if medians is not None else pd.Series(dtype=float)
        status, replaced = status_word(typical, params)
        columns = [c for c in columns if c not in replaced]
        if status and not naming.get("columns"):  # at most max_columns words in all
            columns = columns[: max(int(naming.get("max_columns", 3)) - 1, 1)]
        parts = [status] if status else []
        parts += [
            level_word(c, level[c], schema, words, typical.get(c) if c in typical else None)
            for c in columns
        ]
        names.append(" · ".join(parts) or f"Segment {sid}")
    overrides = {int(k): str(v) for k, v in (params.get("segment_names") or {}).items()}
    final = [overrides.get(int(sid), name) for sid, name in zip(segment_ids, names, strict=True)]
    if len(set(overrides.values())) != len(overrides):
        raise DataValidationError(
            f"parameter clustering.segment_names: expected a different name per segment id, "
            f"found {overrides!r}"
        )
    return [
        f"{name} ({sid})" if final.count(name) > 1 and int(sid) not in overrides else name
        for sid, name in zip(segment_ids, final, strict=True)
    ]


def applicable_rules(params: dict[str, Any], profiled: list[str]) -> list[dict[str, Any]]:
    """The rules of `clustering.actions` whose conditions name profiled columns only.

    A rule about columns this table does not have (the default rules name the Mall columns) is left
    out with a warning, so a new table runs before its own rules are written.
    """
    rules = []
    for position, rule in enumerate(params.get("actions") or []):
        if not isinstance(rule, dict) or "action" not in rule:
            raise DataValidationError(
                f"parameter clustering.actions[{position}]: expected {{when: {{column: level}}, "
                f"action: text}}, found {rule!r}"
            )
        absent = [c for c in rule.get("when") or {} if c not in profiled]
        if absent:
            logger.warning(
                "clustering.actions[%d] is left out: it names %s, which this table does not profile",
                position,
                ", ".join(absent),
            )
            continue
        rules.append(rule)
    return rules


def suggest_action(levels: dict[str, str], rules: list[dict[str, Any]], default: str) -> str:
    """The action of the first rule whose conditions all match the segment's levels, else `default`."""
    for rule in rules:
        conditions = rule.get("when") or {}
        if all(
            levels[c] in ([want] if isinstance(want, str) else list(want))
            for c, want in conditions.items()
        ):
            return str(rule["action"])
    return default

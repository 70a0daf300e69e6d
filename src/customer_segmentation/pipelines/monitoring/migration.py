"""Segment migration between two segmentations of the same customers: who moved from which segment
to which?

Segment ids are per model (1 = the largest segment of that model), so the same id in two versions need
not be the same group of customers. Old and new segments are therefore matched by centroid distance:
each segment's mean of the numeric columns both versions have, standardised over both versions, and
a one-to-one assignment that minimises the total distance (Hungarian method); with more old than
new segments the old ones left over are matched to their nearest new segment. Customers are matched
on the customer id: those only in the new version are "new customers", those only in the old one
"gone".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import linear_sum_assignment

from customer_segmentation.engine import is_spark
from customer_segmentation.models import UNASSIGNED
from customer_segmentation.plot_style import UNASSIGNED_COLOUR, segment_colours
from customer_segmentation.schema import schema_from_dict

NEW, GONE = "(new customers)", "(gone)"
FLOW_COLUMNS = [
    "from_segment_id", "from_segment", "to_segment_id", "to_segment", "customers",
    "share_of_from", "to_matched_segment",
]  # fmt: skip


def _pandas(table: Any, columns: list[str]) -> pd.DataFrame:
    """The columns migration needs, on the driver when the table is a Spark table."""
    if is_spark(table):
        return table.select(*columns).toPandas()
    return table[columns]


def _names(table: pd.DataFrame) -> dict[int, str]:
    first = table[["segment_id", "segment_name"]].drop_duplicates("segment_id")
    return dict(zip(first["segment_id"], first["segment_name"], strict=True))


def _segment_moments(
    table: pd.DataFrame, columns: list[str]
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Per segment (unassigned customers left out): customers, and sums and sums of squares of the
    columns; enough for the centroids and the pooled mean and spread without stacking the tables."""
    segments = table["segment_id"].to_numpy()  # small whole numbers: 0 (unassigned), 1 … k
    counts = np.bincount(segments)
    ids = np.flatnonzero(counts)
    ids = ids[ids != UNASSIGNED]
    sums, squares = {}, {}
    for column in columns:  # one column at a time: one float array per customer at most
        values = table[column].to_numpy(dtype=float)
        sums[column] = np.bincount(segments, weights=values)[ids]
        squares[column] = np.bincount(segments, weights=values * values)[ids]
    return (
        pd.Series(counts[ids], index=ids),
        pd.DataFrame(sums, index=ids),
        pd.DataFrame(squares, index=ids),
    )


def match_segments(
    previous: pd.DataFrame, current: pd.DataFrame, columns: list[str]
) -> list[dict[str, Any]]:
    """Pairs (previous segment, matched current segment, standardised centroid distance)."""
    (old_n, old_sum, old_sq), (new_n, new_sum, new_sq) = (
        _segment_moments(previous, columns),
        _segment_moments(current, columns),
    )
    count = old_n.sum() + new_n.sum()
    mean = (old_sum.sum() + new_sum.sum()) / count
    scale = np.sqrt((old_sq.sum() + new_sq.sum()) / count - mean**2).replace(0, 1)

    def centroids(n: pd.Series, sums: pd.DataFrame) -> np.ndarray:
        return ((sums.div(n, axis=0) - mean) / scale).to_numpy()

    old_centres, new_centres = centroids(old_n, old_sum), centroids(new_n, new_sum)
    distance = np.sqrt(((old_centres[:, None, :] - new_centres[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(distance)
    partner = dict(zip(rows, cols, strict=True))
    pairs = []
    for i, old_id in enumerate(old_n.index):  # the index: segment ids
        j = partner.get(i, int(np.argmin(distance[i])))
        pairs.append(
            {
                "previous_segment_id": int(old_id),
                "current_segment_id": int(new_n.index[j]),
                "centroid_distance": round(float(distance[i, j]), 4),
                "one_to_one": i in partner,
            }
        )
    if (previous["segment_id"] == UNASSIGNED).any() and (current["segment_id"] == UNASSIGNED).any():
        pairs.append({"previous_segment_id": UNASSIGNED, "current_segment_id": UNASSIGNED,
                      "centroid_distance": None, "one_to_one": True})  # fmt: skip
    return pairs


def _positions(previous_ids: pd.Series, current_ids: pd.Series) -> np.ndarray:
    """For each current id, its row among the previous ids (-1: not there). Ids that are all whole
    numbers written plainly ("7", not "007") are matched as integers by a sorted search (a few arrays
    of 8 bytes per customer); other ids by Arrow's hash lookup over the strings as stored (no Python
    string per id)."""
    previous, current = pa.array(previous_ids), pa.array(current_ids)
    plain = r"^(0|[1-9][0-9]{0,17})$"
    if not all(pc.all(pc.match_substring_regex(ids, plain)).as_py() for ids in (previous, current)):
        return pc.fill_null(pc.index_in(current, value_set=previous), -1).to_numpy()
    old = pc.cast(previous, pa.int64()).to_numpy()
    new = pc.cast(current, pa.int64()).to_numpy()
    if not len(old):
        return np.full(len(new), -1)
    order = np.argsort(old, kind="stable")
    old = old[order]  # sorted
    at = np.minimum(np.searchsorted(old, new), len(old) - 1)
    return np.where(old[at] == new, order[at], -1)


def _flows(previous: pd.DataFrame, current: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Customers per (previous segment, current segment), matched on the id without a join (the
    position of each current id among the previous ids). <NA> from = new, <NA> to = gone."""
    position = _positions(previous[id_column], current[id_column])
    old_segments = previous["segment_id"].to_numpy()
    new_segments = current["segment_id"].to_numpy()
    returning = position >= 0
    seen = np.zeros(len(previous), dtype=bool)
    seen[position[returning]] = True
    # each (from, to) pair as one small integer: segment id + 1, 0 = new (from) or gone (to)
    width = int(max(old_segments.max(initial=0), new_segments.max(initial=0))) + 2
    from_code = np.where(returning, old_segments[np.where(returning, position, 0)] + 1, 0)
    codes = np.concatenate(
        [from_code * width + new_segments + 1, (old_segments[~seen] + 1) * width]
    )
    counts = np.bincount(codes)
    pairs = np.flatnonzero(counts)
    flows = pd.DataFrame(
        {
            "from": pd.array(pairs // width - 1, dtype="Int64"),
            "to": pd.array(pairs % width - 1, dtype="Int64"),
            "customers": counts[pairs],
        }
    )
    flows.loc[pairs // width == 0, "from"] = pd.NA
    flows.loc[pairs % width == 0, "to"] = pd.NA
    return flows.rename(columns={"from": "from_segment_id", "to": "to_segment_id"})


def migrate_segments(
    previous_customers: pd.DataFrame,
    segmented_customers: Any,
    column_schema: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The migration table (customers from each previous segment to each current one, new and gone
    customers as their own rows) and the segment matching with its summary. With no previous complete
    run, or one that cannot be compared (other declared columns, no customer in both), both say so
    and are empty."""
    schema = schema_from_dict(column_schema)
    id_column = schema.id_column
    if previous_customers is None or previous_customers.empty:
        return _not_compared("no previous complete run of this environment: nothing to compare yet")
    previous_version = previous_customers.attrs.get("version")
    previous_columns = set(previous_customers.columns)
    missing = [c for c in (id_column, *schema.features) if c not in previous_columns]
    if missing:
        return _not_compared(
            f"not comparable: the previous run ({previous_version}) has no column "
            f"{', '.join(missing)} (its declared columns differ from this run's)",
            previous_version,
        )
    shared = [
        c for c in schema.numeric if c in previous_customers and c in segmented_customers.columns
    ]
    needed = [id_column, "segment_id", "segment_name"]
    previous = _pandas(previous_customers, needed + shared)
    current = _pandas(segmented_customers, needed + shared)
    for table in (previous, current):
        table["segment_id"] = table["segment_id"].astype(int)
        table[id_column] = table[id_column].astype("str")
    old_names, new_names = _names(previous), _names(current)
    pairs = match_segments(previous, current, shared)
    matched = {p["previous_segment_id"]: p["current_segment_id"] for p in pairs}
    for pair in pairs:
        pair["previous_segment"] = old_names[pair["previous_segment_id"]]
        pair["current_segment"] = new_names[pair["current_segment_id"]]

    flows = _flows(previous, current, id_column)
    flows["from_segment"] = flows["from_segment_id"].map(old_names).fillna(NEW)
    flows["to_segment"] = flows["to_segment_id"].map(new_names).fillna(GONE)
    totals = flows.groupby("from_segment_id", dropna=False)["customers"].transform("sum")
    flows["share_of_from"] = (flows["customers"] / totals).round(4)
    flows["to_matched_segment"] = [
        pd.notna(f) and pd.notna(t) and matched.get(int(f)) == int(t)
        for f, t in zip(flows["from_segment_id"], flows["to_segment_id"], strict=True)
    ]
    table = flows[FLOW_COLUMNS].sort_values(
        ["from_segment_id", "to_segment_id"], na_position="last", ignore_index=True
    )
    new_customers = int(table.loc[table["from_segment_id"].isna(), "customers"].sum())
    gone_customers = int(table.loc[table["to_segment_id"].isna(), "customers"].sum())
    in_both = len(current) - new_customers
    if not in_both:
        return _not_compared(
            f"not comparable: no {id_column} of this run is in the previous run "
            f"({previous_version}); {gone_customers:,} previous and {new_customers:,} current "
            "customers",
            previous_version,
            previous_customers=len(previous),
            current_customers=len(current),
            customers_in_both=0,
            new_customers=new_customers,
            gone_customers=gone_customers,
        )
    stayed = int(table.loc[table["to_matched_segment"], "customers"].sum())
    summary = {
        "status": "compared",
        "previous_version": previous_version,
        "method": (
            "segments matched by the distance between their centroids over "
            f"{', '.join(shared)} (standardised over both versions; one-to-one where the numbers "
            "of segments allow); customers matched on " + id_column
        ),
        "matched_on": shared,
        "pairs": pairs,
        "previous_customers": len(previous),
        "current_customers": len(current),
        "customers_in_both": in_both,
        "new_customers": new_customers,
        "gone_customers": gone_customers,
        "stayed_in_matched_segment": stayed,
        "stayed_share": round(stayed / in_both, 4) if in_both else None,
    }
    return table, summary


def _not_compared(
    status: str, previous_version: str | None = None, **counts: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """An empty migration table and a matching that says why nothing was compared."""
    return pd.DataFrame(columns=FLOW_COLUMNS), {
        "status": status,
        "previous_version": previous_version,
        "pairs": [],
        **counts,
    }


def plot_migration(segment_migration: pd.DataFrame, segment_matching: dict[str, Any]) -> go.Figure:
    """Sankey diagram: previous segments (left, with new customers) to current segments (right,
    with gone customers); flows into the matched segment are drawn darker."""
    if segment_migration.empty:
        figure = go.Figure()
        figure.add_annotation(text=segment_matching["status"], showarrow=False)
        return figure.update_layout(title="Segment migration")
    table = segment_migration.copy()
    left = list(dict.fromkeys(_label(table, "from")))
    right = list(dict.fromkeys(_label(table, "to")))
    labels = [f"previous: {name}" for name in left] + [f"current: {name}" for name in right]
    left_colours = _node_colours(table, "from", left)
    sources = [left.index(x) for x in _label(table, "from")]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 12,
                "thickness": 14,
                # each segment in its own colour (as in every plot); new and gone customers grey
                "color": left_colours + _node_colours(table, "to", right),
            },
            link={
                "source": sources,
                "target": [len(left) + right.index(x) for x in _label(table, "to")],
                "value": table["customers"].astype(int).tolist(),
                # in the colour of the segment the customers come from: strong where they stayed
                # in the matched segment, faint where they moved
                "color": [
                    _translucent(left_colours[source], 0.5 if stayed else 0.2)
                    for source, stayed in zip(sources, table["to_matched_segment"], strict=True)
                ],
            },
        )
    )
    stayed = segment_matching.get("stayed_share")
    return figure.update_layout(
        title=(
            "Segment migration: previous to current segmentation"
            + (
                f" ({stayed:.1%} of returning customers stayed in the matched segment)"
                if stayed is not None
                else ""
            )
        ),  # fmt: skip
        font={"size": 12},
    )


def _translucent(colour: str, alpha: float) -> str:
    """'#1f77b4' as 'rgba(31,119,180,0.5)'."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _node_colours(table: pd.DataFrame, side: str, nodes: list[str]) -> list[str]:
    """The colour of each node of one side: its segment id's colour (`segment_colours`), grey for
    a node without a segment (new customers, gone customers)."""
    ids = dict(zip(_label(table, side), table[f"{side}_segment_id"], strict=True))
    known = [int(i) for i in ids.values() if not pd.isna(i)]
    colours = segment_colours(known)
    return [UNASSIGNED_COLOUR if pd.isna(ids[node]) else colours[int(ids[node])] for node in nodes]


def _label(table: pd.DataFrame, side: str) -> list[str]:
    ids, names = table[f"{side}_segment_id"], table[f"{side}_segment"]
    return [
        name if pd.isna(i) else f"{int(i)} · {name}" for i, name in zip(ids, names, strict=True)
    ]

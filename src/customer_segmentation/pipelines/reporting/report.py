"""The self-contained HTML segment report: a Jinja2 template filled with the run's results."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from customer_segmentation.models import ALGORITHM_NAMES
from customer_segmentation.plot_style import human_number, segment_colours
from customer_segmentation.schema import Schema, schema_from_dict

BAR_HALF_WIDTH = 40  # px; a z-score of ±2 fills half the bar
Z_FULL_SCALE = 2.0
CATEGORIES_ON_A_CARD = 4
EMPTY_SHARE = 0.005  # a category below this share of everyone, absent from a segment, is left off


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("customer_segmentation", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    environment.filters["thousands"] = lambda n: f"{int(n):,}"
    environment.filters["number"] = human_number  # '46', '37.2', '1,250', '0.372'
    environment.filters["signed"] = lambda n: ("+" if n > 0 else "") + human_number(n)
    environment.filters["algorithm"] = lambda name: ALGORITHM_NAMES.get(name, name)
    environment.filters["status"] = _status_text
    environment.filters["version_date"] = _version_date
    return environment


def _version_date(version: str | None) -> str:
    """A Kedro version ('2026-12-03T00.16.07.268Z') as people write a time: '3 Dec 2026, 00:16 UTC'."""
    if not version:
        return "an earlier run"
    try:
        moment = datetime.datetime.strptime(version, "%Y-%m-%dT%H.%M.%S.%fZ")
    except ValueError:
        return version
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _status_text(status: str) -> str:
    """'not run (no categorical features declared)' -> 'not run: no categorical features declared'."""
    for word in ("not run", "failed"):
        if status.startswith(f"{word} (") and status.endswith(")"):
            return f"{word}: {status[len(word) + 2 : -1]}"
    return status


def _figure_html(name: str, png: bytes | None) -> Markup:
    if not png:
        return Markup("")
    encoded = base64.b64encode(png).decode("ascii")
    alt = name.removesuffix("_plot").replace("_", " ")
    return Markup(
        '<div class="figure"><img alt="{}" data-plot="{}" src="data:image/png;base64,{}"></div>'
    ).format(alt, name, encoded)


def _numeric_rows(row: dict[str, Any], schema: Schema, columns: list[str]) -> list[dict[str, Any]]:
    rows = []
    for column in columns:
        z = max(-Z_FULL_SCALE, min(Z_FULL_SCALE, row[f"z_{column}"]))
        width = abs(z) / Z_FULL_SCALE * BAR_HALF_WIDTH
        rows.append(
            {
                "label": schema.axis_label(column),
                "mean": row[f"mean_{column}"],
                "population": row[f"mean_{column}"] - row[f"diff_{column}"],
                "diff": row[f"diff_{column}"],
                "z": row[f"z_{column}"],
                "bar_left": round(BAR_HALF_WIDTH - width if z < 0 else BAR_HALF_WIDTH, 1),
                "bar_width": round(width, 1),
            }
        )
    return rows


def _category_columns(profiles: pd.DataFrame, schema: Schema) -> dict[str, dict[str, str]]:
    """{categorical column: {category: profile column}} from the `share_<column>_<category>` columns
    (longer column names claim first, so 'card' does not take the shares of 'card_tier')."""
    unclaimed = [c for c in profiles.columns if c.startswith("share_")]
    found: dict[str, dict[str, str]] = {}
    for column in sorted(schema.categorical, key=len, reverse=True):
        prefix = f"share_{column}_"
        found[column] = {c.removeprefix(prefix): c for c in unclaimed if c.startswith(prefix)}
        unclaimed = [c for c in unclaimed if c not in found[column].values()]
    return {c: found[c] for c in schema.categorical if found[c]}


def _category_rows(
    row: dict[str, Any], profiles: pd.DataFrame, schema: Schema
) -> list[dict[str, Any]]:
    """Per profiled categorical column: its most common categories in the segment vs everyone."""
    weights = profiles["size"] / profiles["size"].sum()
    rows = []
    for column, shares in _category_columns(profiles, schema).items():
        everyone = {c: float((profiles[share] * weights).sum()) for c, share in shares.items()}
        top = sorted(shares, key=lambda category: (-row[shares[category]], category))
        # a category no customer of the segment has and almost nobody has at all ("Unknown 0 %
        # (all 0 %)") says nothing
        top = [c for c in top if row[shares[c]] > 0 or everyone[c] >= EMPTY_SHARE]
        rows.append(
            {
                "label": schema.label(column),
                "categories": [
                    {
                        "category": category,
                        "share": row[shares[category]],
                        "population": everyone[category],
                    }
                    for category in top[:CATEGORIES_ON_A_CARD]
                ],
            }
        )
    return rows


def _segment_cards(profiles: pd.DataFrame, schema: Schema) -> list[dict[str, Any]]:
    colours = segment_colours(profiles["segment_id"].tolist())
    # a column whose mean is the same in every segment (a return rate of 0 throughout) is left
    # off the cards: it tells no segment apart
    numeric = [
        c.removeprefix("z_")
        for c in profiles.columns
        if c.startswith("z_") and profiles[f"mean_{c.removeprefix('z_')}"].nunique() > 1
    ]
    return [
        {
            **row,
            "colour": colours[int(row["segment_id"])],
            "profile": _numeric_rows(row, schema, numeric),
            "categories": _category_rows(row, profiles, schema),
        }
        for row in profiles.to_dict(orient="records")
    ]


NO_MIGRATION = {"status": "no earlier segmentation to compare with", "pairs": []}
SUMMARY_FIGURES = 3  # the figures that set a segment apart, on the summary's row


def _summary_rows(
    profiles: pd.DataFrame, schema: Schema, value_column: str | None
) -> list[dict[str, Any]]:
    """The summary's row per segment: name, colour, customers, share, the figures that set it
    apart most (largest |z|, in the data's units, against everyone), and its value: the total of
    `value_column` (spend) and that total's share of all customers' total."""
    colours = segment_colours(profiles["segment_id"].tolist())
    numeric = [c.removeprefix("z_") for c in profiles.columns if c.startswith("z_")]
    total = None
    if value_column in numeric:
        totals = profiles[f"mean_{value_column}"] * profiles["size"]
        total = float(totals.sum())
    rows = []
    for row in profiles.to_dict(orient="records"):
        apart = sorted(numeric, key=lambda c: -abs(row[f"z_{c}"]))[:SUMMARY_FIGURES]
        figures = []
        for column in apart:
            unit = schema.column(column).unit if column in schema.names else None
            mean, diff = row[f"mean_{column}"], row[f"diff_{column}"]
            figures.append(
                {
                    "label": schema.label(column),
                    "value": human_number(mean, unit),
                    "all": human_number(mean - diff, unit),
                    "higher": diff > 0,
                }
            )
        value = None
        if total is not None:
            amount = float(row[f"mean_{value_column}"] * row["size"])
            unit = schema.column(value_column).unit
            value = {
                "total": human_number(round(amount), unit),
                "share": f"{100 * amount / total:.0f} %" if total else "n/a",
            }
        rows.append(
            {
                "segment_id": int(row["segment_id"]),
                "name": row["segment_name"],
                "colour": colours[int(row["segment_id"])],
                "customers": int(row["size"]),
                "share": f"{100 * row['share']:.0f} %",
                "figures": figures,
                "value": value,
                "action": row["suggested_action"],
            }
        )
    return rows


def build_segment_report(
    data_quality_report: dict[str, Any],
    k_selection: dict[str, Any],
    segment_profiles: pd.DataFrame,
    column_schema: dict[str, Any],
    algorithm_comparison: pd.DataFrame,
    algorithm_choice: dict[str, Any],
    params: dict[str, Any],
    segment_matching: dict[str, Any] | None = None,
    segment_migration_plot: go.Figure | None = None,
    line_accounting: dict[str, Any] | None = None,
    rfm_summary: dict[str, Any] | None = None,
    **figures: bytes,
) -> str:
    """One self-contained HTML page: first the summary (the segments in one table: who they are, how
    many, what sets them apart, their value, what to do; the k decision in one sentence), then data
    quality, how k was chosen, which algorithm and why, a card per segment, the plots;
    with an order log, also where its lines went and the RFM segments beside the K-Means segments.

    `figures` are PNG bytes by plot dataset name; they are embedded as data URIs, so the file opens
    without network access. The segment migration Sankey is embedded as an interactive plotly figure
    with plotly.js inline (once there is a previous segmentation to compare with). Every column is named by its declared label and unit.
    """
    schema = schema_from_dict(column_schema)
    template = _environment().get_template("segment_report.html.j2")
    features = [
        (f"{schema.transform(f)} " if schema.transform(f) != "none" else "") + schema.axis_label(f)
        for f in schema.features
    ]
    value_column = params.get("value_column")
    return template.render(
        title=params["report_title"],
        summary=_summary_rows(segment_profiles, schema, value_column),
        value_label=schema.label(value_column) if value_column in schema.names else None,
        quality=data_quality_report,
        selection=k_selection,
        features=features,
        profiles=segment_profiles.to_dict(orient="records"),
        segments=_segment_cards(segment_profiles, schema),
        comparison=algorithm_comparison.to_dict(orient="records"),
        choice=algorithm_choice,
        line_accounting=line_accounting,
        rfm=rfm_summary,
        figure=lambda name: _figure_html(name, figures.get(name)),
        matching=segment_matching or NO_MIGRATION,
        matched_on=[
            schema.axis_label(c)
            for c in (segment_matching or {}).get("matched_on") or schema.features
        ],
        migration_html=Markup(
            segment_migration_plot.to_html(full_html=False, include_plotlyjs=True)
            if segment_migration_plot is not None and (segment_matching or {}).get("pairs")
            else ""
        ),
    )

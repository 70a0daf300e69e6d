"""The self-contained HTML segment report: a Jinja2 template filled with the run's results."""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from customer_segmentation.plot_style import segment_colours

PROFILED = ["annual_income_k", "spending_score", "age"]
CARD_LABELS = {
    "annual_income_k": "income (k$)",
    "spending_score": "spending score",
    "age": "age (years)",
}
BAR_HALF_WIDTH = 40  # px; a z-score of ±2 fills half the bar
Z_FULL_SCALE = 2.0


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("customer_segmentation", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    environment.filters["thousands"] = lambda n: f"{int(n):,}"
    return environment


def _figure_html(name: str, png: bytes | None) -> Markup:
    if not png:
        return Markup("")
    encoded = base64.b64encode(png).decode("ascii")
    alt = name.removesuffix("_plot").replace("_", " ")
    return Markup(
        '<div class="figure"><img alt="{}" data-plot="{}" src="data:image/png;base64,{}"></div>'
    ).format(alt, name, encoded)


def _segment_cards(profiles: pd.DataFrame) -> list[dict[str, Any]]:
    colours = segment_colours(profiles["segment_id"].tolist())
    cards = []
    for row in profiles.to_dict(orient="records"):
        profile = []
        for column in [c for c in PROFILED if f"mean_{c}" in row]:
            z = max(-Z_FULL_SCALE, min(Z_FULL_SCALE, row[f"z_{column}"]))
            width = abs(z) / Z_FULL_SCALE * BAR_HALF_WIDTH
            profile.append(
                {
                    "label": CARD_LABELS[column],
                    "mean": row[f"mean_{column}"],
                    "population": row[f"mean_{column}"] - row[f"diff_{column}"],
                    "diff": row[f"diff_{column}"],
                    "z": row[f"z_{column}"],
                    "bar_left": round(BAR_HALF_WIDTH - width if z < 0 else BAR_HALF_WIDTH, 1),
                    "bar_width": round(width, 1),
                }
            )
        cards.append(
            {
                **row,
                "colour": colours[int(row["segment_id"])],
                "profile": profile,
                "share_female": row.get("share_female"),
            }
        )
    return cards


def build_segment_report(
    data_quality_report: dict[str, Any],
    k_selection: dict[str, Any],
    segment_profiles: pd.DataFrame,
    params: dict[str, Any],
    **figures: bytes,
) -> str:
    """One self-contained HTML page: data quality, how k was chosen, a card per segment, the plots.

    `figures` are PNG bytes by plot dataset name; they are embedded as data URIs, so the file opens
    without network access.
    """
    template = _environment().get_template("segment_report.html.j2")
    return template.render(
        title=params["report_title"],
        quality=data_quality_report,
        selection=k_selection,
        profiles=segment_profiles.to_dict(orient="records"),
        segments=_segment_cards(segment_profiles),
        figure=lambda name: _figure_html(name, figures.get(name)),
    )

"""Unit tests of the reporting plots and the HTML report on small tables built here."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from customer_segmentation.models import OrderedKMeans
from customer_segmentation.pipelines.reporting import eda_plots, segment_plots
from customer_segmentation.pipelines.reporting.report import build_segment_report
from customer_segmentation.plot_style import human_number, sample_rows, segment_colours
from customer_segmentation.schema import schema_from_params

SEGMENT_NAMES = {
    1: "Mid income · Moderate spending · Middle-aged",
    2: "High income · Low spending · Older",
    3: "Low income · High spending · Young",
}


def segmented_table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    segment = rng.integers(1, 4, n)
    frame = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "age": (30 + 10 * segment + rng.normal(0, 3, n)).round(),
            "annual_income_k": (20 + 30 * segment + rng.normal(0, 5, n)).round(),
            "spending_score": (90 - 25 * segment + rng.normal(0, 5, n)).round().clip(1, 100),
            "segment_id": segment,
        }
    )
    frame["segment_name"] = frame["segment_id"].map(SEGMENT_NAMES)
    return frame


def profiles_of(segmented: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for segment_id, members in segmented.groupby("segment_id"):
        row = {
            "segment_id": segment_id,
            "segment_name": SEGMENT_NAMES[segment_id],
            "suggested_action": f"action {segment_id}",
            "size": len(members),
            "share": len(members) / len(segmented),
            "share_gender_Female": (members["gender"] == "Female").mean(),
            "share_gender_Male": (members["gender"] == "Male").mean(),
        }
        for column in ("age", "annual_income_k", "spending_score"):
            mean, population = members[column].mean(), segmented[column].mean()
            row.update(
                {
                    f"mean_{column}": mean,
                    f"diff_{column}": mean - population,
                    f"z_{column}": (mean - population) / segmented[column].std(ddof=0),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def rp(parameters):
    return parameters["reporting"]


def legend_labels(figure: Figure) -> list[str]:
    legends = [a.get_legend() for a in figure.axes if a.get_legend()] + figure.legends
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def test_segment_colours_are_stable_per_id():
    assert segment_colours([3, 1, 2]) == segment_colours([1, 2, 3])
    assert len(set(segment_colours(list(range(1, 11))).values())) == 10


def test_sampling_engages_above_max_points_and_says_so():
    frame = pd.DataFrame({"a": range(100)})
    same, note = sample_rows(frame, 200, 0)
    assert len(same) == 100 and note == ""
    sampled, note = sample_rows(frame, 30, 0)
    assert len(sampled) == 30 and note == " (random sample of 30 of 100 customers)"
    assert sampled.index.equals(sample_rows(frame, 30, 0)[0].index)


def test_eda_plots_have_labelled_axes(rp, column_schema):
    customers = segmented_table(300).drop(columns=["segment_id", "segment_name"])
    distributions = eda_plots.plot_distributions(customers, column_schema, rp)
    assert [a.get_xlabel() for a in distributions.axes[:4]] == [
        "age (years)",
        "annual income (k$)",
        "spending score (1–100)",
        "age (years), grouped",
    ]
    assert sum(p.get_height() for p in distributions.axes[3].patches) == 300
    categories = eda_plots.plot_category_counts(customers, column_schema)
    assert categories.axes[0].get_xlabel() == "gender"
    assert sum(p.get_height() for p in categories.axes[0].patches) == 300
    pairs = eda_plots.plot_pair_plot(customers, column_schema, rp)
    assert len(pairs.axes) == 9
    # every row is labelled with its column on the left, the first one included; a histogram's
    # counts are on its right
    rows = [
        pairs.axes[0].texts[0].get_text(),
        pairs.axes[3].get_ylabel(),
        pairs.axes[6].get_ylabel(),
    ]
    assert rows == ["annual income (k$)", "spending score (1–100)", "age (years)"]
    assert all(pairs.axes[i].yaxis.get_label_position() == "right" for i in (0, 4, 8))
    heatmap = eda_plots.plot_correlation_heatmap(customers, column_schema)
    assert "Correlation" in heatmap.axes[0].get_title()


def test_segment_plots_name_segments_with_one_colour_each(rp, column_schema):
    segmented = segmented_table(600)
    profiles = profiles_of(segmented)
    scatter = segment_plots.plot_segment_scatter(segmented, profiles, column_schema, rp)
    assert legend_labels(scatter) == [f"{i}. {n}" for i, n in SEGMENT_NAMES.items()]
    colours = segment_colours([1, 2, 3])
    collections = scatter.axes[0].collections[::2]
    assert [c.get_facecolor()[0][:3].round(3).tolist() for c in collections] == [
        [round(int(colours[i][k : k + 2], 16) / 255, 3) for k in (1, 3, 5)] for i in (1, 2, 3)
    ]
    # default axes: the first two features
    assert scatter.axes[0].get_xlabel() == "annual income (k$)"
    assert scatter.axes[0].get_ylabel() == "spending score (1–100)"
    boxplots = segment_plots.plot_segment_boxplots(segmented, profiles, column_schema)
    assert legend_labels(boxplots) == legend_labels(scatter)
    sizes = segment_plots.plot_segment_sizes(profiles)
    assert [t.get_text() for t in sizes.axes[0].get_yticklabels()] == legend_labels(scatter)
    heatmap = segment_plots.plot_profile_heatmap(profiles, column_schema)
    assert heatmap.axes[0].get_images()[0].get_array().shape == (3, 3)


def test_silhouette_bands_keep_each_segments_colour(rp):
    segmented = segmented_table(600)
    features = segmented.set_index("customer_id")[["annual_income_k", "spending_score"]]
    features = (features - features.mean()) / features.std()
    model = Pipeline([("features", "passthrough"), ("segments", OrderedKMeans(3, random_state=0))])
    model.fit(features)
    rp["silhouette_sample_size"] = 400  # a seeded sample of 400 of the 600 customers
    figure = segment_plots.plot_silhouette(features, model, profiles_of(segmented), rp)
    axes = figure.axes[0]
    colours = segment_colours([1, 2, 3])
    bands = axes.collections
    assert len(bands) == 3
    for band, segment_id in zip(bands, (1, 2, 3), strict=True):
        expected = [int(colours[segment_id][k : k + 2], 16) / 255 for k in (1, 3, 5)]
        assert band.get_facecolor()[0][:3] == pytest.approx(expected, abs=0.01)
    assert [t.get_text() for t in axes.get_yticklabels()] == ["1", "2", "3"]
    assert sum(len(band.get_paths()[0].vertices) > 0 for band in bands) == 3
    assert "random sample of 400 of 600 customers" in axes.get_title()
    assert legend_labels(figure)[:3] == [f"{i}. {n}" for i, n in SEGMENT_NAMES.items()]


def test_pca_axis_titles_give_explained_variance(rp, column_schema):
    segmented = segmented_table(400)
    features = segmented.set_index("customer_id")[["annual_income_k", "spending_score"]]
    features = (features - features.mean()) / features.std()
    figure = segment_plots.plot_pca(features, segmented, profiles_of(segmented), column_schema, rp)
    assert re.fullmatch(r"PC1 \(\d+\.\d% of variance\)", figure.axes[0].get_xlabel())


def test_customers_at_zero_on_a_log_axis_are_spread_and_counted(rp):
    """449 dormant cards at (0, 0) of a log-scale scatter would hide under one marker: they are
    spread over a band around 0 and each axis states the share at 0."""
    schema = schema_from_params(
        {
            "columns": [
                {"name": "id", "role": "id"},
                {"name": "purchases", "role": "numeric", "unit": "$"},
                {"name": "cash_advance", "role": "numeric", "label": "cash advance", "unit": "$"},
            ],
            "features": ["purchases", "cash_advance"],
            "transforms": {"purchases": "log1p", "cash_advance": "log1p"},
        }
    ).to_dict()
    rng = np.random.default_rng(0)
    active = rng.lognormal(6, 1, (60, 2))
    segmented = pd.DataFrame(
        {
            "id": [str(i) for i in range(100)],
            "purchases": np.r_[active[:, 0], np.zeros(40)],
            "cash_advance": np.r_[np.zeros(20), active[20:, 1], np.zeros(40)],
            "segment_id": [1] * 60 + [2] * 40,
        }
    )
    profiles = pd.DataFrame(
        {"segment_id": [1, 2], "segment_name": ["Active", "Dormant"], "size": [60, 40]}
    )
    figure = segment_plots.plot_segment_scatter(segmented, profiles, schema, rp)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "purchases ($) · 40% at 0 (spread around 0)"
    assert axes.get_ylabel() == "cash advance ($) · 60% at 0 (spread around 0)"
    dormant = axes.collections[2].get_offsets()  # segment 2's points (1: points, centre; 2: ...)
    assert len(dormant) == 40 and len({tuple(point) for point in dormant}) == 40
    assert np.abs(dormant).max() <= segment_plots.ZERO_BAND


def test_3d_scatter_is_interactive_and_samples_large_tables(rp, column_schema):
    segmented = segmented_table(3_000)
    features = segmented.set_index("customer_id")[["annual_income_k", "spending_score"]]
    rp["max_points"] = 1_000
    figure = segment_plots.plot_segments_3d(
        segmented, features, profiles_of(segmented), column_schema, rp
    )
    assert isinstance(figure, go.Figure)
    assert [trace.name for trace in figure.data] == [f"{i}. {n}" for i, n in SEGMENT_NAMES.items()]
    assert sum(len(trace.x) for trace in figure.data) == 1_000
    assert "random sample of 1,000 of 3,000 customers" in figure.layout.title.text
    # two features: the third axis is the next declared numeric column
    scene = figure.layout.scene
    assert (scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text) == (
        "annual income (k$)",
        "spending score (1–100)",
        "age (years)",
    )


def test_3d_view_uses_principal_components_above_three_features(rp, column_schema):
    segmented = segmented_table(500)
    rng = np.random.default_rng(1)
    features = pd.DataFrame(
        rng.normal(size=(500, 4)), index=segmented["customer_id"], columns=list("abcd")
    )
    figure = segment_plots.plot_segments_3d(
        segmented, features, profiles_of(segmented), column_schema, rp
    )
    assert figure.layout.scene.xaxis.title.text.startswith("PC1 (")
    assert "principal components" in figure.layout.title.text


def test_report_has_quality_choice_and_one_card_per_segment(rp, column_schema):
    segmented = segmented_table(300)
    profiles = profiles_of(segmented)
    quality = {
        "source_file": "data/01_raw/x.csv",
        "rows_in": 302,
        "rows_kept": 300,
        "rows_quarantined": 2,
        "accounting": "302 in = 300 kept + 2 quarantined",
        "accounting_holds": True,
        "quarantined_by_reason": {"age not between 0 and 120": 2},
        "values_imputed": {},
    }
    selection = {
        "k": 3,
        "policy": "consensus",
        "reason": "3 of 5 criteria agree <b>.",
        "picks": {"elbow": None, "silhouette": 3, "davies_bouldin": 3},
        "criteria": {
            "silhouette": {"k": 3, "value": 0.41, "runner_up": 2, "runner_up_value": 0.33,
                           "noise": 0.014, "decides": True},
            "davies_bouldin": {"k": 3, "value": 1.3406, "runner_up": 2,
                               "runner_up_value": 1.3515, "noise": 0.0454, "decides": False},
        },
    }  # fmt: skip
    rp["report_title"] = "Spring campaign segments"
    comparison = pd.DataFrame(
        [
            {"algorithm": "kmeans", "status": "ok", "k": 3, "fit_rows": 300, "customers": 300,
             "silhouette": 0.61, "calinski_harabasz": 900.0, "davies_bouldin": 0.5,
             "stability": 0.97, "share_unassigned": 0.0, "smallest_segment_share": 0.2,
             "fit_seconds": 0.02, "peak_memory_mib": 1.0, "bic_k": None},
            {"algorithm": "hdbscan", "status": "not run (not in comparison.run)",
             "fit_rows": 300, "customers": 300},
        ]
    )  # fmt: skip
    choice = {"algorithm": "kmeans", "rule": "the rule", "rule_pick": "kmeans",
              "reason": "Segments made by k-means (set by clustering.algorithm)"}  # fmt: skip
    html = build_segment_report(
        quality,
        selection,
        profiles,
        column_schema,
        comparison,
        choice,
        rp,
        elbow_plot=b"\x89PNG fake",
        pca_plot=b"\x89PNG other",
    )
    assert "<title>Spring campaign segments</title>" in html
    assert html.count('class="segment-card"') == 3
    assert "action 2" in html and SEGMENT_NAMES[3] in html
    assert "age not between 0 and 120" in html and "holds" in html
    assert "&lt;b&gt;" in html  # text is escaped
    choice_of_k = html[html.index('id="choice-of-k"') : html.index('id="which-algorithm"')]
    assert '<td>elbow</td><td class="num">no knee</td>' in choice_of_k
    assert "1.341 vs 1.351" in choice_of_k and "abstains: within noise" in choice_of_k
    assert "0.41 vs 0.33" in choice_of_k and choice_of_k.count("<td>votes</td>") == 1
    assert html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    assert "Segmented on annual income (k$), spending score (1–100)" in html
    assert html.count("<strong>gender:</strong>") == 3  # category shares on every card
    assert "annual income (k$)</td>" in html
    which = html[html.index('id="which-algorithm"') : html.index('id="segments"')]
    assert '<p class="reason">Segments made by k-means (set by clustering.algorithm).' in which
    assert '<tr class="chosen"><td>k-means' in which and "0.610" in which
    assert '<td class="num">3</td>' in which  # k as a whole number, never 3.0
    assert "HDBSCAN <em>(not run: not in comparison.run)</em>" in which


def test_the_report_opens_with_the_summary_in_the_datas_units(rp, column_schema):
    """The first section is the summary: one row per segment with its customers and share, the
    three figures that set it apart in their units against everyone, the value column's total and
    share, the action; then the k decision in one sentence and links to the details."""
    segmented = segmented_table(300)
    profiles = profiles_of(segmented)
    quality = {"source_file": "x.csv", "rows_in": 300, "rows_kept": 300, "rows_quarantined": 0,
               "accounting": "300 in = 300 kept", "accounting_holds": True,
               "quarantined_by_reason": {}, "values_imputed": {}}  # fmt: skip
    selection = {"k": 3, "policy": "consensus", "reason": "k = 3 (near tie with 2: …).",
                 "picks": {"elbow": 3}}  # fmt: skip
    comparison = pd.DataFrame([{"algorithm": "kmeans", "status": "not run", "fit_rows": 300,
                                "customers": 300}])  # fmt: skip
    choice = {"algorithm": "kmeans", "rule": "r", "rule_pick": None, "reason": "Segments made"}
    rp = {**rp, "value_column": "annual_income_k"}
    html = build_segment_report(quality, selection, profiles, column_schema, comparison, choice, rp)
    sections = re.findall(r'<section id="([a-z-]+)"', html)
    assert sections[0] == "summary" and sections[1] == "data-quality"
    summary = html[html.index('id="summary"') : html.index('id="data-quality"')]
    assert "<strong>3 segments.</strong> k = 3 (near tie with 2: …)." in summary
    rows = re.findall(r'<tr data-segment="(\d+)">(.*?)</tr>', summary, flags=re.S)
    assert [int(sid) for sid, _ in rows] == profiles["segment_id"].tolist()
    first = profiles.iloc[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', rows[0][1])
    total = first["mean_annual_income_k"] * first["size"]
    everyone = (profiles["mean_annual_income_k"] * profiles["size"]).sum()
    assert cells[:2] == [f"{first['size']:,}", f"{100 * first['share']:.0f} %"]
    assert cells[2:] == [f"{round(total):,} k$", f"{100 * total / everyone:.0f} %"]
    assert f"spending score {first['mean_spending_score']:.1f}".rstrip("0") in rows[0][1]
    assert rows[0][1].count(" · ") >= 2 and "action 1" in rows[0][1]
    assert '<a href="#segment-1">' in rows[0][1] and '<a href="#choice-of-k">' in summary


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(42.0545, None, "42.1"), (1250.0, "$", "$1,250"), (-3.5, "£", "-£3.5"), (0.37219, None,
     "0.372"), (7.0, "days", "7 days"), (12.349, "k$", "12.3 k$"), (59.04, "1–100", "59/100"),
     (float("nan"), None, "n/a")],
)  # fmt: skip
def test_numbers_are_written_for_people(value, unit, text):
    assert human_number(value, unit) == text


def test_report_cards_tell_categorical_columns_with_shared_prefixes_apart(rp):
    schema = schema_from_params(
        {
            "columns": [
                {"name": "id", "role": "id"},
                {"name": "spend", "role": "numeric"},
                {"name": "card", "role": "categorical", "label": "card"},
                {"name": "card_tier", "role": "categorical", "label": "card tier"},
            ],
            "features": ["spend"],
        }
    ).to_dict()
    profiles = pd.DataFrame(
        {
            "segment_id": [1, 2],
            "segment_name": ["A", "B"],
            "suggested_action": ["a", "b"],
            "size": [30, 10],
            "share": [0.75, 0.25],
            "mean_spend": [5.0, 1.0],
            "diff_spend": [1.0, -3.0],
            "z_spend": [0.5, -1.5],
            "share_card_Visa": [1.0, 0.0],
            "share_card_Amex": [0.0, 1.0],
            "share_card_tier_Gold": [0.2, 0.9],
            "share_card_tier_Classic": [0.8, 0.1],
            "share_card_tier_Unknown": [0.0, 0.0],  # nobody: left off the cards
            "mean_returns": [0.0, 0.0],  # the same in every segment: left off the cards
            "diff_returns": [0.0, 0.0],
            "z_returns": [0.0, 0.0],
        }
    )
    html = build_segment_report(
        {"source_file": "x", "rows_in": 40, "rows_kept": 40, "rows_quarantined": 0,
         "accounting": "40 in = 40 kept + 0 quarantined", "accounting_holds": True,
         "quarantined_by_reason": {}, "values_imputed": {}},
        {"k": 2, "policy": "fixed", "reason": "fixed", "picks": {}},
        profiles, schema, pd.DataFrame(columns=["algorithm", "status"]),
        {"algorithm": "kmeans", "reason": "r", "rule": "r", "rule_pick": None}, rp,
    )  # fmt: skip
    card_a = html[html.index('id="segment-1"') : html.index('id="segment-2"')]
    assert "<strong>card:</strong>\n        Visa 100 %" in card_a
    assert "<strong>card tier:</strong>\n        Classic 80 %" in card_a
    assert "tier_Gold" not in html and "(all 38 %)" in card_a  # Gold: (0.2·30 + 0.9·10) / 40
    cards = html[html.index('id="segments"') :]
    assert "Unknown" not in cards and "<td>returns</td>" not in cards
    assert "<td>spend</td>" in cards

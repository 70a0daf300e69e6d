"""Unit tests of the monitoring nodes: drift measures and segment migration."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from customer_segmentation.pipelines.monitoring.drift import (
    DriftError,
    check_drift,
    measure_drift,
    plot_drift,
    population_stability_index,
)
from customer_segmentation.pipelines.monitoring.migration import (
    GONE,
    NEW,
    migrate_segments,
    plot_migration,
)
from customer_segmentation.plot_style import UNASSIGNED_COLOUR, segment_colours
from customer_segmentation.schema import schema_from_params
from tests.conftest import load_parameters

PARAMS = load_parameters()["monitoring"]["drift"]


@pytest.fixture(scope="module")
def column_schema() -> dict:
    return schema_from_params(load_parameters()["data_processing"]).to_dict()


class FittedOn:
    """Stands in for the transformer step: the model's feature names are all drift needs of it."""

    feature_names_in_ = np.array(["annual_income_k", "spending_score"])


MODEL = Pipeline([("features", FittedOn())])


def customers(n: int, seed: int, income_shift: float = 0.0, first_id: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    segment = rng.integers(1, 4, n)
    return pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(first_id, first_id + n)],
            "gender": rng.choice(["Female", "Male"], n),
            "age": rng.integers(18, 70, n).astype(float),
            "annual_income_k": rng.normal(20 * segment, 5) + income_shift,
            "spending_score": rng.normal(30 * segment - 10, 6),
            "segment_id": segment,
            "segment_name": [f"segment {s}" for s in segment],
            "distance_to_centroid": np.abs(rng.normal(0, 1, n)) + income_shift / 10,
        }
    )


def test_psi_is_zero_for_equal_shares_and_grows_with_the_difference():
    assert population_stability_index(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0
    small = population_stability_index(np.array([0.5, 0.5]), np.array([0.45, 0.55]))
    large = population_stability_index(np.array([0.5, 0.5]), np.array([0.1, 0.9]))
    assert 0 < small < PARAMS["thresholds"]["psi_watch"]
    assert large > PARAMS["thresholds"]["psi_act"]


def test_a_shifted_feature_drifts_and_the_others_do_not(column_schema):
    training = customers(3000, seed=1)
    report = measure_drift(training, customers(2000, 2, income_shift=15), MODEL, column_schema,
                           PARAMS)  # fmt: skip
    income, score = report["features"]["annual_income_k"], report["features"]["spending_score"]
    assert income["status"] == "act" and income["psi"] > 0.25 and income["ks_p_value"] < 0.01
    assert score["status"] == "stable" and score["psi"] < 0.1
    assert report["drifting_features"] == {"annual_income_k": "act"}
    assert report["far_from_centroids"]["batch_share"] > 0.15
    assert report["status"] == "act"
    same = measure_drift(training, customers(2000, 3), MODEL, column_schema, PARAMS)
    assert same["status"] == "stable" and same["drifting_features"] == {}
    assert same["far_from_centroids"]["batch_share"] < 0.03
    assert set(same["segment_mix"]["batch_share"]) == {1, 2, 3}
    assert (
        plot_drift(report, column_schema)
        .texts[0]
        .get_text()
        .startswith("Drift of 2000 new customers: act")
    )


def test_a_small_batch_is_not_called_drifting_by_chance(column_schema):
    training = customers(3000, seed=1)
    small = customers(30, seed=4)
    report = measure_drift(training, small, MODEL, column_schema, PARAMS)
    psi = report["features"]["spending_score"]["psi"]
    assert report["features"]["spending_score"]["status"] == "stable", psi  # KS does not confirm
    # the plot says so: such a bar is hatched in the colour of the line it crosses, never a plain
    # "stable" green past the line, and a note explains the KS gate
    watch = PARAMS["thresholds"]["psi_watch"]
    gated = [
        n for n, f in report["features"].items() if f["psi"] >= watch and f["status"] == "stable"
    ]
    assert "spending_score" in gated
    figure = plot_drift(report, column_schema)
    assert len([bar for bar in figure.axes[0].patches if bar.get_hatch()]) == len(gated)
    assert any("KS test does not confirm" in text.get_text() for text in figure.texts)


def test_check_drift_warns_and_strict_fails(column_schema, caplog):
    report = measure_drift(customers(3000, 1), customers(2000, 2, income_shift=15), MODEL,
                           column_schema, PARAMS)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        check_drift(report, PARAMS)
    assert "annual_income_k (PSI" in caplog.text and "spending_score" not in caplog.text
    with pytest.raises(DriftError, match="annual_income_k"):
        check_drift(report, {**PARAMS, "strict": True})


def test_an_empty_batch_is_a_clear_error(column_schema):
    with pytest.raises(ValueError, match="scored batch is empty"):
        measure_drift(customers(100, 1), customers(0, 2), MODEL, column_schema, PARAMS)


def test_migration_matches_segments_by_centroid_not_by_id(column_schema):
    previous = customers(300, seed=5)
    current = previous.copy()
    # the new model numbers the same three groups differently; 10 customers move; some come and go
    current["segment_id"] = current["segment_id"].map({1: 3, 2: 1, 3: 2})
    current.loc[:9, "segment_id"] = current.loc[:9, "segment_id"] % 3 + 1
    current["segment_name"] = [f"new {s}" for s in current["segment_id"]]
    current = pd.concat([current.iloc[5:], customers(7, seed=6, first_id=1000)])
    previous.attrs["version"] = "2026-01-01T00.00.00.000Z"
    table, matching = migrate_segments(previous, current, column_schema)
    pairs = {p["previous_segment_id"]: p["current_segment_id"] for p in matching["pairs"]}
    assert pairs == {1: 3, 2: 1, 3: 2}
    assert matching["previous_version"] == "2026-01-01T00.00.00.000Z"
    assert matching["gone_customers"] == 5 and matching["new_customers"] == 7
    assert matching["customers_in_both"] == 295
    assert matching["stayed_in_matched_segment"] == 290
    assert table["customers"].sum() == 300 + 7
    assert table.loc[table["to_segment"] == GONE, "customers"].sum() == 5
    assert table.loc[table["from_segment"] == NEW, "customers"].sum() == 7
    stays = table[table["to_matched_segment"]]
    moves = set(zip(stays["from_segment_id"], stays["to_segment_id"], strict=True))
    assert moves == {(1, 3), (2, 1), (3, 2)}
    sankey = plot_migration(table, matching)
    assert sankey.data[0].type == "sankey" and sum(sankey.data[0].link.value) == 307
    # every node in its segment's colour, as in every other figure; new and gone customers grey
    colours = segment_colours([1, 2, 3])
    for label, colour in zip(sankey.data[0].node.label, sankey.data[0].node.color, strict=True):
        segment = label.split(": ", 1)[1].split(" · ")[0]
        expected = colours[int(segment)] if segment.isdigit() else UNASSIGNED_COLOUR
        assert colour == expected, label
    # each flow in the colour of the segment it leaves: strong where the customers stayed
    link, node = sankey.data[0].link, sankey.data[0].node
    for source, colour in zip(link.source, link.color, strict=True):
        red, green, blue = (int(node.color[source][i : i + 2], 16) for i in (1, 3, 5))
        assert colour.startswith(f"rgba({red},{green},{blue},"), (node.label[source], colour)
    strong = sum(v for c, v in zip(link.color, link.value, strict=True) if c.endswith(",0.5)"))
    assert strong == 290  # the customers who stayed in the matched segment


def test_a_segments_colour_is_fixed_by_its_id():
    """Segment 3 has the same colour with or without unassigned customers (segment 0, grey)."""
    without = segment_colours([1, 2, 3, 4, 5])
    with_unassigned = segment_colours([0, 1, 2, 3, 4, 5])
    assert with_unassigned[0] == UNASSIGNED_COLOUR and 0 not in without
    assert {sid: with_unassigned[sid] for sid in without} == without
    assert len(set(without.values())) == 5 and UNASSIGNED_COLOUR not in without.values()
    assert segment_colours([3])[3] == without[3]  # a segment alone keeps its colour


def test_text_ids_are_matched_like_whole_numbers(column_schema):
    previous = customers(200, seed=7)
    current = pd.concat([previous.iloc[20:], customers(5, seed=8, first_id=500)])
    numbers, _ = migrate_segments(previous, current, column_schema)
    for table in (previous, current):
        table["customer_id"] = "C-" + table["customer_id"]
    texts, matching = migrate_segments(previous, current, column_schema)
    pd.testing.assert_frame_equal(texts, numbers)
    assert matching["gone_customers"] == 20 and matching["new_customers"] == 5
    current["customer_id"] = current["customer_id"].str.replace("C-", "0")  # "021" is not "21"
    previous["customer_id"] = previous["customer_id"].str.removeprefix("C-")
    _, padded = migrate_segments(previous, current, column_schema)
    assert padded["customers_in_both"] == 0 and padded["new_customers"] == 185


def test_first_run_has_no_migration(column_schema):
    table, matching = migrate_segments(pd.DataFrame(), customers(50, 1), column_schema)
    assert table.empty and matching["pairs"] == []
    assert "no previous complete run" in plot_migration(table, matching).layout.annotations[0].text


def test_a_previous_run_with_other_declared_columns_is_not_comparable(column_schema):
    previous = customers(50, 1).drop(columns=["spending_score"])
    table, matching = migrate_segments(previous, customers(50, 2), column_schema)
    assert table.empty and matching["pairs"] == []
    assert (
        matching["status"].startswith("not comparable") and "spending_score" in matching["status"]
    )


def test_two_segmentations_without_a_customer_in_common_are_not_comparable(column_schema):
    table, matching = migrate_segments(customers(50, 1), customers(40, 2, first_id=900),
                                       column_schema)  # fmt: skip
    assert table.empty and matching["status"].startswith("not comparable")
    assert (matching["customers_in_both"], matching["new_customers"]) == (0, 40)

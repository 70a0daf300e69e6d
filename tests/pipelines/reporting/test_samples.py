"""The plots' sample on a real Spark session: the same customers in the same order in the three
tables, and titles that say of how many customers they are a sample."""

from __future__ import annotations

import pytest

from customer_segmentation.pipelines.reporting.eda_plots import plot_distributions
from customer_segmentation.pipelines.reporting.samples import draw_plot_sample
from customer_segmentation.plot_style import sample_rows

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def test_plot_sample_is_one_seeded_sample_of_aligned_customers(
    spark, embedded_processing, column_schema, parameters
):
    primary = embedded_processing["customers_primary"]
    segmented = primary.assign(
        segment_id=1 + primary.index % 3, segment_name="s", distance_to_centroid=0.5
    )
    features = embedded_processing["model_features"].reset_index()
    params = {**parameters["reporting"], "max_points": 300}
    tables = draw_plot_sample(
        spark.createDataFrame(segmented), spark.createDataFrame(features), column_schema, params
    )
    customers, segmented_sample, features_sample = tables
    assert len(customers) == len(segmented_sample) == len(features_sample) == 300
    assert list(customers.columns) == list(primary.columns)
    assert list(segmented_sample["customer_id"].astype(str)) == list(features_sample.index)
    assert customers["customer_id"].tolist() == segmented_sample["customer_id"].tolist()
    assert all(table.attrs["customers"] == 1995 for table in tables)
    again = draw_plot_sample(
        spark.createDataFrame(segmented), spark.createDataFrame(features), column_schema, params
    )
    assert again[0]["customer_id"].tolist() == customers["customer_id"].tolist()  # seeded
    assert sample_rows(customers, 20000, 42)[1] == " (random sample of 300 of 1,995 customers)"
    title = plot_distributions(customers, column_schema, params)._suptitle.get_text()
    assert (
        title == "Customer attributes (1,995 customers) (random sample of 300 of 1,995 customers)"
    )


def test_a_table_that_is_every_customer_gets_no_sample_note(embedded_processing):
    primary = embedded_processing["customers_primary"]
    assert sample_rows(primary, 20000, 42) == (primary, "")
    shown, note = sample_rows(primary, 1000, 42)
    assert len(shown) == 1000 and note == " (random sample of 1,000 of 1,995 customers)"

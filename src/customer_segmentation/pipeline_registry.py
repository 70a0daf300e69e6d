"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline, pipeline

from customer_segmentation.context import runs_on_spark, starts_from_order_lines
from customer_segmentation.pipelines.monitoring import create_drift_pipeline
from customer_segmentation.pipelines.reporting import create_pipeline as create_reporting
from customer_segmentation.pipelines.scoring import create_order_log_scoring

# The order of the workflow; Kedro-Viz lists the pipelines in this order.
WORKFLOW = [
    "data_processing",
    "model_selection",
    "comparison",
    "clustering",
    "reporting",
    "scoring",
    "monitoring",
]
# Pipelines run on their own, never part of `__default__`: `experiments` reads the tracked runs.
ON_DEMAND = ["experiments"]


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    `__default__` (plain `kedro run`) is the whole workflow, including scoring of the shipped new
    customers with the model the same run trains. When the environment's catalog declares an order
    log (`order_lines_raw`, conf/transactions), the workflow starts with `customer_features`: its
    table is what data_processing reads, new customers are built from their own order lines, and the
    report gains an RFM section. Otherwise `customer_features` is not registered. When the raw
    customers are a Spark dataset (conf/spark), every table is a Spark table and the plots draw a sample.
    """
    found = find_pipelines(raise_errors=True)  # only the requested ones with `--pipelines`
    pipelines = {name: found[name] for name in WORKFLOW if name in found}
    if "reporting" in pipelines:
        pipelines["reporting"] = create_reporting(
            rfm=starts_from_order_lines(), spark=runs_on_spark()
        )
    if starts_from_order_lines() and "customer_features" in found:
        pipelines = {"customer_features": found["customer_features"], **pipelines}
        if "data_processing" in pipelines:
            pipelines["data_processing"] = pipeline(
                pipelines["data_processing"], inputs={"customers_raw": "customer_features"}
            )
        if "scoring" in pipelines:
            pipelines["scoring"] = create_order_log_scoring()
    if "scoring" in pipelines:  # every scored batch is compared with the training customers
        pipelines["scoring"] = pipelines["scoring"] + create_drift_pipeline()
    pipelines.update(
        {
            n: found[n]
            for n in sorted(found)
            if n not in pipelines and n not in ("__default__", "customer_features")
        }
    )
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in ON_DEMAND), Pipeline([])
    )
    return pipelines

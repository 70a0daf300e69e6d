"""Project pipelines: the workflows, registered explicitly by name.

A workflow is the whole run for one kind of input, built from the stage pipelines in
`pipelines/<stage>/`, each stage in its own namespace (Kedro-Viz shows the workflow as a few boxes):

| workflow | starts from | engine | environments |
| --- | --- | --- | --- |
| `customer_table` (also `__default__`) | a customer table (`customers_raw`) | pandas | base, cards, kaggle, ... |
| `order_log` | an order log (`order_lines_raw`) via `customer_features` | pandas | transactions |
| `customer_table_spark` | a customer table read by Spark | Spark | spark |
| `order_log_spark` | an order log read by Spark | Spark | spark_transactions |

Which workflow an environment runs is the `workflow` value of its `globals.yml` (base:
`customer_table`); `kedro run --env <env>` runs it (customer_segmentation/cli.py). Each stage is also
registered on its own: `<stage>` for the `customer_table` workflow (`kedro run --pipelines scoring`),
`<workflow>.<stage>` for the others (`order_log.scoring`, which `kedro run --env transactions
--pipelines scoring` picks). Nothing here depends on the environment or on earlier calls.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, pipeline

from customer_segmentation.pipelines import (
    clustering,
    comparison,
    customer_features,
    data_processing,
    experiments,
    model_selection,
    monitoring,
    reporting,
    scoring,
)

DEFAULT_WORKFLOW = "customer_table"
WORKFLOWS = ("customer_table", "order_log", "customer_table_spark", "order_log_spark")
# Pipelines run on their own, never part of a workflow: `experiments` reads the tracked runs.
ON_DEMAND = ("experiments",)


def _stage(name: str, stage: Pipeline) -> Pipeline:
    """A stage in its own namespace (Kedro-Viz's box); dataset and parameter names stay as they are."""
    return pipeline(stage, namespace=name, prefix_datasets_with_namespace=False)


def create_workflow(order_log: bool = False, spark: bool = False) -> dict[str, Pipeline]:
    """The stages of one workflow, in run order.

    With `order_log` the workflow starts with `customer_features`: its table is what data_processing
    reads, new customers are built from their own order lines, and the report gains an RFM section.
    With `spark` every customer table is a Spark table and the plots draw a sample."""
    processing = data_processing.create_pipeline()
    # the order log's tables are Ibis tables; the customer-table stages read them as pandas or Spark
    # tables: the same files, two catalog entries (Kedro transcoding: `customer_features@ibis`, ...)
    reader = "spark" if spark else "pandas"
    scoring_stage = (
        scoring.create_order_log_scoring(reader="pandas")
        if order_log
        else scoring.create_pipeline()
    )
    stages = {
        "data_processing": (
            pipeline(processing, inputs={"customers_raw": f"customer_features@{reader}"})
            if order_log
            else processing
        ),
        "model_selection": model_selection.create_pipeline(),
        "comparison": comparison.create_pipeline(),
        "clustering": clustering.create_pipeline(),
        "reporting": (
            pipeline(
                reporting.create_pipeline(rfm=True, spark=spark),
                inputs={"rfm_scores": f"rfm_scores@{reader}"},
            )
            if order_log
            else reporting.create_pipeline(rfm=False, spark=spark)
        ),
        "monitoring": monitoring.create_pipeline(),
    }
    if order_log:
        features = pipeline(
            customer_features.create_pipeline(),
            outputs={
                "customer_features": "customer_features@ibis",
                "rfm_scores": "rfm_scores@ibis",
            },
        )
        stages = {"customer_features": features, **stages}
    stages = {name: _stage(name, stage) for name, stage in stages.items()}
    # scoring keeps its own namespace (its intermediate tables are `scoring.*`); every scored batch
    # is compared with the training customers
    stages["scoring"] = scoring_stage + _stage("scoring", monitoring.create_drift_pipeline())
    stages["monitoring"] = stages.pop("monitoring")  # run order: after scoring
    return stages


def whole(stages: dict[str, Pipeline]) -> Pipeline:
    """The sum of a workflow's stages."""
    return sum(stages.values(), Pipeline([]))


def register_pipelines() -> dict[str, Pipeline]:
    """Every workflow, every stage of every workflow, and the on-demand pipelines."""
    registered: dict[str, Pipeline] = {}
    for workflow in WORKFLOWS:
        stages = create_workflow(order_log="order_log" in workflow, spark="spark" in workflow)
        registered[workflow] = whole(stages)
        prefix = "" if workflow == DEFAULT_WORKFLOW else f"{workflow}."
        registered.update({f"{prefix}{name}": stage for name, stage in stages.items()})
    registered["customer_features"] = registered["order_log.customer_features"]
    registered["experiments"] = _stage("experiments", experiments.create_pipeline())
    registered["__default__"] = registered[DEFAULT_WORKFLOW]
    return registered


def stage_name(workflow: str, name: str) -> str:
    """The registered name of `name` (a stage, or `__default__`) in `workflow`: `scoring` in the
    `order_log` workflow is `order_log.scoring`, `__default__` is `order_log`. In the default
    workflow, and for workflows, qualified names and on-demand pipelines, names stay as they are."""
    if workflow == DEFAULT_WORKFLOW or name in WORKFLOWS or name in ON_DEMAND or "." in name:
        return name
    return workflow if name == "__default__" else f"{workflow}.{name}"

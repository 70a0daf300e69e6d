"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The order of the workflow; Kedro-Viz lists the pipelines in this order.
WORKFLOW = ["data_processing", "model_selection", "clustering", "reporting", "scoring"]


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    `__default__` (plain `kedro run`) is the whole workflow, including scoring of the shipped new
    customers with the model the same run trains.
    """
    found = find_pipelines(raise_errors=True)  # only the requested ones with `--pipelines`
    pipelines = {name: found[name] for name in WORKFLOW if name in found}
    pipelines.update(
        {n: found[n] for n in sorted(found) if n not in pipelines and n != "__default__"}
    )
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines

"""The project's Kedro context: Kedro's own, plus telling the pipeline registry where the workflow starts.

`register_pipelines()` takes no arguments, yet whether the workflow starts from a customer table
(`customers_raw`) or from an order log (`order_lines_raw`) depends on the configuration environment
(`kedro run --env transactions`). Every Kedro entry point (`kedro run`, `kedro viz`, notebooks, a
`KedroSession` in code) creates this context before it reads the pipelines, so the context records what
the active catalog declares and the registry builds the matching `__default__`. The same goes for the
engine: when the raw customers are a Spark dataset (`kedro run --env spark`), every customer table is a
Spark table and the reporting pipeline draws its plots from a sample.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

ORDER_LOG_DATASET = "order_lines_raw"
_ACTIVE: dict[str, bool | None] = {"starts_from_order_lines": None, "runs_on_spark": None}


def starts_from_order_lines() -> bool:
    """True when the active environment's catalog declares `order_lines_raw` (False before any
    context exists, e.g. when a test imports the registry directly)."""
    return bool(_ACTIVE["starts_from_order_lines"])


def runs_on_spark() -> bool:
    """True when the active environment's raw customers are a Spark dataset (conf/spark)."""
    return bool(_ACTIVE["runs_on_spark"])


class ProjectContext(KedroContext):
    """`KedroContext` that records whether the active catalog declares an order log, and whether it
    reads the raw customers with Spark."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalog = self.config_loader["catalog"]
        raw_type = str(catalog.get("customers_raw", {}).get("type", ""))
        found = {
            "starts_from_order_lines": ORDER_LOG_DATASET in catalog,
            "runs_on_spark": raw_type.startswith("spark."),
        }
        if found != {name: _ACTIVE[name] for name in found}:
            _ACTIVE.update(found)
            # pipelines loaded for another environment in this process are built again
            pipelines.configure(f"{self._package_name}.pipeline_registry")

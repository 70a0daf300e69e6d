"""The project's Kedro context: Kedro's own, plus telling the pipeline registry where the workflow starts.

`register_pipelines()` takes no arguments, yet whether the workflow starts from a customer table
(`customers_raw`) or from an order log (`order_lines_raw`) depends on the configuration environment
(`kedro run --env transactions`). Every Kedro entry point (`kedro run`, `kedro viz`, notebooks, a
`KedroSession` in code) creates this context before it reads the pipelines, so the context records what
the active catalog declares and the registry builds the matching `__default__`.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.project import pipelines

ORDER_LOG_DATASET = "order_lines_raw"
_ACTIVE: dict[str, bool | None] = {"starts_from_order_lines": None}


def starts_from_order_lines() -> bool:
    """True when the active environment's catalog declares `order_lines_raw` (False before any
    context exists, e.g. when a test imports the registry directly)."""
    return bool(_ACTIVE["starts_from_order_lines"])


class ProjectContext(KedroContext):
    """`KedroContext` that records whether the active catalog declares an order log."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declared = ORDER_LOG_DATASET in self.config_loader["catalog"]
        if declared != _ACTIVE["starts_from_order_lines"]:
            _ACTIVE["starts_from_order_lines"] = declared
            # pipelines loaded for another environment in this process are built again
            pipelines.configure(f"{self._package_name}.pipeline_registry")

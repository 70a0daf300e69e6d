"""The project's Kedro session: `kedro run --env <env>` runs the environment's own workflow.

Each environment names its workflow in `globals.yml` (`workflow: order_log` in conf/transactions; base:
`customer_table`), and pipeline_registry.py registers every workflow and every stage under fixed names.
`ProjectSession.run` turns the names a user asks for into the environment's: no name (plain
`kedro run`) or `__default__` is the workflow itself, a stage name such as `scoring` is that workflow's
stage (`order_log.scoring`). Everything else runs as Kedro runs it. `settings.SESSION_CLASS` makes
`kedro run`, notebooks and the app use it.
"""

from __future__ import annotations

import logging
import os
import sys
from types import TracebackType
from typing import Any

from kedro.framework.session import KedroSession

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipeline_registry import DEFAULT_WORKFLOW, WORKFLOWS, stage_name
from customer_segmentation.runs import RunInProgressError, RunInterrupted

logger = logging.getLogger(__name__)
# Errors whose message says all a user needs (bad input, drift in strict mode, a run already going
# on, a stopped run): `kedro run` ends with the message alone, no traceback, unless this environment
# variable is set to 1.
EXPECTED_ERRORS = (DataValidationError, RunInProgressError, RunInterrupted)
TRACEBACK_VARIABLE = "CUSTOMER_SEGMENTATION_TRACEBACK"


def workflow_of(config_loader: Any) -> str:
    """The workflow an environment runs (its `globals.yml` `workflow`), checked against the registry."""
    workflow = config_loader["globals"].get("workflow", DEFAULT_WORKFLOW)
    if workflow not in WORKFLOWS:
        raise ValueError(
            f"conf/{config_loader.environment}/globals.yml: workflow {workflow!r} is not one of "
            f"{', '.join(WORKFLOWS)}"
        )
    return workflow


class ProjectSession(KedroSession):
    """`KedroSession` whose `run` runs the environment's workflow (see the module docstring)."""

    def run(self, pipeline_names: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        if sys.excepthook is not _short_expected_errors:
            _short_expected_errors.default = sys.excepthook  # type: ignore[attr-defined]
            sys.excepthook = _short_expected_errors
        workflow = workflow_of(self._get_config_loader())
        names = [stage_name(workflow, name) for name in (pipeline_names or ["__default__"])]
        if workflow != DEFAULT_WORKFLOW:
            logger.info("Environment workflow %s: running %s", workflow, ", ".join(names))
        return super().run(pipeline_names=names, **kwargs)


def _short_expected_errors(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """`sys.excepthook` of a session: an expected error is printed as its type and message only."""
    if isinstance(error, EXPECTED_ERRORS) and os.environ.get(TRACEBACK_VARIABLE) != "1":
        sys.stderr.write(
            f"{kind.__name__}: {error}\n(the run stopped; {TRACEBACK_VARIABLE}=1 shows the "
            "traceback)\n"
        )
        return
    _short_expected_errors.default(kind, error, trace)  # type: ignore[attr-defined]


_short_expected_errors.default = sys.__excepthook__  # type: ignore[attr-defined]

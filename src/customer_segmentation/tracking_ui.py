"""What `make ui` prints first: where the project's tracked runs are in the MLflow UI.

MLflow 3's UI opens on an overview page; the runs of the project's experiment are at
`#/experiments/<id>/runs`. The experiment's name and the tracking store come from the project's
`mlflow.yml` (kedro-mlflow's configuration, environment `--env` included), as `kedro mlflow ui`
reads them. Before the first tracked run there is no experiment yet: the UI's address and what to
run are printed instead.

    python -m customer_segmentation.tracking_ui --port 5000 [--env ENV]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from customer_segmentation.environments import ProjectConfigLoader
from customer_segmentation.settings import CONFIG_LOADER_ARGS


def tracking_settings(project: Path, env: str | None = None) -> tuple[str, str]:
    """(tracking URI, experiment name) of the project's `mlflow.yml` in `env` (default: local),
    read by the project's own configuration loader."""
    loader = ProjectConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    settings: dict[str, Any] = loader["mlflow"]
    uri = settings["server"]["mlflow_tracking_uri"]
    return uri, settings["tracking"]["experiment"]["name"]


def runs_url(base_url: str, tracking_uri: str, experiment: str) -> str | None:
    """The address of `experiment`'s runs list under `base_url`; None before its first run."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 (a second of imports)

    found = MlflowClient(tracking_uri).get_experiment_by_name(experiment)
    return f"{base_url}/#/experiments/{found.experiment_id}/runs" if found else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--env", default=None)
    args = parser.parse_args(argv)
    uri, experiment = tracking_settings(Path.cwd(), args.env)
    base = f"http://{args.host}:{args.port}"
    store = uri.removeprefix("sqlite:///")
    known = not uri.startswith("sqlite:///") or Path(store).exists()  # never create an empty store
    url = runs_url(base, uri, experiment) if known else None
    if url:
        sys.stdout.write(f"MLflow UI, the runs of {experiment}: {url}\n")
    else:
        sys.stdout.write(
            f"MLflow UI: {base} (no tracked run of {experiment} yet: `make run` first)\n"
        )


if __name__ == "__main__":
    main()

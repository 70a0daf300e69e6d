"""`make serve`: the HTTP scoring service (`customer_segmentation.app.api`) on uvicorn.

    .venv/bin/python -m customer_segmentation.app.service [--env cards] [--version <run>] [--port 8000]

This command checks that the environment has a complete run, then starts `workers` uvicorn worker
processes (conf/base/service.yml); each loads the run's model and serves it. The module imports only
click, uvicorn and the light `server` module at the top: a worker process imports it before it can
answer its supervisor's health checks, and a worker that does not answer within
`worker_healthcheck_timeout_seconds` is killed and started again. The model's libraries are imported
afterwards, while the worker already answers (see `api.worker_app`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click
import uvicorn

from customer_segmentation.app.server import OPTIONS, ConfiguredSlowClientProtocol, Limits

logger = logging.getLogger("customer_segmentation.app.service")  # also when run as __main__


@click.command()
@click.option("--env", default=None, help="Kedro configuration environment (default: local).")
@click.option(
    "--version",
    "model_version",
    default=None,
    help="Run version (default: the newest complete run, followed as new runs complete).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def main(env: str | None, model_version: str | None, host: str, port: int) -> None:
    """Serve the saved segment model over HTTP (`make serve`)."""
    from customer_segmentation.app.outputs import RunOutputs  # noqa: PLC0415 (this process only)
    from customer_segmentation.errors import DataValidationError  # noqa: PLC0415

    try:  # fail here, once, with the message `kedro run` would give, not in every worker
        outputs = RunOutputs(".", env=env, version=model_version)
    except DataValidationError as error:
        raise click.ClickException(str(error)) from None
    config = outputs.config_loader["service"].get("service", {})
    limits = Limits.from_config(config)  # checked here: a typo fails before any worker starts
    os.environ[OPTIONS] = json.dumps(
        {
            "project": str(outputs.project_path),
            "env": outputs.env,
            "version": outputs.version,
            "follow": model_version is None,  # serve newer complete runs as they appear
            "limits": config,
        }
    )
    workers = int(config.get("workers", 1))
    # one OpenMP thread per worker process: scikit-learn's threads would otherwise spin beside the
    # other workers' on every small request (a worker scores one batch at a time anyway)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logger.info(
        "Scoring service for run %s (%s), %d worker(s), token %s: http://%s:%d (docs: /docs)",
        outputs.version,
        outputs.env,
        workers,
        "required" if limits.api_token else "not required",
        host,
        port,
    )
    logging_config = Path(outputs.project_path, "conf", "logging.yml")
    del outputs  # checked and resolved; every worker loads its own (with one worker: this process)
    uvicorn.run(
        "customer_segmentation.app.api:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=ConfiguredSlowClientProtocol,
        log_config=str(logging_config)
        if logging_config.exists()
        else uvicorn.config.LOGGING_CONFIG,
        log_level="info",
        access_log=bool(config.get("access_log", False)),
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,  # a stop never waits on a stuck request for long
        timeout_worker_healthcheck=int(config.get("worker_healthcheck_timeout_seconds", 30)),
    )


if __name__ == "__main__":
    main()

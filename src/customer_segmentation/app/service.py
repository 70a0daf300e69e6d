"""The HTTP scoring service: `make serve` (FastAPI on uvicorn, 127.0.0.1:8000 by default).

- `GET /health`: status, environment, the loaded model's run version, its segments and features, the
  request limits.
- `POST /score`: customers as JSON (a list of objects, or `{"customers": [...]}`; keys are the
  declared column names or their source headers) or as CSV (`Content-Type: text/csv`, a header row).
  Each valid customer comes back with `segment_id`, `segment_name` and `distance` (to its segment's
  centre, in the model's scaled units). Rows that fail validation come back under `quarantined` with
  their `row` (1-based position in the request) and `reason`, and the status is 422; the valid rows
  are still scored in the same answer. A request that cannot be used as a whole (no customer id
  column, an empty body, malformed JSON or CSV) gets 400 or 422 with the same message `kedro run`
  gives; too large a body or too many rows 413; another content type 415.

Limits come from `conf/base/service.yml` (override them in `conf/<env>/service.yml`). Scoring runs the
registered scoring pipeline's nodes with the saved `segment_model` (`outputs.RunOutputs.score`).
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import click
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from customer_segmentation import __version__
from customer_segmentation.app.outputs import RunOutputs, ScoredTable, quiet_runner_logs
from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.clustering.nodes import model_features_of

logger = logging.getLogger(__name__)
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@dataclass(frozen=True)
class Limits:
    """What one request may hold (conf/base/service.yml)."""

    max_request_bytes: int = 1_048_576
    max_rows: int = 1_000

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Limits:
        return cls(
            max_request_bytes=int(config.get("max_request_bytes", cls.max_request_bytes)),
            max_rows=int(config.get("max_rows", cls.max_rows)),
        )


class RequestRejected(Exception):
    """A request that is refused as a whole: its HTTP status and the message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def customers_from_json(body: bytes) -> pd.DataFrame:
    """A JSON body as a raw customer table: one row per object, every value as text (as a CSV file
    is read), null as missing."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise RequestRejected(400, f"request body: not valid JSON ({error})") from None
    customers = document.get("customers") if isinstance(document, dict) else document
    if not isinstance(customers, list) or not all(isinstance(c, dict) for c in customers):
        raise RequestRejected(
            400,
            'request body: expected a JSON list of customer objects, or {"customers": [...]}, '
            f"found {type(customers).__name__}"
            + (" holding other values" if isinstance(customers, list) else ""),
        )
    frame = pd.DataFrame.from_records(customers)
    return frame.astype(object).map(lambda value: None if _missing(value) else _text(value))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    if isinstance(value, bool | dict | list):
        return json.dumps(value)
    return str(value)


def scored_payload(result: ScoredTable, version: str) -> tuple[int, dict[str, Any]]:
    """The answer: every valid customer's segment, every invalid row with its reason."""
    customers = result.customers
    scored = [
        {
            "customer_id": str(customer_id),
            "segment_id": int(segment_id),
            "segment_name": str(name),
            "distance": round(float(distance), 6),
        }
        for customer_id, segment_id, name, distance in zip(
            customers["customer_id"],
            customers["segment_id"],
            customers["segment_name"],
            customers["distance_to_centroid"],
            strict=True,
        )
    ]
    quarantine = result.quarantine
    quarantined = [
        {
            "row": int(line) - 1,
            "customer_id": None if pd.isna(customer_id) else str(customer_id),
            "reason": str(reason),
        }
        for line, customer_id, reason in zip(
            quarantine["source_line"],
            quarantine.get("customer_id", pd.Series([None] * len(quarantine))),
            quarantine["reason"],
            strict=True,
        )
    ]
    payload = {
        "model_version": version,
        "rows_in": result.quality["rows_in"],
        "rows_scored": len(scored),
        "rows_quarantined": len(quarantined),
        "scored": scored,
        "quarantined": quarantined,
    }
    return (422 if quarantined else 200), payload


async def read_bounded(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, f"request body of {declared} bytes; the limit is {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRejected(413, f"request body over the limit of {limit} bytes")
    return bytes(body)


class ServedRun:
    """The run a worker serves: the version pinned with `--version`, or else the environment's newest
    complete run, looked up at most every `refresh_seconds` so that a run completed after the
    service started is served from then on (a failed or stopped run never is)."""

    def __init__(self, outputs: RunOutputs, follow: bool, refresh_seconds: float = 2.0) -> None:
        self.outputs = outputs
        self.follow = follow
        self.refresh_seconds = refresh_seconds
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> RunOutputs:
        if not self.follow or time.monotonic() - self._checked < self.refresh_seconds:
            return self.outputs
        with self._lock:
            if time.monotonic() - self._checked >= self.refresh_seconds:
                newest = self.outputs.run_versions()
                if newest and newest[0] != self.outputs.version:
                    self.outputs = RunOutputs(
                        self.outputs.project_path, env=self.outputs.env, version=newest[0]
                    )
                    quiet_runner_logs()
                    logger.info("Serving the newest complete run %s", newest[0])
                self._checked = time.monotonic()
        return self.outputs


def create_app(served: ServedRun, limits: Limits) -> FastAPI:
    """The service over one run's saved model (the newest complete run's, unless pinned)."""
    app = FastAPI(
        title="customer-segmentation scoring service",
        version=__version__,
        description="New customers in, segment id, name and distance out (README: Scoring service).",
    )

    scoring = threading.Lock()

    def score_one_at_a_time(outputs: RunOutputs, customers: pd.DataFrame) -> ScoredTable:
        # one scoring at a time per worker: concurrent pandas / scikit-learn runs in one process
        # contend for the interpreter lock and slow every request down (more workers: service.yml)
        with scoring:
            return outputs.score(customers, "request body")

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, error: RequestRejected) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error.status)

    @app.exception_handler(DataValidationError)
    async def invalid(request: Request, error: DataValidationError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=422)

    @app.get("/health")
    def health() -> dict[str, Any]:
        outputs = served.current()
        profiles = outputs.segment_profiles
        return {
            "status": "ok",
            "environment": outputs.env,
            "model_version": outputs.version,
            "segments": [
                {"segment_id": int(i), "segment_name": str(n)}
                for i, n in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
            ],
            "features": model_features_of(outputs.segment_model),
            "limits": {"max_request_bytes": limits.max_request_bytes, "max_rows": limits.max_rows},
        }

    @app.post("/score")
    async def score(request: Request) -> JSONResponse:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES + CSV_TYPES:
            raise RequestRejected(
                415, f"content type {media or '(none)'!r}: send application/json or text/csv"
            )
        body = await read_bounded(request, limits.max_request_bytes)
        outputs = await run_in_threadpool(served.current)  # one run for the whole request
        if media in JSON_TYPES:
            customers = customers_from_json(body)
        else:
            customers = await run_in_threadpool(outputs.read_upload, "request body.csv", body)
        if len(customers) > limits.max_rows:
            raise RequestRejected(
                413, f"{len(customers)} customers in one request; the limit is {limits.max_rows}"
            )
        result = await run_in_threadpool(score_one_at_a_time, outputs, customers)
        status, payload = scored_payload(result, outputs.version)
        return JSONResponse(payload, status_code=status)

    return app


# The options `main` hands to every uvicorn worker process (each loads the model itself).
OPTIONS = "CUSTOMER_SEGMENTATION_SERVICE"


def worker_app() -> FastAPI:
    """The app of one uvicorn worker, for the run `main` resolved (every worker serves the same)."""
    options = json.loads(os.environ[OPTIONS])
    outputs = RunOutputs(options["project"], env=options["env"], version=options["version"])
    quiet_runner_logs()
    return create_app(
        ServedRun(outputs, follow=options["follow"]), Limits.from_config(options["limits"])
    )


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
    try:
        outputs = RunOutputs(".", env=env, version=model_version)
    except DataValidationError as error:
        raise click.ClickException(str(error)) from None
    config = outputs.config_loader["service"].get("service", {})
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
    # other workers' on every small request (a worker scores one request at a time anyway)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    click.echo(
        f"Scoring service for run {outputs.version} ({outputs.env}), {workers} worker(s): "
        f"http://{host}:{port}"
    )
    del outputs  # checked and resolved; every worker loads its own (with one worker: this process)
    gc.collect()
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

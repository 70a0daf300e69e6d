"""The HTTP scoring service's app (FastAPI), one per uvicorn worker (`make serve`: `service.py`).

- `GET /health`: status, environment, the served run's version, its segments and features, the limits.
- `POST /score`: customers as JSON (a list of objects, or `{"customers": [...]}`; keys are the
  declared column names or their source headers) or as CSV (`Content-Type: text/csv`, a header row).
  Each valid customer comes back with `segment_id`, `segment_name` and `distance` (to its segment's
  centre, in the model's scaled units). Rows that fail validation come back under `quarantined` with
  their `row` (1-based position in the request) and `reason`, and the status is 422 (also when no row
  is valid); the valid rows are still scored in the same answer. A request that cannot be used as a
  whole gets 400, 401, 408, 413, 415 or 422 with `error` (the message `kedro run` gives, shortened to
  `ERROR_CHARS`). The OpenAPI document (`/openapi.json`, `/docs`, `/redoc`) describes every body
  and answer; its pages are served from the installed package (they work offline).
- Limits, timeouts and the optional token come from `conf/base/service.yml` (`server.Limits`).

Scoring runs the nodes of the registered scoring pipeline with the run's saved model and the cleaning
statistics learned at training (`outputs.RunOutputs.score`): a customer's answer never depends on the
other customers of the request. Requests that arrive while a worker is scoring wait and are scored
together in the worker's next pipeline run (`Batcher`), which is how one worker keeps up with many
small concurrent requests; each still gets exactly the answer it would get alone.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import json
import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from customer_segmentation import __version__
from customer_segmentation.app.outputs import RunOutputs, ScoredTable, quiet_runner_logs
from customer_segmentation.app.server import Limits, configured_limits, worker_options
from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.clustering.nodes import model_features_of

logger = logging.getLogger(__name__)
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")
# text/plain is what an HTML form or a cross-site `fetch` may send without asking first (no CORS
# preflight); refusing it means a web page can never make a visitor's browser score customers here
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
ERROR_CHARS = 2_000  # an error echoes at most this much of what was sent
ECHO_CHARS = 200  # and a quarantined row's customer id at most this much


class RequestRejected(Exception):
    """A request that is refused as a whole: its HTTP status and the message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def shortened(text: str, limit: int = ERROR_CHARS) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


# the tokens that change JSON nesting (brackets) and the strings that may hide brackets, in one pass
_NESTING = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(body: bytes, limit: int) -> None:
    """Refuse (400) a JSON body nested deeper than `limit` before parsing it: the parser recurses once
    per level, and 100,000 levels exhaust the interpreter's stack."""
    depth = 0
    for token in _NESTING.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise RequestRejected(
                    400,
                    f"request body: JSON nested more than {limit} levels deep "
                    "(service.yml max_json_depth); customers are flat objects",
                )
        elif bracket in (b"]", b"}"):
            depth -= 1


def customers_from_json(body: bytes, limits: Limits) -> pd.DataFrame:
    """A JSON body as a raw customer table: one row per object, every value as text (as a CSV file
    is read), null as missing. Nesting and the number of fields are checked before any table is
    built."""
    check_json_depth(body, limits.max_json_depth)
    try:
        document = json.loads(body)
    except ValueError as error:
        raise RequestRejected(400, shortened(f"request body: not valid JSON ({error})")) from None
    customers = document.get("customers") if isinstance(document, dict) else document
    if not isinstance(customers, list) or not all(isinstance(c, dict) for c in customers):
        raise RequestRejected(
            400,
            'request body: expected a JSON list of customer objects, or {"customers": [...]}, '
            f"found {type(customers).__name__}"
            + (" holding other values" if isinstance(customers, list) else ""),
        )
    check_rows(len(customers), limits)
    keys: dict[str, None] = {}
    for customer in customers:
        keys.update(dict.fromkeys(customer))
        if len(keys) > limits.max_columns:
            raise RequestRejected(
                413,
                f"request body: the customers have more than {limits.max_columns} different fields"
                f" (service.yml max_columns); first ones: {shortened(', '.join(list(keys)[:20]), 300)}",
            )
    frame = pd.DataFrame.from_records(customers, columns=list(keys))
    return frame.astype(object).map(lambda value: None if _missing(value) else _text(value))


def check_csv_header(body: bytes, limits: Limits, separator: str) -> None:
    """Refuse (413) a CSV body whose header has more than `max_columns` fields, before it is read."""
    first_line = body.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    fields = next(csv.reader([first_line], delimiter=separator), [])
    if len(fields) > limits.max_columns:
        raise RequestRejected(
            413,
            f"request body: the header has {len(fields)} columns; the limit is "
            f"{limits.max_columns} (service.yml max_columns)",
        )


def check_rows(rows: int, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise RequestRejected(
            413,
            f"{rows} rows in one request; the limit is {limits.max_rows} (service.yml max_rows)",
        )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    if isinstance(value, bool | dict | list):
        return json.dumps(value)
    return str(value)


def _number(value: float) -> float | None:
    return round(float(value), 6) if math.isfinite(value) else None


def scored_payload(result: ScoredTable, version: str) -> tuple[int, dict[str, Any]]:
    """The answer: every valid customer's segment, every invalid row with its reason; 422 when any
    row was quarantined (also when none was valid), else 200."""
    customers = result.customers
    scored = [
        {
            "customer_id": shortened(str(customer_id), ECHO_CHARS),
            "segment_id": int(segment_id),
            "segment_name": str(name),
            "distance": _number(distance),
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
            "customer_id": None
            if pd.isna(customer_id)
            else shortened(str(customer_id), ECHO_CHARS),
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


async def read_bounded(request: Request, limits: Limits) -> bytes:
    """The request body, refused with 413 as soon as it is larger than the limit, and with 408 when it
    has not fully arrived `body_timeout_seconds` after the headers."""
    limit = limits.max_request_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, f"request body of {declared} bytes; the limit is {limit} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(limits.body_timeout_seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise RequestRejected(413, f"request body over the limit of {limit} bytes")
    except TimeoutError:
        raise RequestRejected(
            408,
            f"request body not received within {limits.body_timeout_seconds:g} s "
            f"({len(body)} bytes arrived; service.yml body_timeout_seconds)",
        ) from None
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
                    outputs = RunOutputs(
                        self.outputs.project_path, env=self.outputs.env, version=newest[0]
                    )
                    outputs.segment_model  # noqa: B018 (loaded before it serves a request)
                    self.outputs = outputs
                    quiet_runner_logs()
                    logger.info("Serving the newest complete run %s", newest[0])
                self._checked = time.monotonic()
        return self.outputs


@dataclass(eq=False)  # one waiting request is only ever equal to itself
class _Waiting:
    outputs: RunOutputs
    customers: pd.DataFrame
    ids: set[str] | None  # None: never scored together with another request
    answer: asyncio.Future = field(repr=False)


class Batcher:
    """One pipeline run at a time per worker; requests that arrive meanwhile are scored together in
    the next run. Scoring learns nothing from the batch (cleaning applies the statistics saved at
    training), so a request scored together with others gets exactly the answer it gets alone: only
    requests with the same columns and no customer id in common are put together (so that no row
    becomes another request's duplicate, and a missing column is still each request's own error),
    up to `max_rows` customers. If a run of several requests fails as a whole, each is scored alone.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.waiting: list[_Waiting] = []
        self.drain: asyncio.Task | None = None  # kept: the loop holds only a weak reference

    async def score(self, outputs: RunOutputs, customers: pd.DataFrame) -> ScoredTable:
        answer = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiting(outputs, customers, outputs.batch_keys(customers), answer))
        if self.drain is None or self.drain.done():
            self.drain = asyncio.get_running_loop().create_task(self._drain())
        return await answer

    def _next_batch(self) -> list[_Waiting]:
        first = self.waiting.pop(0)
        batch, ids, rows = [first], set(first.ids or ()), len(first.customers)
        if first.ids is None:
            return batch
        for other in list(self.waiting):
            if (
                other.ids is not None
                and other.outputs is first.outputs
                and list(other.customers.columns) == list(first.customers.columns)
                and rows + len(other.customers) <= self.max_rows
                and ids.isdisjoint(other.ids)
            ):
                batch.append(other)
                self.waiting.remove(other)
                ids |= other.ids
                rows += len(other.customers)
        return batch

    async def _drain(self) -> None:
        while self.waiting:
            batch = self._next_batch()
            try:
                answers = await run_in_threadpool(self._score, batch)
            except Exception as error:  # noqa: BLE001 (every waiting request gets an answer)
                answers = [error] * len(batch)
            for waiting, answer in zip(batch, answers, strict=True):
                if waiting.answer.done():  # the client went away
                    continue
                if isinstance(answer, BaseException):
                    waiting.answer.set_exception(answer)
                else:
                    waiting.answer.set_result(answer)

    @staticmethod
    def _score(batch: list[_Waiting]) -> list[ScoredTable | BaseException]:
        outputs = batch[0].outputs
        if len(batch) > 1:
            try:
                return outputs.score_together([w.customers for w in batch], "request body")
            except Exception:  # noqa: BLE001 (each request then gets its own answer or error)
                pass
        answers: list[ScoredTable | BaseException] = []
        for waiting in batch:
            try:
                answers.append(outputs.score(waiting.customers, "request body"))
            except Exception as error:  # noqa: BLE001 (handed to the request's own handler)
                answers.append(error)
        return answers


# -- the OpenAPI description of the answers ---------------------------------------------------------
class ScoredCustomer(BaseModel):
    customer_id: str
    segment_id: int
    segment_name: str
    distance: float | None


class QuarantinedRow(BaseModel):
    row: int
    customer_id: str | None
    reason: str


class ScoreAnswer(BaseModel):
    """Every customer of the request: scored, or quarantined with its row number and reason."""

    model_version: str
    rows_in: int
    rows_scored: int
    rows_quarantined: int
    scored: list[ScoredCustomer]
    quarantined: list[QuarantinedRow]


class ErrorAnswer(BaseModel):
    """Why the request as a whole was refused."""

    error: str


class Segment(BaseModel):
    segment_id: int
    segment_name: str


class HealthAnswer(BaseModel):
    status: Literal["ok"]
    environment: str
    model_version: str
    segments: list[Segment]
    features: list[str]
    limits: dict[str, Any]


CUSTOMER_EXAMPLE = {
    "CustomerID": "9001",
    "Genre": "Female",
    "Age": "31",
    "Annual Income (k$)": "70",
    "Spending Score (1-100)": "77",
}
SCORE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "array", "items": {"type": "object"}, "title": "Customers"},
                    {
                        "type": "object",
                        "required": ["customers"],
                        "properties": {"customers": {"type": "array", "items": {"type": "object"}}},
                        "title": "Wrapped customers",
                    },
                ]
            },
            "example": [CUSTOMER_EXAMPLE],
            "x-description": "One object per customer; keys are the declared column names or their "
            "source headers; values as text or numbers; null or a blank is a missing value.",
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": ",".join(CUSTOMER_EXAMPLE) + "\n" + ",".join(CUSTOMER_EXAMPLE.values()),
        },
    },
}
SCORE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": ScoreAnswer, "description": "Every customer scored."},
    400: {
        "model": ErrorAnswer,
        "description": "Not valid JSON, not a list of customers, too deep.",
    },
    401: {"model": ErrorAnswer, "description": "A token is required (service.yml api_token)."},
    408: {"model": ErrorAnswer, "description": "The body did not arrive in time."},
    413: {"model": ErrorAnswer, "description": "Too large a body, too many rows or columns."},
    415: {"model": ErrorAnswer, "description": "Not application/json or text/csv."},
    422: {
        "description": "Some or all rows quarantined (`ScoreAnswer`, the valid rows still scored), "
        "or the table cannot be used as a whole (`ErrorAnswer`, e.g. a required column missing).",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ScoreAnswer"},
                        {"$ref": "#/components/schemas/ErrorAnswer"},
                    ]
                }
            }
        },
    },
}


def create_app(served: ServedRun, limits: Limits) -> FastAPI:
    """The service over one run's saved model (the newest complete run's, unless pinned)."""
    app = FastAPIOffline(
        title="customer-segmentation scoring service",
        version=__version__,
        description="New customers in, segment id, name and distance out (README: Scoring service)."
        + (" Send `Authorization: Bearer <token>`." if limits.api_token else ""),
    )
    batcher = Batcher(limits.max_rows)

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, error: RequestRejected) -> JSONResponse:
        return JSONResponse({"error": shortened(str(error))}, status_code=error.status)

    @app.exception_handler(DataValidationError)
    async def invalid(request: Request, error: DataValidationError) -> JSONResponse:
        return JSONResponse({"error": shortened(str(error))}, status_code=422)

    @app.get("/health", response_model=HealthAnswer)
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
            "limits": limits.public(),
        }

    @app.post("/score", openapi_extra={"requestBody": SCORE_BODY}, responses=SCORE_ANSWERS)
    async def score(request: Request) -> JSONResponse:
        """Score new customers (JSON or CSV) with the served run's model."""
        if limits.api_token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {limits.api_token}".encode()):
                raise RequestRejected(
                    401, "send the service's token: Authorization: Bearer <token>"
                )
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES + CSV_TYPES:
            why = (
                " (refused so that a web page cannot post it unasked)"
                if media in SIMPLE_TYPES
                else ""
            )
            raise RequestRejected(
                415, f"content type {media or '(none)'!r}{why}: send application/json or text/csv"
            )
        body = await read_bounded(request, limits)
        outputs = await run_in_threadpool(served.current)  # one run for the whole request
        if media in JSON_TYPES:
            customers = customers_from_json(body, limits)
        else:
            check_csv_header(body, limits, outputs.upload_separator())
            customers = await run_in_threadpool(outputs.read_upload, "request body.csv", body)
            check_rows(len(customers), limits)
        result = await batcher.score(outputs, customers)
        status, payload = scored_payload(result, outputs.version)
        return JSONResponse(payload, status_code=status)

    return app


def worker_app() -> FastAPI:
    """The app of one uvicorn worker, for the run `service.main` resolved (every worker serves the
    same run), with its model loaded before the worker accepts a request."""
    started = time.monotonic()
    options = worker_options()
    outputs = RunOutputs(options["project"], env=options["env"], version=options["version"])
    outputs.segment_model  # noqa: B018 (loaded now, not on the first request)
    quiet_runner_logs()
    logger.info(
        "Worker %d serves run %s (%s), ready in %.1f s",
        os.getpid(),
        outputs.version,
        outputs.env,
        time.monotonic() - started,
    )
    return create_app(ServedRun(outputs, follow=options["follow"]), configured_limits())

"""What the scoring service's processes share before any of them loads a model: its settings
(`conf/base/service.yml`) and the HTTP protocol that cuts slow clients off.

This module imports nothing heavy (no pandas, no Kedro, no FastAPI): uvicorn's worker processes are
started fresh ("spawn") and import the command's module before they can answer their supervisor's
health checks, so that import must take milliseconds, not the seconds a model's libraries take.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# the settings `service.main` hands to every worker process (each loads the model itself)
OPTIONS = "CUSTOMER_SEGMENTATION_SERVICE"
# an API token from the environment wins over `api_token` in service.yml (keep secrets out of files)
TOKEN_VARIABLE = "CUSTOMER_SEGMENTATION_API_TOKEN"


@dataclass(frozen=True)
class Limits:
    """What the service accepts (conf/base/service.yml; every key is optional there)."""

    max_request_bytes: int = 1_048_576
    max_rows: int = 1_000
    max_columns: int = 100
    max_json_depth: int = 8
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    api_token: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Limits:
        """The limits of a service.yml `service:` block (unknown keys belong to the server)."""
        known = {f.name: f.type for f in fields(cls)}
        values = {name: config[name] for name in known if config.get(name) is not None}
        limits = cls(**values)
        token = os.environ.get(TOKEN_VARIABLE) or limits.api_token
        return cls(**{**asdict(limits), "api_token": token or None})

    def public(self) -> dict[str, Any]:
        """The limits a caller may see (`/health`): everything but the token."""
        shown = asdict(self)
        shown["token_required"] = shown.pop("api_token") is not None
        return shown


def worker_options() -> dict[str, Any]:
    return json.loads(os.environ[OPTIONS])


class SlowClientProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for a request's line and headers: a client that has
    not sent them all `header_timeout_seconds` after it connected (or after its previous answer, on a
    kept-alive connection) gets 408 and the connection is closed. uvicorn's own keep-alive timeout
    does not cover this: every byte that arrives resets it, so a client sending one byte every two
    seconds would hold its connection, and a worker's file descriptors, for ever."""

    header_timeout = Limits.header_timeout_seconds

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

    def on_message_begin(self) -> None:
        self._request_begun = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._request_begun = False
        if not self.transport.is_closing():
            self._header_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm_header_deadline(self) -> None:
        if getattr(self, "_header_deadline", None) is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its body has its own deadline
        if not self._request_begun:  # an idle kept-alive connection: nothing to answer
            self.transport.close()
            return
        message = (
            f"request line and headers not received within {self.header_timeout:g} s "
            "(service.yml header_timeout_seconds)"
        ).encode()
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: "
            + str(len(message)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + message
        )
        self.transport.close()


class ConfiguredSlowClientProtocol(SlowClientProtocol):
    """`SlowClientProtocol` with the deadline of the service's own settings (read in each worker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if OPTIONS in os.environ:
            self.header_timeout = configured_limits().header_timeout_seconds


@functools.cache
def configured_limits() -> Limits:
    """The limits `service.main` handed to this worker process."""
    return Limits.from_config(worker_options()["limits"])

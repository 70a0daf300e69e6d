"""Local servers the tests start as a user would (`make viz`, `make ui`, `make app`, `make serve`):
each in its own process group on a free port of 127.0.0.1, waited for, and stopped with its children."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "KEDRO_DISABLE_TELEMETRY": "1"}


class ServerUrl(str):
    """The base URL of a started server; `pid` is its process (and process group) id."""

    pid: int
    seconds_to_ready: float


def free_port(first: int = 4200, last: int = 4999) -> int:
    """A free port of 127.0.0.1 in [first, last) (Kedro-Viz refuses ports it cannot scan up from),
    tried in random order so that test processes running side by side (pytest-xdist) rarely pick
    the same one before either has bound it."""
    ports = list(range(first, last))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {first}–{last}")


@contextmanager
def busy_machine(processes: int = 2) -> Iterator[None]:
    """`processes` CPU-bound processes beside whatever runs inside (a machine that is busy)."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def make_serve(port: int) -> list[str]:
    """`make serve`'s own command line (the Makefile's recipe, default conf/base/service.yml), with
    the test's virtual environment as the project's .venv (already installed: never re-installed)."""
    venv = Path(sys.executable).parent.parent
    stamp = venv / ".installed"
    return ["make", "-o", str(stamp), "serve", f"VENV={venv}", f"SERVE_PORT={port}"]


@contextmanager
def local_server(
    command: Sequence[str],
    cwd: Path,
    url: str,
    ready_path: str = "/",
    log: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Iterator[ServerUrl]:
    """Start `command` in `cwd`, wait until `url + ready_path` answers, yield `url`; stop the group."""
    output = log.open("w") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **TELEMETRY_OFF, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + ready_path, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    shown = log.read_text() if log else "(no log kept)"
                    raise AssertionError(f"{' '.join(command)} did not start:\n{shown}") from None
                time.sleep(0.5)
        started = ServerUrl(url)
        started.pid = server.pid
        started.seconds_to_ready = time.monotonic() - (deadline - timeout)
        yield started
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if log:
            output.close()

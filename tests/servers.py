"""Local servers the tests start as a user would (`make viz`, `make ui`, `make app`, `make serve`):
each in its own process group on a free port of 127.0.0.1, waited for, and stopped with its children."""

from __future__ import annotations

import os
import random
import shutil
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


def make_target(target: str, **variables: object) -> list[str]:
    """`make <target>`'s own command line (the Makefile's recipe and defaults), with the test's
    virtual environment as the project's .venv (already installed: never re-installed) and the
    given make variables (`SERVE_PORT=…`, `UI_PORT=…`, `VIZ_PORT=…`)."""
    venv = Path(sys.executable).parent.parent
    stamp = venv / ".installed"
    settings = [f"{name}={value}" for name, value in variables.items()]
    return ["make", "-o", str(stamp), target, f"VENV={venv}", *settings]


def make_serve(port: int) -> list[str]:
    """`make serve` (default conf/base/service.yml) on `port`."""
    return make_target("serve", SERVE_PORT=port)


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


POSTGRES_BINARIES = Path("/usr/lib/postgresql")


def postgres_bin(program: str) -> Path:
    """A program of the newest PostgreSQL server installed from Debian's packages (`make postgres`)."""
    found = sorted(POSTGRES_BINARIES.glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise AssertionError(
            f"no PostgreSQL server under {POSTGRES_BINARIES} ({program}): run `make postgres` "
            "(Debian's postgresql package; .ci/run does)"
        )
    return found[-1]


@contextmanager
def postgres_server(folder: Path) -> Iterator[dict[str, object]]:
    """A real PostgreSQL server: a new cluster in `folder`, listening on a free port of 127.0.0.1,
    waited for until it accepts connections; yields the connection settings (ibis.postgres.connect's
    keyword arguments) and stops the server afterwards. As root, the server runs as the `postgres`
    user (PostgreSQL refuses to run as root)."""
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = folder / "cluster"
    folder.mkdir(parents=True, exist_ok=True)
    if as_user:
        shutil.chown(folder, "postgres")
    subprocess.run(
        [*as_user, str(postgres_bin("initdb")), "-D", str(data), "-U", "postgres", "-A", "trust",
         "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port(5500, 6400)
    server = subprocess.Popen(
        [*as_user, str(postgres_bin("postgres")), "-D", str(data), "-p", str(port), "-k",
         str(folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    settings = {"host": "127.0.0.1", "port": port, "user": "postgres", "database": "postgres"}
    try:
        deadline = time.monotonic() + 120
        while True:  # ready when it accepts a connection (a busy machine may take a while)
            ready = subprocess.run(
                [str(postgres_bin("pg_isready")), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,  # not ready yet: asked again
            )
            if ready.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"PostgreSQL did not start: {server.stderr.read()[-2000:]!r}")
            time.sleep(0.2)
        yield settings
    finally:
        if server.poll() is None:  # SIGINT: PostgreSQL's fast shutdown (clients disconnected)
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

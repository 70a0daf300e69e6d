"""Runs you can trust: run records, the latest complete run, and one run at a time per data root.

Every `kedro run` saves all its versioned datasets under one version timestamp (the session id). A run
that finishes then writes its **run record** (the versioned `run_record` dataset, last of all):
environment, pipelines, run version, data fingerprint, the model's feature columns and the file of
every versioned dataset it saved. A run that failed, was killed or is still running has no record and
stays invisible: whoever reads a run's outputs (scoring's model and profiles, migration's previous
segmentation, the explorer, the service) resolves the newest *complete* run that saved them and reads
them at that run's version (`pin_inputs`).

Two runs at once in one data root would mix their versions, so a run holds a lock file
(`<data_root>/.run.lock`, naming its pid, command and start) from its first node to its end; a second
run stops at once with `RunInProgressError`. A lock left by a process that no longer exists (killed
with SIGKILL, a power cut) is taken over with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from kedro.io import Version

from customer_segmentation.errors import DataValidationError, validation_message

logger = logging.getLogger(__name__)

RUN_RECORD = "run_record"
LOCK_FILE = ".run.lock"
COMPLETE = "complete"


class RunInProgressError(RuntimeError):
    """Another run is writing the same environment's data root."""


class NoCompleteRunError(DataValidationError):
    """A run needs an earlier run's output, and no complete run has saved it."""


class RunInterrupted(Exception):  # noqa: N818 (named for what happened, like KeyboardInterrupt)
    """The run was stopped by a signal (SIGTERM, Ctrl-C); raised inside the run so that it ends as a
    failed run: no run record, the lock released, the MLflow run closed as FAILED."""


def _entry(catalog: Any, name: str) -> dict[str, Any]:
    """A dataset's configuration as the catalog resolves it ({} for an in-memory dataset)."""
    try:
        return dict(catalog.config_resolver.resolve_pattern(name) or {})
    except Exception:  # noqa: BLE001 (no configuration for the name)
        return {}


def is_versioned(catalog: Any, name: str) -> bool:
    """Whether the catalog keeps every run's version of the dataset (`versioned: true`)."""
    return bool(_entry(catalog, name).get("versioned"))


def catalog_filepath(catalog: Any, name: str) -> str | None:
    """Where the catalog keeps a dataset (a versioned one: the folder of its versions), as configured."""
    filepath = _entry(catalog, name).get("filepath")
    return str(filepath) if filepath else None


def record_key(catalog: Any, name: str, project_path: Path) -> str | None:
    """How a run record names a dataset's file: its path relative to the project (so a copied or
    moved project still finds its runs), or the URL of a remote one."""
    filepath = catalog_filepath(catalog, name)
    if filepath is None or "://" in filepath:
        return filepath
    try:
        return Path(filepath).resolve().relative_to(Path(project_path).resolve()).as_posix()
    except ValueError:
        return filepath


def complete_runs(catalog: Any) -> list[dict[str, Any]]:
    """The run records of the complete runs of the catalog's data root, newest first."""
    folder = catalog_filepath(catalog, RUN_RECORD)
    if folder is None:
        return []
    filesystem, path = fsspec.core.url_to_fs(folder)
    if not filesystem.isdir(path):
        return []
    leaf = PurePosixPath(path).name
    records = []
    for version in sorted(filesystem.ls(path, detail=False), reverse=True):
        file = f"{version}/{leaf}"
        if not filesystem.exists(file):
            continue
        with filesystem.open(file, "r") as handle:
            record = json.load(handle)
        if record.get("status") == COMPLETE:
            records.append(record)
    return records


def run_that_saved(records: list[dict[str, Any]], filepath: str) -> dict[str, Any] | None:
    """The newest of `records` that saved a version of the file `filepath`."""
    return next((r for r in records if filepath in r.get("saved", {}).values()), None)


def pin_inputs(
    catalog: Any,
    inputs: set[str],
    pinned_by_user: dict[str, str] | None,
    environment: str,
    project_path: Path,
) -> dict[str, str]:
    """Point every versioned input that an earlier run wrote at the newest complete run that saved it
    (unless the user pinned it with `--load-versions`). Returns {dataset: version}.

    A dataset read as "the previous run" (`allows_no_run = True`: the previous segmentation) takes the
    newest complete run other than the one another input of the same file is read at, and stays
    unpinned (loads empty) when there is none. Any other input with no complete run raises
    `NoCompleteRunError` naming the environment and what to run."""
    records = complete_runs(catalog)
    user = dict(pinned_by_user or {})
    pinned: dict[str, str] = {}
    taken: dict[str, str] = {}  # file -> the version this run reads it at
    candidates = []
    for name in sorted(inputs):
        if name.startswith("params:") or name not in catalog:
            continue
        dataset = catalog.get(name)
        version = getattr(dataset, "_version", None)
        filepath = record_key(catalog, name, project_path)
        if version is None or filepath is None:  # not versioned: read as it is
            continue
        if name in user:
            taken[filepath] = user[name]
            continue
        candidates.append((getattr(dataset, "allows_no_run", False), name, dataset, filepath))
    for previous, name, dataset, filepath in sorted(candidates, key=lambda c: c[0]):
        usable = [r for r in records if not previous or r["run_version"] != taken.get(filepath)]
        run = run_that_saved(usable, filepath)
        if run is not None:
            dataset._version = Version(run["run_version"], dataset._version.save)
            pinned[name] = run["run_version"]
            taken.setdefault(filepath, run["run_version"])
        elif not previous:
            command = "kedro run" + ("" if environment == "local" else f" --env {environment}")
            raise NoCompleteRunError(
                validation_message(
                    filepath,
                    f"no complete run of the environment '{environment}' has saved {name} "
                    "(versions of runs that failed, were stopped or are still running are never "
                    "read).",
                    f"one complete run first: `{command}`",
                    f"{len(records)} complete run(s), none with {name}",
                )
            )
    return pinned


def build_record(
    run_params: dict[str, Any],
    pipelines: list[str],
    started: datetime,
    saved: dict[str, str],
    pinned: dict[str, str],
    fingerprint: str,
    model_features: list[str] | None,
) -> dict[str, Any]:
    """The run record of a run that completed."""
    return {
        "status": COMPLETE,
        "run_version": run_params["run_id"],
        "environment": run_params.get("env") or "local",
        "pipelines": pipelines,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_fingerprint": fingerprint,
        "model_features": model_features,
        "read_versions": pinned,
        "saved": saved,
    }


class RunLock:
    """`<data_root>/.run.lock`: one run at a time in an environment's data root."""

    def __init__(self, data_root: Path, environment: str) -> None:
        self.path = data_root / LOCK_FILE
        self.environment = environment
        self.held = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(["kedro", *sys.argv[1:]]) if sys.argv else "kedro",
        }
        for _ in range(2):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                self._check_holder()  # raises while the holder runs; removes a stale lock
                continue
            with os.fdopen(descriptor, "w") as handle:
                json.dump(holder, handle)
            self.held = True
            return
        raise RunInProgressError(f"{self.path}: could not take the run lock")

    def _check_holder(self) -> None:
        try:
            holder = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        pid = holder.get("pid")
        if holder.get("host", socket.gethostname()) == socket.gethostname() and _alive(pid):
            raise RunInProgressError(
                f"Another run is writing the environment '{self.environment}' "
                f"({self.path.parent}): `{holder.get('command', 'kedro run')}`, pid {pid}, started "
                f"{holder.get('started', '?')}. Wait for it to finish (its outputs become the latest "
                "run when it completes), or run another environment. If that process is gone, "
                f"delete {self.path}."
            )
        logger.warning(
            "Taking over the run lock %s of a run that is no longer running (pid %s, started %s)",
            self.path, pid, holder.get("started", "?"),
        )  # fmt: skip
        self.path.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Where the time and memory of one whole `kedro run` go, node by node (and dataset by dataset).

`python -m benchmarks.profile_nodes --size 1000000` generates that many Mall-style customers, runs
`kedro run` (default parameters, `--env` if given; with `--runs 2` it runs twice and profiles the
second, which also compares the two segmentations) in a temporary copy of the project, tracked in the
copy's own MLflow store, and prints per
node: seconds, the process's peak resident memory so far, and how much that peak rose during the node.
The nodes that raise the peak are where memory work pays off. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from customer_segmentation.data_generator import generate_clean_customers, to_csv_text

from .workflow import ROOT, project_copy


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class NodeProfile:
    """Kedro hooks that record (node or dataset load/save, seconds, peak GiB after, rise of the peak)
    in run order."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []
        self._started: dict[str, tuple[float, float]] = {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self._start(node.name)

    @hook_impl
    def after_node_run(self, node) -> None:
        self._finish(node.name)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._start(f"load {dataset_name}")

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self._finish(f"load {dataset_name}")

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._start(f"save {dataset_name}")

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._finish(f"save {dataset_name}")

    def _start(self, name: str) -> None:
        self._started[name] = (time.perf_counter(), peak_gib())

    def _finish(self, name: str) -> None:
        started, peak_before = self._started.pop(name)
        peak = peak_gib()
        self.rows.append((name, time.perf_counter() - started, peak, peak - peak_before))


def write_customers(path: Path, size: int) -> None:
    path.write_text(to_csv_text(generate_clean_customers(size, seed=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--env", default=None)
    parser.add_argument("--top", type=int, default=15, help="print the N slowest nodes")
    parser.add_argument(
        "--runs", type=int, default=1, help="profile the last of N runs (2: segment migration too)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        csv = work / "customers.csv"
        # in a child process, so that the generator's memory does not count in this one's peak
        writer = multiprocessing.get_context("fork").Process(
            target=write_customers, args=(csv, args.size)
        )
        writer.start()
        writer.join()
        project = project_copy(ROOT, work / "project", {"customers.csv": csv})
        bootstrap_project(project)
        # the run is tracked like any `kedro run`, in the temporary copy's own MLflow store
        os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
        logging.disable(logging.WARNING)
        for _ in range(args.runs - 1):  # earlier runs: a previous segmentation to migrate from
            with KedroSession.create(project_path=project, env=args.env) as session:
                session.run()
        profile = NodeProfile()
        started = time.perf_counter()
        with KedroSession.create(project_path=project, env=args.env) as session:
            session._hook_manager.register(profile)  # noqa: SLF001 (no public API for an extra hook)
            session.run()
        while mlflow.active_run():  # before the temporary store is deleted
            mlflow.end_run()
        total = time.perf_counter() - started
    print(f"{args.size:,} customers: whole run {total:.1f} s, peak {peak_gib():.2f} GiB")  # noqa: T201
    print(f"  {'node, or dataset load/save':<48} {'seconds':>8} {'peak GiB':>9} {'rise':>6}")  # noqa: T201
    slowest = sorted(profile.rows, key=lambda row: -row[1])[: args.top]
    for name, seconds, peak, rise in profile.rows:
        if (name, seconds, peak, rise) in slowest or rise > 0.05:
            print(f"  {name:<48} {seconds:8.2f} {peak:9.2f} {rise:6.2f}")  # noqa: T201


if __name__ == "__main__":
    main()

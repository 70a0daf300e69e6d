"""An order log -> customer features: `kedro run --env transactions --pipelines customer_features`
against bare floors, on generated logs of a given number of lines.

Each case runs as its own process under `/usr/bin/time` (wall seconds, peak resident memory). The log
is the project's seeded order-log generator (six planted behaviours and its documented dirt) scaled
to the size asked for. The floors (`python -m benchmarks.order_log_floor order_lines.csv pandas|duckdb`)
read the CSV and compute recency, frequency and monetary with one group-by (pandas, or one DuckDB
query), with no validation, netting, quarantine or accounting: the least any tool must do.

`--baseline REV` adds the pipeline of another revision (for example the last one with the pandas
implementation of the order-log rules, 163d1c8), run from `git archive REV` with this environment's
packages, in the same loop.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from customer_segmentation.order_log_generator import generate_order_log, order_log_csv_text

from .workflow import ROOT, print_medians, project_copy, timed

LINES_PER_CUSTOMER = 28.3  # of the generator's planted behaviours, dirt included


CHUNK_LINES = 5_000_000  # larger logs: this many generated lines, written again with other ids
FLOOR_MAX_LINES = 10_000_000  # the pandas floor holds the whole log in memory


def write_order_log(lines: int, path: Path) -> int:
    """Generate about `lines` order lines into `path`; return the exact number of lines written.

    Above `CHUNK_LINES` the generated log of `CHUNK_LINES` lines is written several times, copy k
    with k put before every customer id and invoice number (C-invoices keep their C first), so the
    copies share no customer and no invoice."""
    copies = max(1, round(lines / CHUNK_LINES))
    if copies > 10:
        raise ValueError(f"at most {10 * CHUNK_LINES:,} lines (ten copies)")
    chunk = lines if copies == 1 else CHUNK_LINES
    log, _ = generate_order_log(max(200, round(chunk / LINES_PER_CUSTOMER)), seed=1)
    text = order_log_csv_text(log)
    with path.open("w") as out:
        out.write(text)
        if copies > 1:
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            for k in range(1, copies):
                again = table.copy()
                invoice = again["InvoiceNo"]
                cancelled = invoice.str.startswith("C")
                again["InvoiceNo"] = (cancelled.map({True: "C", False: ""}) + str(k)
                                      + invoice.str.removeprefix("C"))  # fmt: skip
                known = again["CustomerID"] != ""
                again.loc[known, "CustomerID"] = str(k) + again.loc[known, "CustomerID"]
                out.write(again.to_csv(index=False, header=False, lineterminator="\n"))
    return len(log) * copies


def archived(revision: str, target: Path) -> Path:
    """`revision`'s code and configuration (git archive) in `target`."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", revision, "src", "conf", "data", "pyproject.toml", ".telemetry"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def bench_order_log(
    sizes: list[int],
    repeats: int,
    envs: tuple[str, ...] = ("transactions",),
    baseline: str | None = None,
) -> None:
    """Median wall time and peak memory of the customer_features pipeline per log size, in each
    environment (`transactions`: DuckDB; `spark_transactions`: Spark local[2]), optionally of
    another revision's pipeline, and of the bare floors."""
    print(f"order log -> customer features vs bare RFM group-bys, median of {repeats}")  # noqa: T201
    floors = {
        "bare floor (one DuckDB query)": "duckdb",
        "bare pandas floor": "pandas",
    }
    for lines in sizes:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            csv = work / "order_lines.csv"
            written = write_order_log(lines, csv)
            this = project_copy(ROOT, work / "this", {"order_lines.csv": csv})
            projects = {f"customer_features --env {env}": (this, env) for env in envs}
            if baseline:
                old = project_copy(archived(baseline, work / "baseline_src"), work / "baseline",
                                   {"order_lines.csv": csv})  # fmt: skip
                for env in envs:
                    projects[f"customer_features at {baseline} --env {env}"] = (old, env)
            (work / "benchmarks").symlink_to(ROOT / "benchmarks")
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in projects}
            for name, engine in floors.items():
                if engine == "duckdb" or written <= FLOOR_MAX_LINES:
                    results[name] = []
            for _ in range(repeats):
                for name, (project, env) in projects.items():
                    kedro = [sys.executable, "-m", "kedro", "run", "--env", env,
                             "--pipelines", "customer_features"]  # fmt: skip
                    results[name].append(timed(kedro, project)[:2])
                for name, engine in floors.items():
                    if name in results:
                        floor = [sys.executable, "-m", "benchmarks.order_log_floor",
                                 "order_lines.csv", engine]  # fmt: skip
                        results[name].append(timed(floor, work)[:2])
        results["bare floor"] = results.pop("bare floor (one DuckDB query)")
        print_medians(f"{written:,} order lines (seed 1)", results)

"""An order log -> customer features: `kedro run --env transactions --pipelines customer_features`
against a bare pandas floor, on generated logs of a given number of lines.

Each case runs as its own process under `/usr/bin/time` (wall seconds, peak resident memory). The log
is the project's seeded order-log generator (six planted behaviours and its documented dirt) scaled
to the size asked for. The floor (`python -m benchmarks.order_log_floor order_lines.csv`) reads the
CSV with pandas and computes recency, frequency and monetary with one group-by, with no validation,
netting, quarantine or accounting: the least any tool must do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from customer_segmentation.order_log_generator import generate_order_log, order_log_csv_text

from .workflow import ROOT, print_medians, project_copy, timed

LINES_PER_CUSTOMER = 28.3  # of the generator's planted behaviours, dirt included


def write_order_log(lines: int, path: Path) -> int:
    """Generate about `lines` order lines into `path`; return the exact number of lines written."""
    log, _ = generate_order_log(max(200, round(lines / LINES_PER_CUSTOMER)), seed=1)
    path.write_text(order_log_csv_text(log))
    return len(log)


def bench_order_log(sizes: list[int], repeats: int) -> None:
    """Median wall time and peak memory of the customer_features pipeline per log size."""
    print(f"order log -> customer features vs a bare pandas RFM group-by, median of {repeats}")  # noqa: T201
    kedro = [sys.executable, "-m", "kedro", "run", "--env", "transactions",
             "--pipelines", "customer_features"]  # fmt: skip
    floor = [sys.executable, "-m", "benchmarks.order_log_floor", "order_lines.csv"]
    for lines in sizes:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            csv = work / "order_lines.csv"
            written = write_order_log(lines, csv)
            project = project_copy(ROOT, work / "this", {"order_lines.csv": csv})
            (work / "benchmarks").symlink_to(ROOT / "benchmarks")
            results: dict[str, list[tuple[float, float]]] = {
                "customer_features": [],
                "bare floor": [],
            }
            for _ in range(repeats):
                results["customer_features"].append(timed(kedro, project)[:2])
                results["bare floor"].append(timed(floor, work)[:2])
        print_medians(f"{written:,} order lines (seed 1)", results)

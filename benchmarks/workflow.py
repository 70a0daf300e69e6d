"""The whole default `kedro run` on generated customers, against the bare scikit-learn floor.

Each case runs as a separate process under `/usr/bin/time` (wall seconds and peak resident memory):
`kedro run` in a temporary copy of this project, optionally `kedro run` in another checkout of the
project on the same file (`--compare DIR`, e.g. a `git worktree` of an earlier commit), and the floor
script (`benchmarks/floor.py`). The cases are interleaved per repeat, so they share the machine's state.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from customer_segmentation.data_generator import generate_clean_customers, to_csv_text

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "DO_NOT_TRACK": "1", "KEDRO_DISABLE_TELEMETRY": "1"}


def project_copy(source: Path, target: Path, raw_files: dict[str, Path]) -> Path:
    """`source`'s code and conf in `target`, with `raw_files` (name in data/01_raw -> file) and the
    embedded `new_customers.csv`."""
    shutil.copytree(source / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(source / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir(exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(source / name, target / name)
    for layer in (source / "data").iterdir():
        (target / "data" / layer.name).mkdir(parents=True, exist_ok=True)
    raw = target / "data" / "01_raw"
    for name, path in raw_files.items():
        shutil.copy2(path, raw / name)
    shutil.copy2(source / "data" / "01_raw" / "new_customers.csv", raw / "new_customers.csv")
    return target


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak resident memory in GiB) of one process."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{result.stderr[-3000:]}")
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 2**20


def bench_workflow(sizes: list[int], repeats: int, compare: Path | None = None) -> None:
    """Median wall time and peak memory of the whole `kedro run`, per size, with ratios to the floor."""
    title = "whole `kedro run` (default parameters) vs the bare scikit-learn floor"
    print(f"{title}, median of {repeats}")  # noqa: T201  # noqa: T201
    kedro = [sys.executable, "-m", "kedro", "run"]
    floor = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "customers.csv"]
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            csv = work / "customers.csv"
            csv.write_text(to_csv_text(generate_clean_customers(n, seed=1)))
            raw = {"customers.csv": csv}
            cases = {"this project": project_copy(ROOT, work / "this", raw)}
            if compare:
                cases[f"compare {compare.name}"] = project_copy(compare, work / "compare", raw)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
            results["bare floor"] = []
            for _ in range(repeats):
                for name, project in cases.items():
                    results[name].append(timed(kedro, project))
                results["bare floor"].append(timed(floor, work))
        print_medians(f"{n:,} Mall-style customers (5 planted segments, seed 1)", results)


def print_medians(title: str, results: dict[str, list[tuple[float, float]]]) -> None:
    """Median seconds and peak memory per case, and the ratio to the "bare floor" case."""
    floor_s = statistics.median(s for s, _ in results["bare floor"])
    print(f"  {title}:")  # noqa: T201
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        memory = statistics.median(m for _, m in runs)
        print(  # noqa: T201
            f"    {name:<24} {seconds:8.1f} s  peak {memory:5.2f} GiB  ×{seconds / floor_s:5.2f} floor"
        )

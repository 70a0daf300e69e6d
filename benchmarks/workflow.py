"""The whole default `kedro run` on generated customers, against the bare scikit-learn floor and the
seed-style (notebook) script: `make bench` (see benchmarks/README.md).

Each program runs as a separate process under `/usr/bin/time` (wall seconds and peak resident memory):
`kedro run` in a temporary copy of this project (`--env cards` for the cards example), optionally
`kedro run` in another checkout of the project on the same file (`--compare DIR`, e.g. a `git worktree`
of an earlier commit), the floor (`floor.py`) and, up to `SEED_STYLE_MAX_ROWS`, `seed_style.py`. The
programs are interleaved per repeat, so they share the machine's state. Besides time and memory the
table shows each program's answer: the chosen k, its silhouette, and the agreement (adjusted Rand
index) of the project's segments with the floor's full-data K-Means.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.card_generator import AMOUNTS, cards_csv_text, generate_clean_cards
from customer_segmentation.data_generator import generate_clean_customers, to_csv_text

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "DO_NOT_TRACK": "1", "KEDRO_DISABLE_TELEMETRY": "1"}
REPEAT_MAX_ROWS = 1_000_000  # larger sizes run once: the median of repeats where it is affordable
SEED_STYLE_MAX_ROWS = 50_000  # the full-data silhouette grows with the square of the rows
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def project_copy(source: Path, target: Path, raw_files: dict[str, Path]) -> Path:
    """`source`'s code and conf in `target`, with `raw_files` (name in data/01_raw -> file) and the
    embedded new customers to score (`new_*.csv`)."""
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
    for new in (source / "data" / "01_raw").glob("new_*.csv"):
        shutil.copy2(new, raw / new.name)
    return target


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak resident memory in GiB, standard output) of one program.

    The peak is the larger of `/usr/bin/time`'s maximum resident set (the largest single process)
    and the largest total resident memory of the program's whole process tree, sampled every 0.2 s
    (`tree_memory`): with Spark that is the Python driver, the JVM (driver and executors in local
    mode) and Spark's Python workers together.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%e %M", *command], cwd=cwd, env=ENV, stdout=out, stderr=err
        )
        tree_peak = 0
        while process.poll() is None:
            tree_peak = max(tree_peak, tree_memory(process.pid))
            time.sleep(0.2)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{stderr[-3000:]}")
    seconds, kilobytes = stderr.strip().splitlines()[-1].split()
    return float(seconds), max(int(kilobytes) * 1024, tree_peak) / 2**30, stdout


def tree_memory(root: int) -> int:
    """Resident bytes of process `root` and all its descendants now (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            resident_pages = int((Path("/proc") / str(pid) / "statm").read_text().split()[1])
        except (OSError, IndexError):
            continue
        total += resident_pages * PAGE_BYTES
    return total


@dataclass(frozen=True)
class Example:
    """A table the benchmark generates: where the environment reads it, and how the plain scripts
    (floor, seed-style) find its id and features."""

    label: str
    env: str | None
    raw_file: str
    generate: Callable[[int], str]  # customers -> CSV text
    plain_options: tuple[str, ...] = ()


EXAMPLES = {
    "mall": Example(
        "Mall-style",
        None,
        "customers.csv",
        lambda n: to_csv_text(generate_clean_customers(n, seed=1)),
    ),
    "spark": Example(
        "Mall-style, --env spark",
        "spark",
        "customers.csv",
        lambda n: to_csv_text(generate_clean_customers(n, seed=1)),
    ),
    "cards": Example(
        "cards",
        "cards",
        "cards.csv",
        lambda n: cards_csv_text(generate_clean_cards(n, seed=1)),
        ("--id", "CUST_ID", "--features", *AMOUNTS, "--log1p"),
    ),
}


@dataclass
class Case:
    """One program of the benchmark: its runs, and the answer it gave (chosen k, silhouette)."""

    name: str
    runs: list[tuple[float, float]] = field(default_factory=list)
    k: int | None = None
    silhouette: float | None = None
    ari: float | None = None

    def seconds(self) -> float:
        return statistics.median(s for s, _ in self.runs)

    def peak(self) -> float:
        return statistics.median(m for _, m in self.runs)


def latest(folder: Path) -> Path:
    """The file of the newest version of a versioned dataset."""
    return max(folder.iterdir()) / folder.name


def project_answer(project: Path, floor_labels: Path, case: Case) -> None:
    """Chosen k and its silhouette from the run's outputs, and the agreement (adjusted Rand index)
    of its segments with the floor's full-data K-Means when both chose the same k."""
    selection = json.loads(latest(project / "data/05_model_input/k_selection.json").read_text())
    metrics = pd.read_csv(latest(project / "data/05_model_input/k_metrics.csv")).set_index("k")
    case.k, case.silhouette = (
        selection["k"],
        round(float(metrics.loc[selection["k"], "silhouette"]), 4),
    )
    output = project / "data/07_model_output"
    spark = output / "segmented_customers_spark.parquet"  # --env spark: partitioned by segment
    segmented = pd.read_parquet(
        latest(spark if spark.exists() else output / "segmented_customers.parquet"),
        columns=["customer_id", "segment_id"],
    ).astype({"segment_id": int})
    full = pd.read_parquet(floor_labels).merge(segmented, on="customer_id")
    if full["label"].nunique() == case.k:
        case.ari = adjusted_rand_score(full["label"], full["segment_id"])


def bench_workflow(
    sizes: list[int],
    repeats: int,
    compare: Path | None = None,
    examples: tuple[str, ...] = ("mall",),
) -> None:
    """Median wall time, peak memory and answer of the whole `kedro run`, the floor and (where it
    can finish) the seed-style script, per example table and size, as a Markdown table with ratios
    to the floor."""
    rows: list[tuple[str, int, Case, Case]] = []
    for example in (EXAMPLES[name] for name in examples):
        for n in sizes:
            cases = bench_size(example, n, repeats if n <= REPEAT_MAX_ROWS else 1, compare)
            rows.extend((example.label, n, case, cases["bare floor"]) for case in cases.values())
            print_table(rows)


def bench_size(example: Example, n: int, runs: int, compare: Path | None) -> dict[str, Case]:
    """Every program on one generated table of `n` customers."""
    kedro = [sys.executable, "-m", "kedro", "run", *(["--env", example.env] if example.env else [])]
    here = ROOT / "benchmarks"
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        csv = work / example.raw_file
        csv.write_text(example.generate(n))
        raw = {example.raw_file: csv}
        projects = {"this project": project_copy(ROOT, work / "this", raw)}
        if compare:
            projects[f"compare {compare.name}"] = project_copy(compare, work / "compare", raw)
        cases = {name: Case(name) for name in projects}
        floor = cases["bare floor"] = Case("bare floor")
        labels = work / "floor_labels.parquet"
        plain = [csv.name, *example.plain_options]
        floor_command = [sys.executable, str(here / "floor.py"), *plain, "--labels", str(labels)]
        for _ in range(runs):
            for name, project in projects.items():
                cases[name].runs.append(timed(kedro, project)[:2])
            seconds, peak, out = timed(floor_command, work)
            floor.runs.append((seconds, peak))
        floor.k, floor.silhouette = answer(out)
        for name, project in projects.items():
            project_answer(project, labels, cases[name])
        if n <= SEED_STYLE_MAX_ROWS:
            seed = cases["seed-style (full silhouette)"] = Case("seed-style (full silhouette)")
            seconds, peak, out = timed([sys.executable, str(here / "seed_style.py"), *plain], work)
            seed.runs.append((seconds, peak))
            seed.k, seed.silhouette = answer(out)
    return cases


def answer(output: str) -> tuple[int, float]:
    """(k, silhouette) from the last line a plain script printed."""
    printed = json.loads(output.strip().splitlines()[-1])
    return printed["k"], printed["silhouette"]


def machine() -> str:
    """'<CPU model>, <cores> cores, <memory> GiB' of this machine."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB"


HEADER = (
    "| data | customers | program | runs | seconds (median) | peak memory | × floor | chosen k "
    "| silhouette | ARI vs full-data K-Means |\n"
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def print_table(rows: list[tuple[str, int, Case, Case]]) -> None:
    """The results so far as a Markdown table (for benchmarks/README.md), with the date and machine."""
    lines = [
        "",
        f"{datetime.date.today().isoformat()} · {machine()} · Python {platform.python_version()}",
        "",
        HEADER,
    ]
    for data, n, case, floor in rows:
        ari = "" if case.ari is None else f"{case.ari:.4f}"
        lines.append(
            f"| {data} | {n:,} | {case.name} | {len(case.runs)} | {case.seconds():.1f} s | "
            f"{case.peak():.2f} GiB | {case.seconds() / floor.seconds():.2f} | {case.k} | "
            f"{case.silhouette:.4f} | {ari} |"
        )
    print("\n".join(lines), flush=True)  # noqa: T201


def print_medians(title: str, results: dict[str, list[tuple[float, float]]]) -> None:
    """Median seconds and peak memory per case, and the ratio to the "bare floor" case (when it ran)."""
    floor = results.get("bare floor")
    floor_s = statistics.median(s for s, _ in floor) if floor else None
    print(f"  {title}:")  # noqa: T201
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        memory = statistics.median(m for _, m in runs)
        ratio = f"  ×{seconds / floor_s:5.2f} floor" if floor_s else ""
        print(f"    {name:<40} {seconds:8.1f} s  peak {memory:5.2f} GiB{ratio}")  # noqa: T201

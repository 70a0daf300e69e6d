"""A bounded burst of scoring requests against the local scoring service (127.0.0.1 only).

    make serve &                                   # after `make run`
    .venv/bin/python -m benchmarks.service_load    # 2,000 requests, 8 at a time, one customer each
    .venv/bin/python -m benchmarks.service_load --compare   # starts the service and the bare floor
                                                            # (benchmarks/service_floor.py) itself

Each request POSTs one customer of the shipped `data/01_raw/new_customers.csv` (valid rows, in turn)
as JSON; `--rows` sends more customers per request. Prints the latency percentiles and throughput.
`tests/app/test_service.py` runs the same burst against `make serve`'s command on a free port.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from tests.servers import free_port, local_server

NEW_CUSTOMERS = Path(__file__).resolve().parents[1] / "data" / "01_raw" / "new_customers.csv"
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def request_bodies(rows_per_request: int = 1, path: Path = NEW_CUSTOMERS) -> list[bytes]:
    """JSON bodies of `rows_per_request` customers each, from the rows every check accepts (taken in
    turn; beyond the file's rows, repeated under new ids, so that no body holds a duplicate)."""
    customers = pd.read_csv(path, dtype=str).dropna()
    records = customers[customers["Age"].astype(int).between(0, 120)].to_dict(orient="records")
    wanted = max(len(records), rows_per_request)
    rows = [
        {**records[i % len(records)], "CustomerID": str(900_000 + i)} if i >= len(records)
        else records[i]
        for i in range(wanted - wanted % rows_per_request)
    ]  # fmt: skip
    return [
        json.dumps(rows[start : start + rows_per_request]).encode()
        for start in range(0, len(rows), rows_per_request)
    ]


def burst(url: str, bodies: list[bytes], requests: int = 2000, concurrency: int = 8) -> dict:
    """`requests` POSTs to `url`/score, `concurrency` at a time: statuses and latency percentiles."""
    if urlsplit(url).hostname not in LOCAL_HOSTS:
        raise ValueError(f"{url}: the load test only runs against 127.0.0.1")

    def one(number: int) -> tuple[int, float]:
        request = urllib.request.Request(
            f"{url}/score",
            data=bodies[number % len(bodies)],
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0  # no answer at all
        return status, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(requests)))
    seconds = time.perf_counter() - started
    latencies = sorted(latency * 1000 for _, latency in results)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "errors": sum(status != 200 for status, _ in results),
        "statuses": sorted({status for status, _ in results}),
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(latencies[-1], 1),
    }


def peak_memory_gib(group: int) -> float:
    """Sum of the peak resident memory (VmHWM) of the processes in a process group (Linux)."""
    total_kib = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # the process group id
                status = (stat.parent / "status").read_text()
                total_kib += int(status.split("VmHWM:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return round(total_kib / 2**20, 2)


def compare(requests: int, concurrency: int, rows: int, repeats: int = 1) -> list[dict]:
    """The service (`make serve`'s command) and the bare floor, each started here in turn, `repeats`
    times (alternating); per program the run with the median p95."""
    programs = {
        "service": ["-m", "customer_segmentation.app.service"],
        "floor": ["-m", "benchmarks.service_floor"],
    }
    runs: dict[str, list[dict]] = {name: [] for name in programs}
    for _ in range(repeats):
        for name, module in programs.items():
            port = free_port(8100, 8999)
            command = [sys.executable, *module, "--port", str(port)]
            root = NEW_CUSTOMERS.parents[2]
            with local_server(command, root, f"http://127.0.0.1:{port}", "/health") as url:
                result = burst(url, request_bodies(rows), requests, concurrency)
                runs[name].append({"program": name, **result, "peak_gib": peak_memory_gib(url.pid)})
    results = []
    for measured in runs.values():
        by_p95 = sorted(measured, key=lambda r: r["p95_ms"])
        median = by_p95[len(by_p95) // 2]
        rates = sorted(r["requests_per_second"] for r in measured)
        results.append({**median, "median_requests_per_second": rates[len(rates) // 2]})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1, help="customers per request")
    parser.add_argument("--compare", action="store_true", help="start the service and the floor")
    parser.add_argument("--repeats", type=int, default=1, help="with --compare: medians of N runs")
    args = parser.parse_args()
    if args.compare:
        results = compare(args.requests, args.concurrency, args.rows, args.repeats)
        service, floor = results
        for result in results:
            print(json.dumps({"rows_per_request": args.rows, **result}))  # noqa: T201
        p95 = service["p95_ms"] / floor["p95_ms"]
        throughput = service["median_requests_per_second"] / floor["median_requests_per_second"]
        print(f"p95 x floor: {p95:.2f}; throughput / floor: {throughput:.2f}")  # noqa: T201
        return
    result = burst(args.url, request_bodies(args.rows), args.requests, args.concurrency)
    print(json.dumps({"rows_per_request": args.rows, **result}, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()

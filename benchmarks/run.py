"""Speed benchmarks: `make bench` or `.venv/bin/python -m benchmarks.run [CASE ...] [--repeats N] [--sizes ...]`.

Cases: `sweep` and `reporting` (the default), `workflow` (the whole `kedro run` against the bare
scikit-learn floor and the seed-style script, on `--example mall spark cards`, optionally against another
checkout with `--compare DIR`; see workflow.py and README.md; `make bench` runs it), and
`order_log` (an order log of `--sizes` lines -> customer features, against bare pandas and DuckDB
floors; `--baseline REV` adds another revision's pipeline).

Each case runs the real node functions on generated customers (the project's seeded generator, clean
rows) with the base parameters, repeats, and prints the median seconds and the ratio to the smallest
size. Nothing here is a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
from kedro.config import OmegaConfigLoader

from customer_segmentation.data_generator import RAW_COLUMNS, generate_clean_customers
from customer_segmentation.pipelines.clustering.nodes import (
    assign_segments,
    build_segmented_customers,
    fit_segment_model,
)
from customer_segmentation.pipelines.clustering.profiles import profile_segments
from customer_segmentation.pipelines.data_processing.features import (
    build_model_features,
    fit_feature_transformer,
)
from customer_segmentation.pipelines.data_processing.nodes import (
    build_primary_table,
    standardise_columns,
    validate_customers,
)
from customer_segmentation.pipelines.model_selection.nodes import sweep_k
from customer_segmentation.pipelines.reporting import eda_plots, segment_plots
from customer_segmentation.schema import schema_from_params
from customer_segmentation.settings import CONFIG_LOADER_ARGS

from .order_log import bench_order_log
from .workflow import EXAMPLES, bench_workflow

ROOT = Path(__file__).resolve().parents[1]


def parameters() -> dict:
    return OmegaConfigLoader(str(ROOT / "conf"), **CONFIG_LOADER_ARGS)["parameters"]


def column_schema(params: dict) -> dict:
    return schema_from_params(params["data_processing"]).to_dict()


def model_features(n: int, params: dict) -> pd.DataFrame:
    """Scaled default features of `n` generated customers."""
    raw = generate_clean_customers(n, seed=1)[RAW_COLUMNS].astype(str)
    customers, _ = validate_customers(
        standardise_columns(raw, params["data_processing"]), params["data_processing"]
    )
    customers = customers.drop(columns="source_line")
    transformer = fit_feature_transformer(customers, params["data_processing"])
    return build_model_features(customers, transformer, "customer_id")


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_sweep(sizes: list[int], repeats: int) -> None:
    params = parameters()
    print(f"sweep_k (k 1–10, base parameters), median of {repeats} runs")  # noqa: T201
    base = None
    for n in sizes:
        features = model_features(n, params)
        seconds = median_seconds(
            lambda f=features: sweep_k(f, copy.deepcopy(params["model_selection"])), repeats
        )
        base = base or seconds
        print(f"  {n:>9,} customers: {seconds:8.2f} s   ×{seconds / base:6.2f} vs {sizes[0]:,}")  # noqa: T201


def segmented_customers(n: int, params: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(segmented customers, profiles, model features) of `n` generated customers, k=5."""
    dp, cl = params["data_processing"], params["clustering"]
    raw = generate_clean_customers(n, seed=1)[RAW_COLUMNS].astype(str)
    customers, _ = validate_customers(standardise_columns(raw, dp), dp)
    customers = build_primary_table(customers, pd.DataFrame({"reason": []}), dp)
    transformer = fit_feature_transformer(customers, dp)
    no_statistics = {"fills": {}, "fences": {}}
    choice = {"algorithm": "kmeans"}
    model = fit_segment_model(
        customers, transformer, no_statistics, {"k": 5}, choice, cl, params["comparison"]
    )
    assigned = assign_segments(customers, model)
    schema = column_schema(params)
    profiles, _ = profile_segments(assigned, schema, cl)
    segmented, _ = build_segmented_customers(assigned, profiles)
    return segmented, profiles, build_model_features(customers, transformer, "customer_id")


def draw_all_plots(customers, segmented, profiles, features, schema, rp) -> None:
    """Every plot node of the reporting pipeline, once."""
    eda_plots.plot_distributions(customers, schema, rp)
    eda_plots.plot_category_counts(customers, schema)
    eda_plots.plot_pair_plot(customers, schema, rp)
    eda_plots.plot_correlation_heatmap(customers, schema)
    segment_plots.plot_segment_scatter(segmented, profiles, schema, rp)
    segment_plots.plot_segments_3d(segmented, features, profiles, schema, rp)
    segment_plots.plot_pca(features, segmented, profiles, schema, rp)
    segment_plots.plot_silhouette(features, segmented, profiles, schema, rp)
    segment_plots.plot_profile_heatmap(profiles, schema)
    segment_plots.plot_segment_boxplots(segmented, profiles, schema)
    segment_plots.plot_segment_sizes(profiles)


def bench_reporting(sizes: list[int], repeats: int) -> None:
    """All segment and EDA plot nodes (scatter plots sample `reporting.max_points`)."""
    params = parameters()
    rp = params["reporting"]
    print(f"reporting plot nodes (all 11 figures), median of {repeats} runs")  # noqa: T201
    base = None
    for n in sizes:
        segmented, profiles, features = segmented_customers(n, params)
        customers = segmented.drop(columns=["segment_id", "segment_name", "distance_to_centroid"])

        seconds = median_seconds(
            partial(
                draw_all_plots, customers, segmented, profiles, features, column_schema(params), rp
            ),
            repeats,
        )
        base = base or seconds
        print(f"  {n:>9,} customers: {seconds:8.2f} s   ×{seconds / base:6.2f} vs {sizes[0]:,}")  # noqa: T201


CASES = {
    "sweep": bench_sweep,
    "reporting": bench_reporting,
    "workflow": bench_workflow,
    "order_log": bench_order_log,
}
DEFAULT_CASES = ["sweep", "reporting"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", choices=[*CASES, []], default=DEFAULT_CASES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument(
        "--example",
        nargs="+",
        choices=list(EXAMPLES),
        default=["mall"],
        help="workflow: the generated tables (Mall-style customers; the same with --env spark; cards)",
    )
    parser.add_argument(
        "--env",
        nargs="+",
        default=["transactions"],
        help="order_log: the environments to run customer_features in (spark_transactions: Spark)",
    )
    parser.add_argument(
        "--baseline",
        help="order_log: also time this git revision's customer_features (e.g. 163d1c8, pandas)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="workflow: also time another checkout of the project (e.g. a git worktree)",
    )
    args = parser.parse_args()
    for case in args.cases or DEFAULT_CASES:
        if case == "workflow":
            bench_workflow(args.sizes, args.repeats, args.compare, tuple(args.example))
        elif case == "order_log":
            bench_order_log(args.sizes, args.repeats, tuple(args.env), args.baseline)
        else:
            CASES[case](args.sizes, args.repeats)


if __name__ == "__main__":
    main()

"""Nodes of the comparison pipeline: every algorithm on the same rows, measured with the same yardstick.

Each algorithm is one namespace of the same two nodes (`fit_candidate`, `score_candidate`). They all
work on `comparison_sample`: the scaled model features of every customer, or above
`comparison.sample_size` a seeded sample, in a seeded random order, so that an algorithm with a
lower `max_fit_rows` (Ward, HDBSCAN) is fitted on a prefix of the same rows, the silhouette uses the
same first rows for all, and the agreement between algorithms is measured on the rows they share.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.engine import is_spark, spark_sample
from customer_segmentation.errors import DataValidationError
from customer_segmentation.models import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    UNASSIGNED,
    OrderedSegments,
    canonical_algorithm,
    native_estimator,
)
from customer_segmentation.pipelines.data_processing.features import categorical_blocks
from customer_segmentation.pipelines.model_selection.metrics import (
    internal_indices,
    resample_stability,
)

logger = logging.getLogger(__name__)

SCORE_COLUMNS = [
    "algorithm", "status", "k", "fit_rows", "customers", "silhouette", "calinski_harabasz",
    "davies_bouldin", "stability", "share_unassigned", "smallest_segment_share", "fit_seconds",
    "peak_memory_mib", "bic_k",
]  # fmt: skip


def check_comparison_parameters(params: dict[str, Any]) -> None:
    """`comparison.run` names known algorithms, each with settings in `comparison.algorithms`."""
    unknown = [a for a in params["run"] if a not in ALGORITHMS]
    missing = [a for a in ALGORITHMS if a not in (params.get("algorithms") or {})]
    if unknown or missing:
        raise DataValidationError(
            f"parameter comparison.run / comparison.algorithms: expected algorithms among "
            f"{', '.join(ALGORITHMS)}, each with an entry in comparison.algorithms; found unknown "
            f"{unknown or 'none'}, without settings {missing or 'none'}"
        )


def draw_comparison_sample(
    model_features: pd.DataFrame, feature_transformer: ColumnTransformer, params: dict[str, Any]
) -> dict[str, Any]:
    """The rows every algorithm is fitted and scored on, in a seeded random order (all customers up
    to `sample_size`), how many customers there are, and where each categorical feature's one-hot
    columns are (for k-prototypes). On Spark the seeded sample is drawn by Spark and the algorithms
    run on the driver, as they do on pandas."""
    check_comparison_parameters(params)
    customers = None
    if is_spark(model_features):
        id_column = model_features.columns[0]
        model_features, customers = spark_sample(
            model_features, params["sample_size"], params["random_state"], [id_column]
        )
        model_features = model_features.set_index(id_column)
    rng = np.random.default_rng(params["random_state"])
    order = rng.permutation(len(model_features))[: params["sample_size"]]
    return {
        "features": model_features.to_numpy(dtype=float)[order],
        "customers": customers or len(model_features),
        "categorical_blocks": categorical_blocks(feature_transformer),
    }


def _model(algorithm: str, k: int, options: dict[str, Any], seed: int) -> OrderedSegments:
    return OrderedSegments(k, algorithm, random_state=seed, options=options)


def _options(algorithm: str, options: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    if algorithm == "k_prototypes":
        return {**options, "categorical_blocks": sample["categorical_blocks"]}
    return options


def _bic_k(features: np.ndarray, k_range: list[int], options: dict, seed: int) -> int:
    """The number of mixture components with the lowest BIC over the model_selection k range."""
    ks = range(int(k_range[0]), int(k_range[1]) + 1)
    bic = [
        native_estimator("gaussian_mixture", k, options, seed).fit(features).bic(features)
        for k in ks
    ]
    return int(ks[int(np.argmin(bic))])


def fit_candidate(
    sample: dict[str, Any],
    k_selection: dict[str, Any],
    options: dict[str, Any],
    params: dict[str, Any],
    algorithm: str,
) -> dict[str, Any]:
    """Fit `algorithm` with the chosen k (HDBSCAN finds its own) on the first `max_fit_rows` rows of
    the sample; record its labels, seconds and peak memory (Python allocations, numpy included).

    An algorithm left out of `comparison.run`, or one that cannot cluster these rows, is recorded
    with that status instead of stopping the run.
    """
    algorithm = canonical_algorithm(algorithm)
    rows = min(len(sample["features"]), options.get("max_fit_rows") or len(sample["features"]))
    candidate: dict[str, Any] = {
        "algorithm": algorithm,
        "fit_rows": rows,
        "customers": sample["customers"],
    }
    if algorithm not in params["run"]:
        return {**candidate, "status": "not run (not in comparison.run)"}
    if algorithm == "k_prototypes" and not sample["categorical_blocks"]:
        return {**candidate, "status": "not run (no categorical features declared)"}
    options = _options(algorithm, options, sample)
    features = sample["features"][:rows]
    k = int(k_selection["k"])
    tracemalloc.start()
    started = time.perf_counter()
    try:
        model = _model(algorithm, k, options, params["random_state"]).fit(features)
    except ValueError as error:
        tracemalloc.stop()
        logger.warning("%s could not cluster the sample: %s", algorithm, error)
        return {**candidate, "status": f"failed: {error}"}
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    logger.info(
        "%s: %d segments on %d rows in %.2f s", algorithm, len(model.segment_ids_), rows, seconds
    )
    return {
        **candidate,
        "status": "ok",
        "k": len(model.segment_ids_),
        "labels": model.labels_,
        "fit_seconds": round(seconds, 3),
        "peak_memory_mib": round(peak / 2**20, 1),
        "bic_k": _bic_k(
            features[: params["stability_sample_size"]],
            k_selection["k_range"],
            options,
            params["random_state"],
        )
        if algorithm == "gaussian_mixture"
        else None,
    }


def score_candidate(
    sample: dict[str, Any],
    candidate: dict[str, Any],
    options: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """The yardstick for one algorithm: silhouette on the sample's first `silhouette_sample_size`
    rows (the same rows for every algorithm), Calinski-Harabasz and Davies-Bouldin on its fitted
    rows (unassigned customers left out), bootstrap stability (ARI of refits on resamples of the
    first `stability_sample_size` rows), the share unassigned and the smallest segment's share."""
    row = {column: candidate.get(column) for column in SCORE_COLUMNS}
    if candidate["status"] != "ok":
        return row
    labels = candidate["labels"]
    features = sample["features"][: len(labels)]
    assigned = labels != UNASSIGNED
    sizes = np.bincount(labels[assigned])[1:]
    row["share_unassigned"] = round(float(1 - assigned.mean()), 4)
    row["smallest_segment_share"] = round(float(sizes[sizes > 0].min() / len(labels)), 4)
    kept = np.flatnonzero(assigned)
    if len(np.unique(labels[kept])) >= 2:
        # the silhouette on the sample's first rows: the same customers for every algorithm
        first_rows = np.flatnonzero(kept < params["silhouette_sample_size"])
        indices = internal_indices(features[kept], labels[kept], first_rows)
        row.update({key: round(value, 4) for key, value in indices.items()})
    options = _options(candidate["algorithm"], options, sample)
    first = params["stability_sample_size"]
    stability, _ = resample_stability(
        features[:first],
        labels[:first],
        lambda rows, seed: _model(
            candidate["algorithm"], int(candidate["k"]), options, seed
        ).fit_predict(rows),
        params["stability_resamples"],
        params["random_state"],
    )
    row["stability"] = round(stability, 4)
    return row


def compare_algorithms(
    sample: dict[str, Any], **candidates_and_scores: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison table (one row per algorithm, in `ALGORITHMS` order) and the pairwise
    agreement (adjusted Rand index) of the algorithms that ran, on the rows they all were fitted on."""
    table = pd.DataFrame(
        [candidates_and_scores[f"{a}_scores"] for a in ALGORITHMS], columns=SCORE_COLUMNS
    )
    ran = {
        a: candidates_and_scores[f"{a}_candidate"]["labels"]
        for a in ALGORITHMS
        if candidates_and_scores[f"{a}_candidate"]["status"] == "ok"
    }
    shared = min((len(labels) for labels in ran.values()), default=0)
    agreement = pd.DataFrame(
        [[adjusted_rand_score(ran[a][:shared], ran[b][:shared]) for b in ran] for a in ran],
        index=list(ran),
        columns=list(ran),
    ).round(4)
    agreement = agreement.rename_axis("algorithm").reset_index()
    logger.info(
        "Algorithm comparison on %d of %d customers (algorithm: status, k, silhouette): %s",
        len(sample["features"]),
        sample["customers"],
        "; ".join(
            f"{row.algorithm}: {row.status}, k {row.k:g}, {row.silhouette:.4f}"
            for row in table.itertuples()
        ),
    )
    return table, agreement


def choose_algorithm(
    table: pd.DataFrame, clustering: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Which algorithm makes the segments, and why.

    `clustering.algorithm` names one (the default, `kmeans`, keeps the segments of earlier
    versions), or `best`: the highest silhouette among the algorithms whose stability is at least
    `best.min_stability`, whose smallest segment holds at least `best.min_segment_share` of the
    customers and who leave at most `best.max_unassigned_share` unassigned; k-means if none does.
    """
    rule = params["best"]
    rule_text = (
        f"the highest silhouette among algorithms with stability ≥ {rule['min_stability']}, no "
        f"segment below {rule['min_segment_share']:.0%} of customers and at most "
        f"{rule['max_unassigned_share']:.0%} unassigned"
    )
    ok = table[table["status"] == "ok"]
    eligible = ok[
        (ok["stability"] >= rule["min_stability"])
        & (ok["smallest_segment_share"] >= rule["min_segment_share"])
        & (ok["share_unassigned"] <= rule["max_unassigned_share"])
        & ok["silhouette"].notna()
    ]
    best = (
        eligible.sort_values("silhouette", ascending=False, kind="stable").iloc[0]["algorithm"]
        if len(eligible)
        else None
    )
    wanted = clustering["algorithm"]
    because = ""
    if best:
        silhouette = eligible.set_index("algorithm").loc[best, "silhouette"]
        because = (
            f"of the {len(eligible)} algorithms that meet it ({rule_text}), it separates the "
            f"segments best (silhouette {silhouette:.3f})"
            if len(eligible) > 1
            else f"it is the only algorithm that meets it ({rule_text}; silhouette {silhouette:.3f})"
        )
    if wanted == "best":
        chosen = best or "kmeans"
        reason = (
            f"Segments made by {ALGORITHM_NAMES[chosen]}, chosen by the automatic rule because "
            + because
            if best
            else f"Segments made by k-means: no algorithm meets the automatic rule ({rule_text})"
        )
    else:
        try:
            chosen = canonical_algorithm(wanted)
        except ValueError:
            raise DataValidationError(
                f"parameter clustering.algorithm: expected best or one of {', '.join(ALGORITHMS)}, "
                f"found {wanted!r}"
            ) from None
        named = f"Segments made by {ALGORITHM_NAMES[chosen]} (set by clustering.algorithm)"
        if best == chosen:
            reason = f"{named}; the automatic rule would choose it too, because {because}"
        elif best:
            reason = (
                f"{named}; the automatic rule (clustering.algorithm: best) would have chosen "
                f"{ALGORITHM_NAMES[best]} instead, because {because}"
            )
        else:
            reason = f"{named}; no algorithm meets the automatic rule ({rule_text})"
    logger.info("Algorithm: %s (%s)", chosen, reason)
    row = table.set_index("algorithm").reindex([chosen]).iloc[0]
    return {
        "algorithm": chosen,
        "k": int(row["k"]) if row["status"] == "ok" else None,
        "policy": "best" if wanted == "best" else "named",
        "rule": rule_text,
        "rule_pick": best,
        "rule_pick_name": ALGORITHM_NAMES[best] if best else None,
        "eligible": eligible["algorithm"].tolist(),
        "algorithm_name": ALGORITHM_NAMES[chosen],
        "reason": reason,
    }

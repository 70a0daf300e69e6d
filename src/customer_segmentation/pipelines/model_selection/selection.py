"""Choosing k from the sweep's metrics: each criterion's own pick, the knee, and the policies."""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from kneed import KneeLocator

logger = logging.getLogger(__name__)

CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
CRITERION_LABELS = {
    "elbow": "elbow",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "gap": "gap statistic",
}
POLICIES = ("fixed", "elbow", "silhouette", "gap", "consensus")


def find_knee(
    ks: list[int], wcss: list[float], sensitivity: float = 1.0, scale: str = "log"
) -> tuple[int | None, str]:
    """The knee of the WCSS curve found by kneed, or None with the reason there is none.

    On `scale: log` the curve is log(WCSS): the relative drop, which keeps a knee at 6–8 planted
    segments visible where the first big drops dominate the linear curve.
    """
    values = np.log(np.asarray(wcss, dtype=float)) if scale == "log" else np.asarray(wcss, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed warns when there is no knee; we log our own
        knee = KneeLocator(ks, values, curve="convex", direction="decreasing", S=sensitivity).knee
    if knee is None:
        return None, (
            f"no knee in the WCSS curve for k {ks[0]}–{ks[-1]}: it falls without a clear bend, "
            "so the elbow method cannot name a number of segments"
        )
    return int(knee), f"the WCSS curve bends at k={int(knee)} ({scale} scale)"


def gap_pick(metrics: pd.DataFrame) -> int:
    """Smallest k with gap(k) ≥ gap(k+1) - s(k+1) (Tibshirani); the largest-gap k when none qualifies."""
    rows = metrics.dropna(subset=["gap"]).sort_values("k")
    ks, gap, se = rows["k"].to_numpy(), rows["gap"].to_numpy(), rows["gap_se"].to_numpy()
    for i in range(len(ks) - 1):
        if gap[i] >= gap[i + 1] - se[i + 1]:
            return int(ks[i])
    return int(ks[np.argmax(gap)])


def criterion_picks(metrics: pd.DataFrame, knee: int | None) -> dict[str, int | None]:
    """Each criterion's own k within the sweep's range (k ≥ 2)."""
    candidates = metrics[metrics["k"] >= 2]
    return {
        "elbow": knee,
        "silhouette": int(candidates.loc[candidates["silhouette"].idxmax(), "k"]),
        "calinski_harabasz": int(candidates.loc[candidates["calinski_harabasz"].idxmax(), "k"]),
        "davies_bouldin": int(candidates.loc[candidates["davies_bouldin"].idxmin(), "k"]),
        "gap": gap_pick(candidates),
    }


def consensus_pick(picks: dict[str, int | None], stability: dict[int, float]) -> tuple[int, str]:
    """The k most criteria agree on; ties go to the more stable k, then to the smaller k."""
    votes = Counter(k for k in picks.values() if k is not None)
    top = max(votes.values())
    tied = sorted(k for k, n in votes.items() if n == top)
    chosen = sorted(tied, key=lambda k: (-stability.get(k, 0.0), k))[0]
    agree = [CRITERION_LABELS[c] for c, k in picks.items() if k == chosen]
    others = [
        f"{CRITERION_LABELS[c]} prefers {k}" for c, k in picks.items() if k not in (chosen, None)
    ]
    reason = (
        f"{len(agree)} of {len(picks)} criteria ({', '.join(agree)}) point to {chosen} segments"
    )
    if len(tied) > 1:
        if stability:
            reason += f"; the tie with k={', '.join(str(k) for k in tied if k != chosen)} goes to the more stable k"
        else:
            reason += f"; the tie with k={', '.join(str(k) for k in tied if k != chosen)} goes to the smaller k"
    if others:
        reason += f" ({'; '.join(others)})"
    return chosen, reason + "."


def choose_k(
    metrics: pd.DataFrame, picks: dict[str, int | None], knee_reason: str, params: dict[str, Any]
) -> tuple[int, str]:
    """Apply `k_policy`; return (k, one sentence a marketing analyst can read)."""
    policy = params["k_policy"]
    stability = (
        dict(zip(metrics["k"], metrics["stability_mean"], strict=True))
        if metrics["stability_mean"].notna().any()
        else {}
    )
    if policy == "fixed":
        return int(params["k"]), f"k={params['k']} is set in the parameters (k_policy: fixed)."
    if policy == "elbow":
        if picks["elbow"] is not None:
            return picks["elbow"], f"Elbow method: {knee_reason}; more segments add little."
        logger.warning("k_policy elbow: %s; falling back to the silhouette pick", knee_reason)
        return picks["silhouette"], (
            f"Elbow method found no knee ({knee_reason}); fell back to the best silhouette, "
            f"k={picks['silhouette']}."
        )
    if policy == "silhouette":
        row = metrics.set_index("k").loc[picks["silhouette"]]
        return picks["silhouette"], (
            f"k={picks['silhouette']} has the highest mean silhouette ({row['silhouette']:.2f}): "
            "customers are closest to their own segment relative to the next one."
        )
    if policy == "gap":
        return picks["gap"], (
            f"k={picks['gap']} is the smallest number of segments whose gap statistic is within one "
            "standard error of the next k's (Tibshirani's rule)."
        )
    chosen, reason = consensus_pick(picks, stability)
    return chosen, reason[0].upper() + reason[1:]

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


INDICES = ("silhouette", "calinski_harabasz", "davies_bouldin")  # the criteria with a noise


def _figure(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3f}"


def criterion_verdicts(metrics: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Whether silhouette, Calinski-Harabasz and Davies-Bouldin can tell their pick from their
    runner-up (the second-best k by the same index).

    A criterion decides when its pick beats the runner-up by more than the noise: one standard
    error of the difference, √(se_pick² + se_runner_up²), from the sweep's bootstrap standard
    errors (`<index>_se`), the same one-standard-error rule as the gap statistic's. Otherwise it
    abstains. Without measured noise (`criterion_resamples: 0`) every criterion decides. The elbow
    (a shape, not a score) and the gap statistic (its rule already weighs its standard error)
    always decide.
    """
    candidates = metrics[metrics["k"] >= 2].set_index("k")
    verdicts = {}
    for name in INDICES:
        values = candidates[name].dropna()
        ordered = values.sort_values(ascending=name == "davies_bouldin", kind="stable").index
        best = int(ordered[0])
        verdict: dict[str, Any] = {"k": best, "value": round(float(values[best]), 4)}
        verdict.update(runner_up=None, runner_up_value=None, noise=None, decides=True)
        if len(ordered) > 1:
            runner = int(ordered[1])
            verdict.update(runner_up=runner, runner_up_value=round(float(values[runner]), 4))
            errors = candidates.get(f"{name}_se")
            if errors is not None and errors[[best, runner]].notna().all():
                noise = float(np.hypot(errors[best], errors[runner]))
                verdict.update(
                    noise=round(noise, 4), decides=bool(abs(values[best] - values[runner]) > noise)
                )
        verdicts[name] = verdict
    return verdicts


def _abstention(name: str, verdict: dict[str, Any]) -> str:
    return (
        f"{CRITERION_LABELS[name]} cannot tell {verdict['k']} from {verdict['runner_up']} "
        f"({_figure(verdict['value'])} vs {_figure(verdict['runner_up_value'])}, "
        f"noise ±{_figure(verdict['noise'])})"
    )


def _apart(a: float, b: float) -> tuple[str, str]:
    """Two figures with as few decimals (2 to 4) as tell them apart."""
    digits = next((d for d in (2, 3) if f"{a:.{d}f}" != f"{b:.{d}f}"), 4)
    return f"{a:.{digits}f}", f"{b:.{digits}f}"


def _names(criteria: list[str]) -> str:
    labels = [CRITERION_LABELS[c] for c in criteria]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def consensus_pick(
    picks: dict[str, int | None],
    stability: dict[int, float],
    verdicts: dict[str, dict[str, Any]] | None = None,
    stability_se: dict[int, float] | None = None,
) -> tuple[int, str, dict[str, Any] | None]:
    """The k the deciding criteria vote for, the reason, and the near tie when there is one.

    A criterion whose pick is within its noise of its runner-up abstains (`criterion_verdicts`).
    The vote is close when the leading k has at most one vote more than the next: then the more
    stable of the two (bootstrap ARI, by more than one standard error of the difference) is
    chosen, else the leader, else the smaller k; the near tie is recorded either way.
    """
    verdicts = verdicts or {}
    stability_se = stability_se or {}
    abstained = [c for c, v in verdicts.items() if not v["decides"] and picks.get(c) is not None]
    voters = {c: k for c, k in picks.items() if k is not None and c not in abstained}
    votes = Counter(voters.values()) or Counter(k for k in picks.values() if k is not None)
    ranked = sorted(votes, key=lambda k: (-votes[k], k))
    leader = ranked[0]
    chosen, near_tie = leader, None
    if len(ranked) > 1 and votes[leader] - votes[ranked[1]] <= 1:
        rival = ranked[1]

        def steadier(a: int, b: int) -> bool:
            if a not in stability or b not in stability:
                return False
            margin = np.hypot(stability_se.get(a, 0.0), stability_se.get(b, 0.0))
            return stability[a] - stability[b] > margin

        chosen = rival if steadier(rival, leader) else leader
        other = rival if chosen == leader else leader
        near_tie = {
            "k": chosen,
            "with": other,
            "votes": {str(chosen): votes[chosen], str(other): votes[other]},
            "stability": {
                str(k): round(stability[k], 4) for k in (chosen, other) if k in stability
            },
            "decided_by": "stability"
            if steadier(chosen, other)
            else ("votes" if votes[chosen] > votes[other] else "smaller k"),
        }
    reason = _consensus_reason(chosen, near_tie, voters, picks, verdicts, abstained, stability)
    return chosen, reason, near_tie


def _consensus_reason(chosen, near_tie, voters, picks, verdicts, abstained, stability) -> str:
    """One sentence: who points where, who abstains and why, how a near tie was settled."""
    agree = [c for c, k in voters.items() if k == chosen]
    notes = [_abstention(c, verdicts[c]) for c in abstained]
    if near_tie is None:
        reason = f"{len(agree)} of {len(picks)} criteria" + (
            f" ({_names(agree)}) point to {chosen} segments" if agree else f" point to {chosen}"
        )
        others = [f"{CRITERION_LABELS[c]} prefers {k}" for c, k in voters.items() if k != chosen]
        notes = others + notes
        return reason + (f" ({'; '.join(notes)})" if notes else "") + "."
    other = near_tie["with"]
    sides = []
    for k in (chosen, other):
        backers = [c for c, v in voters.items() if v == k]
        sides.append(f"{_names(backers)} for {k}" if backers else f"no criterion for {k}")
    figures = [f"{'; '.join(sides)}"] + notes
    by = near_tie["decided_by"]
    if by == "stability":
        a, b = _apart(stability[chosen], stability[other])
        figures.append(f"{chosen} is the more stable (bootstrap ARI {a} vs {b}), so it is chosen")
    elif stability:
        steady = [stability.get(k) for k in (chosen, other)]
        shown = " vs ".join("n/a" if v is None else f"{v:.2f}" for v in steady)
        figures.append(
            f"neither is clearly more stable (bootstrap ARI {shown}), so the "
            + ("one with more votes" if by == "votes" else "smaller k")
            + " is chosen"
        )
    else:
        figures.append(
            "stability was not measured (stability_resamples: 0), so the "
            + ("one with more votes" if by == "votes" else "smaller k")
            + " is chosen"
        )
    return f"k = {chosen} (near tie with {other}: {'; '.join(figures)})."


def choose_k(
    metrics: pd.DataFrame, picks: dict[str, int | None], knee_reason: str, params: dict[str, Any]
) -> tuple[int, str, dict[str, Any] | None]:
    """Apply `k_policy`; return (k, one sentence a marketing analyst can read, the near tie of a
    consensus vote or None)."""
    policy = params["k_policy"]
    if policy != "consensus":
        return (*_single_criterion(metrics, picks, knee_reason, params), None)
    stability, stability_se = {}, {}
    if metrics["stability_mean"].notna().any():
        rows = metrics.dropna(subset=["stability_mean"])
        stability = dict(zip(rows["k"], rows["stability_mean"], strict=True))
        resamples = params.get("stability_resamples") or 0
        if resamples:
            spread = rows["stability_std"] / np.sqrt(resamples)
            stability_se = dict(zip(rows["k"], spread, strict=True))
    chosen, reason, near_tie = consensus_pick(
        picks, stability, criterion_verdicts(metrics), stability_se
    )
    return chosen, reason if near_tie else reason[0].upper() + reason[1:], near_tie


def _single_criterion(
    metrics: pd.DataFrame, picks: dict[str, int | None], knee_reason: str, params: dict[str, Any]
) -> tuple[int, str]:
    """The k of the fixed, elbow, silhouette and gap policies, and the reason."""
    policy = params["k_policy"]
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
    raise AssertionError(f"unknown k_policy {policy!r}")  # check_k_range refuses it first

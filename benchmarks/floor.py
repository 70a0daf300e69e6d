"""The bare scikit-learn floor: what a plain script needs for the same analysis, with no framework.

`python benchmarks/floor.py customers.csv [labels.parquet]` reads the CSV, standard-scales income and
spending score, fits K-Means for k = 1 … 10 (k-means++, n_init=3, all rows), computes the silhouette
on a seeded 10,000-row sample and Calinski-Harabasz and Davies-Bouldin on all rows, picks the k with the
best silhouette, and fits the final model at that k (n_init=10) on all rows. It prints
`{"k": …, "silhouette": …}` and, given a second path, writes each customer's label there: the
full-data K-Means the workflow benchmark compares the project's segments with (adjusted Rand index).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

FEATURES = ["Annual Income (k$)", "Spending Score (1-100)"]


def main(path: str, labels_path: str | None = None) -> None:
    customers = pd.read_csv(path)
    features = StandardScaler().fit_transform(customers[FEATURES].to_numpy(dtype=float))
    sample = np.random.default_rng(42).choice(len(features), min(10_000, len(features)), False)
    silhouettes = {}
    for k in range(1, 11):
        labels = KMeans(k, n_init=3, random_state=42).fit_predict(features)
        if k >= 2:
            silhouettes[k] = silhouette_score(features[sample], labels[sample])
            calinski_harabasz_score(features, labels)
            davies_bouldin_score(features, labels)
    best = max(silhouettes, key=silhouettes.get)
    final = KMeans(best, n_init=10, random_state=42).fit(features)
    if labels_path:
        pd.DataFrame(
            {"customer_id": customers["CustomerID"].astype(str), "label": final.labels_}
        ).to_parquet(labels_path, index=False)
    print(json.dumps({"k": best, "silhouette": round(float(silhouettes[best]), 4)}))  # noqa: T201


if __name__ == "__main__":
    main(*sys.argv[1:])

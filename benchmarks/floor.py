"""The bare scikit-learn floor: what a plain script needs for the same analysis, with no framework.

`python -m benchmarks.floor customers.csv` reads the CSV, standard-scales income and spending score,
fits K-Means for k = 1 … 10 (k-means++, n_init=3, all rows), computes the silhouette on a seeded
10,000-row sample and Calinski-Harabasz and Davies-Bouldin on all rows, then fits the final model
(k=5, n_init=10). The workflow benchmark reports the project's `kedro run` as a ratio to this.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

FEATURES = ["Annual Income (k$)", "Spending Score (1-100)"]


def main(path: str) -> None:
    customers = pd.read_csv(path)
    features = StandardScaler().fit_transform(customers[FEATURES].to_numpy(dtype=float))
    sample = np.random.default_rng(42).choice(len(features), min(10_000, len(features)), False)
    for k in range(1, 11):
        labels = KMeans(k, n_init=3, random_state=42).fit_predict(features)
        if k >= 2:
            silhouette_score(features[sample], labels[sample])
            calinski_harabasz_score(features, labels)
            davies_bouldin_score(features, labels)
    KMeans(5, n_init=10, random_state=42).fit(features)


if __name__ == "__main__":
    main(sys.argv[1])

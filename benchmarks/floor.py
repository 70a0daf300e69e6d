"""The bare scikit-learn floor: what a plain script needs for the same analysis, with no framework.

`python benchmarks/floor.py customers.csv [--labels labels.parquet] [--id COLUMN --features A B ...
--log1p]` reads the CSV, standard-scales the features (default: the Mall file's income and spending
score; `--log1p` first takes log1p, as the cards example does), fits K-Means for k = 1 … 10
(k-means++, n_init=3, all rows), computes the silhouette on a seeded 10,000-row sample and
Calinski-Harabasz and Davies-Bouldin on all rows, picks the k with the best silhouette, and fits the
final model at that k (n_init=10) on all rows. It prints `{"k": …, "silhouette": …}` and, with
`--labels`, writes each customer's label there: the full-data K-Means the workflow benchmark compares
the project's segments with (adjusted Rand index).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("csv")
    parser.add_argument("--labels", help="write the final fit's label of every customer (Parquet)")
    parser.add_argument("--id", default="CustomerID")
    parser.add_argument(
        "--features", nargs="+", default=["Annual Income (k$)", "Spending Score (1-100)"]
    )
    parser.add_argument("--log1p", action="store_true", help="log1p of the features before scaling")
    return parser.parse_args()


def scaled_features(customers: pd.DataFrame, args: argparse.Namespace) -> np.ndarray:
    values = customers[args.features].to_numpy(dtype=float)
    return StandardScaler().fit_transform(np.log1p(values) if args.log1p else values)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    customers = pd.read_csv(args.csv)
    features = scaled_features(customers, args)
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
    if args.labels:
        ids = customers[args.id].astype(str)
        pd.DataFrame({"customer_id": ids, "label": final.labels_}).to_parquet(args.labels)
    print(json.dumps({"k": best, "silhouette": round(float(silhouettes[best]), 4)}))  # noqa: T201


if __name__ == "__main__":
    main()

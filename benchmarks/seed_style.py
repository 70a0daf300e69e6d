"""The notebook way, which this project replaces: K-Means for k = 2 … 10 with scikit-learn's defaults
(n_init=10 here, as notebooks copied from the Mall Customers tutorials do), the silhouette of every k
on every row, and k = the best silhouette.

`python benchmarks/seed_style.py customers.csv [--id … --features … --log1p]` (the options of
`floor.py`) prints `{"k": …, "silhouette": …}`. The full-data silhouette costs time in the square of
the rows, so the workflow benchmark runs this only up to `SEED_STYLE_MAX_ROWS` customers (where it can
finish); it is the reference for "the same answer".
"""

from __future__ import annotations

import json

import pandas as pd
from floor import arguments, scaled_features
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    features = scaled_features(pd.read_csv(args.csv), args)
    silhouettes = {}
    for k in range(2, 11):
        labels = KMeans(k, n_init=10, random_state=42).fit_predict(features)
        silhouettes[k] = silhouette_score(features, labels)
    best = max(silhouettes, key=silhouettes.get)
    print(json.dumps({"k": best, "silhouette": round(float(silhouettes[best]), 4)}))  # noqa: T201


if __name__ == "__main__":
    main()

"""The bare-library floor of the scoring service: FastAPI on uvicorn (same workers) around the newest
saved `segment_model.pkl`, nothing else: no validation, no quarantine, no Kedro.

    .venv/bin/python -m benchmarks.service_floor --port 8001     # after `make run`

POST /score takes the same JSON as the service (a list of customer objects with the Kaggle headers)
and answers segment id and distance. `benchmarks.service_load --compare` starts it beside the service.
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request

MODEL = Path("data/06_models/segment_model.pkl")
HEADERS = {"Annual Income (k$)": "annual_income_k", "Spending Score (1-100)": "spending_score"}


def floor_app() -> FastAPI:
    newest = sorted(p for p in MODEL.iterdir() if p.is_dir())[-1]
    model = pickle.loads((newest / MODEL.name).read_bytes())
    features = list(model.named_steps["features"].feature_names_in_)
    app = FastAPI()

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/score")
    async def score(request: Request) -> dict:
        customers = pd.DataFrame.from_records(await request.json()).rename(columns=HEADERS)
        X = customers[features].astype(float)  # noqa: N806
        distances = model.transform(X)
        return {
            "segment_id": model.predict(X).tolist(),
            "distance": np.min(distances, axis=1).tolist(),
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the service does for its workers
    uvicorn.run(
        f"{__name__}:floor_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

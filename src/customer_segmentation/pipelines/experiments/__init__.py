"""Compare the tracked MLflow runs: which experiment gave which segments."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

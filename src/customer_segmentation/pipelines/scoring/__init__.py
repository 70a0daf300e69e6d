"""Place new customers in the saved model's segments, with the same validation as training."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Place new customers in the saved model's segments, with the same validation as training."""

from .pipeline import create_order_log_scoring, create_pipeline

__all__ = ["create_order_log_scoring", "create_pipeline"]

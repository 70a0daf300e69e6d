"""Order lines -> one row of behaviour per customer (netting, RFM and more)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

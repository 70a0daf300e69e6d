"""Plots of customers and segments, and the self-contained HTML segment report."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

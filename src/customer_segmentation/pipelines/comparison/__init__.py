"""Clustering algorithms compared side by side: one template pipeline, one namespace per algorithm."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

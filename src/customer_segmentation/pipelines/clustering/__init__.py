"""Final K-Means model, stable named segments, profiles and the segmented customer table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

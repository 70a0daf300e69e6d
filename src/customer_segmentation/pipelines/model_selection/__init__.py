"""Sweep k, score every candidate, choose k with a recorded reason."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

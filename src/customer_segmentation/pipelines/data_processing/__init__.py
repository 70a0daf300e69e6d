"""Validate and clean raw customers; build scaled model features."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

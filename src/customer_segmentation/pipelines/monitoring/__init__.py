"""Monitoring: drift of scored batches against the training customers, and segment migration between
two versions of the segmented customers."""

from .pipeline import create_drift_pipeline, create_migration_pipeline, create_pipeline

__all__ = ["create_drift_pipeline", "create_migration_pipeline", "create_pipeline"]

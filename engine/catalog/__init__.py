"""Introspection: catalog queries (kept as .sql files) -> engine.model.Schema."""

from engine.catalog.runner import InspectStats, run_catalog_queries

__all__ = ["InspectStats", "run_catalog_queries"]

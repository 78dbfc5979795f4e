"""Objects present in a database that pg-flux does not manage: reported, never silently skipped."""

from __future__ import annotations

from engine.model.base import Model


class UnmanagedObject(Model):
    kind: str  # "rule", "cast", "operator", "publication", "text search configuration", ...
    identity: str  # pg_describe_object() or a qualified name

    def __str__(self) -> str:
        return f"{self.kind} {self.identity}"

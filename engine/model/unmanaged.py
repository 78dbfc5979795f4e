"""Objects present in a database that pg-flux does not manage: reported, never silently skipped."""

from __future__ import annotations

from engine.model.base import Model


class UnmanagedObject(Model):
    kind: str  # pg_identify_object().type: "rule", "cast", "operator", "publication", ...
    identity: str  # pg_describe_object(): already names the kind ("rule r on table t")

    def __str__(self) -> str:
        if self.identity.startswith(self.kind):
            return self.identity
        return f"{self.kind} {self.identity}"

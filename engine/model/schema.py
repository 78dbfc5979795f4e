"""The whole model of one database's managed schema, and its fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from engine.model.base import Dependency, Model, ObjectKey, SchemaObject
from engine.model.constraints import Constraint
from engine.model.foreign import ForeignDataWrapper, ForeignServer, UserMapping
from engine.model.indexes import Index
from engine.model.namespaces import Collation, Extension, Namespace
from engine.model.policies import Policy
from engine.model.privileges import DefaultPrivilege
from engine.model.routines import Routine
from engine.model.sequences import Sequence
from engine.model.statistics import Statistics
from engine.model.tables import Column, Table
from engine.model.triggers import EventTrigger, Trigger
from engine.model.types import CompositeType, DomainType, EnumType, RangeType
from engine.model.unmanaged import UnmanagedObject
from engine.model.views import MaterializedView, View

# The object collections of a Schema, in the order a reader expects them in `inspect` output.
OBJECT_FIELDS: tuple[str, ...] = (
    "schemas",
    "extensions",
    "collations",
    "enums",
    "composites",
    "domains",
    "ranges",
    "sequences",
    "routines",
    "tables",
    "columns",
    "constraints",
    "indexes",
    "views",
    "matviews",
    "triggers",
    "event_triggers",
    "policies",
    "statistics",
    "default_privileges",
    "fdws",
    "servers",
    "user_mappings",
)


class Schema(Model):
    """Every managed object of one database, each collection sorted by key (deterministic JSON)."""

    server_version_num: int = 0
    schemas: tuple[Namespace, ...] = ()
    extensions: tuple[Extension, ...] = ()
    collations: tuple[Collation, ...] = ()
    enums: tuple[EnumType, ...] = ()
    composites: tuple[CompositeType, ...] = ()
    domains: tuple[DomainType, ...] = ()
    ranges: tuple[RangeType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    routines: tuple[Routine, ...] = ()
    tables: tuple[Table, ...] = ()
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    views: tuple[View, ...] = ()
    matviews: tuple[MaterializedView, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    event_triggers: tuple[EventTrigger, ...] = ()
    policies: tuple[Policy, ...] = ()
    statistics: tuple[Statistics, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()
    fdws: tuple[ForeignDataWrapper, ...] = ()
    servers: tuple[ForeignServer, ...] = ()
    user_mappings: tuple[UserMapping, ...] = ()
    # Not compared, reported: objects in the database that pg-flux does not manage.
    unmanaged: tuple[UnmanagedObject, ...] = ()
    # Not compared: what depends on what, for ordering statements and rebuilding dependents.
    dependencies: tuple[Dependency, ...] = ()

    def objects(self) -> Iterator[SchemaObject]:
        for field in OBJECT_FIELDS:
            yield from getattr(self, field)

    def by_key(self) -> dict[ObjectKey, SchemaObject]:
        return {obj.key: obj for obj in self.objects()}

    def sorted(self) -> Schema:
        """The same schema with every collection in key order."""
        return self.model_copy(
            update={
                field: tuple(sorted(getattr(self, field), key=lambda o: o.key.sort_key))
                for field in OBJECT_FIELDS
            }
            | {
                "unmanaged": tuple(sorted(self.unmanaged, key=str)),
                "dependencies": tuple(
                    sorted(
                        self.dependencies,
                        key=lambda d: (d.dependent.sort_key, d.referenced.sort_key),
                    )
                ),
            }
        )

    def fingerprint(self) -> str:
        """sha256 of what is compared: equal schemas have equal fingerprints.

        Dependencies, statistics, positions and the server version are left out, so the same
        schema read from two servers (or twice) gives one fingerprint.
        """
        digest = hashlib.sha256()
        for obj in sorted(self.objects(), key=lambda o: o.key.sort_key):
            digest.update(type(obj).__name__.encode())
            digest.update(b"\0")
            digest.update(_canonical_json(obj))
            digest.update(b"\n")
        return "sha256:" + digest.hexdigest()

    def to_json(self) -> str:
        return self.sorted().model_dump_json(by_alias=True, indent=2)


def _canonical_json(obj: SchemaObject) -> bytes:
    return json.dumps(obj.compared(), sort_keys=True, separators=(",", ":"), default=str).encode()

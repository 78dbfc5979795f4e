"""Role names a schema mentions: they must exist in the shadow before it can be rebuilt there."""

from __future__ import annotations

from operator import attrgetter

from engine.model.base import Granted, Owned
from engine.model.foreign import UserMapping
from engine.model.policies import Policy
from engine.model.privileges import DefaultPrivilege
from engine.model.schema import OBJECT_FIELDS, Schema

# Not roles, or roles every cluster has.
_PSEUDO_ROLES = frozenset({"PUBLIC", "public", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"})


def roles_in(schema: Schema, *, with_owners: bool = False) -> set[str]:
    """Computed once per schema (a walk over every object: planning and verification both
    ask); a fresh set each call."""
    return set(schema.memo(f"roles_in:{with_owners}", lambda s: _roles_in(s, with_owners)))


def _roles_in(schema: Schema, with_owners: bool) -> frozenset[str]:
    names: set[str] = set()
    # Per collection, by class: isinstance on a pydantic model is a Python call (its metaclass's
    # __instancecheck__), ~1 us, and 250,000 objects took four each (3 s at 5,000 tables).
    for field in OBJECT_FIELDS:
        items = getattr(schema, field)
        classes = {type(obj) for obj in items}
        for cls in classes:
            objects = items if len(classes) == 1 else [obj for obj in items if type(obj) is cls]
            if issubclass(cls, Granted):
                for acl in filter(None, map(_acl, objects)):
                    names.update(p.grantee for p in acl)
            if with_owners and issubclass(cls, Owned):
                names.update(filter(None, map(_owner, objects)))
            if issubclass(cls, Policy):
                for policy in objects:
                    names.update(policy.roles)
            elif issubclass(cls, DefaultPrivilege):
                for default in objects:
                    names.add(default.role)
                    names.update(p.grantee for p in default.acl)
            elif issubclass(cls, UserMapping):
                names.update(mapping.user for mapping in objects)
    # pg_* roles are predefined in every cluster (and reserved).
    return frozenset(n for n in names if n not in _PSEUDO_ROLES and not n.startswith("pg_"))


_acl = attrgetter("acl")
_owner = attrgetter("owner")

"""Role names a schema mentions: they must exist in the shadow before it can be rebuilt there."""

from __future__ import annotations

from engine.model.base import Granted, Owned
from engine.model.foreign import UserMapping
from engine.model.policies import Policy
from engine.model.privileges import DefaultPrivilege
from engine.model.schema import Schema

# Not roles, or roles every cluster has.
_PSEUDO_ROLES = frozenset({"PUBLIC", "public", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"})


def roles_in(schema: Schema, *, with_owners: bool = False) -> set[str]:
    """Computed once per schema (a walk over every object: planning and verification both
    ask); a fresh set each call."""
    return set(schema.memo(f"roles_in:{with_owners}", lambda s: _roles_in(s, with_owners)))


def _roles_in(schema: Schema, with_owners: bool) -> frozenset[str]:
    names: set[str] = set()
    for obj in schema.objects():
        if isinstance(obj, Granted):
            names.update(p.grantee for p in obj.acl)
        if with_owners and isinstance(obj, Owned) and obj.owner:
            names.add(obj.owner)
        if isinstance(obj, Policy):
            names.update(obj.roles)
        elif isinstance(obj, DefaultPrivilege):
            names.add(obj.role)
            names.update(p.grantee for p in obj.acl)
        elif isinstance(obj, UserMapping):
            names.add(obj.user)
    # pg_* roles are predefined in every cluster (and reserved).
    return frozenset(n for n in names if n not in _PSEUDO_ROLES and not n.startswith("pg_"))

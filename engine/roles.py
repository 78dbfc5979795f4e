"""Role names a schema mentions: they must exist in the shadow before it can be rebuilt there."""

from __future__ import annotations

from engine.model.base import Granted, Owned
from engine.model.schema import Schema

_PSEUDO_ROLES = frozenset({"PUBLIC", "public", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE"})


def roles_in(schema: Schema, *, with_owners: bool = False) -> set[str]:
    names: set[str] = set()
    for obj in schema.objects():
        if isinstance(obj, Granted):
            names.update(p.grantee for p in obj.acl)
        if with_owners and isinstance(obj, Owned) and obj.owner:
            names.add(obj.owner)
        # Policies name roles, default privileges a FOR ROLE, user mappings a user.
        for attribute in ("roles",):
            value = getattr(obj, attribute, None)
            if isinstance(value, tuple):
                names.update(v for v in value if isinstance(v, str))
        for attribute in ("role", "user"):
            value = getattr(obj, attribute, None)
            if isinstance(value, str):
                names.add(value)
        acl = getattr(obj, "acl", None)
        if isinstance(acl, tuple) and not isinstance(obj, Granted):
            names.update(getattr(p, "grantee", "PUBLIC") for p in acl)
    return {n for n in names if n not in _PSEUDO_ROLES and not n.startswith("pg_")}

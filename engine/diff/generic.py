"""Comments, privileges and owners: the same for every kind, so diffed once, here."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step
from engine.model.base import Commented, Granted, ObjectKey, Owned, Privilege, SchemaObject
from engine.model.routines import Routine
from engine.plan.model import HazardCode, Severity
from engine.sqltext import ident, literal

GENERIC_FIELDS = frozenset({"comment", "acl", "owner"})

# What a freshly created object grants without any GRANT (acldefault), owner entries left out.
_PUBLIC_DEFAULTS: dict[str, tuple[Privilege, ...]] = {
    "function": (Privilege(grantee="PUBLIC", privilege="EXECUTE"),),
    "procedure": (Privilege(grantee="PUBLIC", privilege="EXECUTE"),),
    "aggregate": (Privilege(grantee="PUBLIC", privilege="EXECUTE"),),
    "enum": (Privilege(grantee="PUBLIC", privilege="USAGE"),),
    "composite": (Privilege(grantee="PUBLIC", privilege="USAGE"),),
    "domain": (Privilege(grantee="PUBLIC", privilege="USAGE"),),
    "range": (Privilege(grantee="PUBLIC", privilege="USAGE"),),
}


def default_acl(kind: str) -> tuple[Privilege, ...]:
    return _PUBLIC_DEFAULTS.get(kind, ())


# Which ALTER DEFAULT PRIVILEGES object type a created object of each kind picks up.
_DEFAULT_PRIVILEGE_TYPE: dict[str, str] = {
    "table": "tables",
    "view": "tables",
    "matview": "tables",
    "sequence": "sequences",
    "function": "functions",
    "procedure": "functions",
    "aggregate": "functions",
    "enum": "types",
    "composite": "types",
    "domain": "types",
    "range": "types",
    "schema": "schemas",
}


def default_privilege_grantees(kind: str, schema: str | None, ctx: PlanContext) -> list[str]:
    """The roles that default privileges, on either side, may give (or take from) an object of
    `kind` that the plan creates in `schema`, its owner aside.

    Whether an entry applies depends on the role that runs the plan (FOR ROLE) and on where the
    plan's own ALTER DEFAULT PRIVILEGES fall, so a created object is not assumed to start from
    PostgreSQL's defaults when any entry could touch it: it is cleared of every such role's
    privileges and granted exactly its desired ones.
    """
    object_type = _DEFAULT_PRIVILEGE_TYPE.get(kind)
    if object_type is None:
        return []
    grantees: set[str] = set()
    for entries in (ctx.current.default_privileges, ctx.desired.default_privileges):
        for entry in entries:
            if entry.object_type != object_type or entry.in_schema not in (None, schema):
                continue
            # the entry's role owns what it creates; another entry may still name that role
            grantees.update(
                p.grantee for p in (*entry.acl, *entry.baseline) if p.grantee != entry.role
            )
    return sorted(grantees)


def own_fields_differ(old: SchemaObject, new: SchemaObject) -> bool:
    a, b = old.compared(), new.compared()
    # Only the mixins' fields are generic: a kind may have an `acl` of its own (default
    # privileges), which its handler diffs.
    generic = {
        name
        for name, mixin in (("comment", Commented), ("acl", Granted), ("owner", Owned))
        if isinstance(new, mixin)
    }
    for name in generic:
        a.pop(name, None)
        b.pop(name, None)
    return a != b


# GRANT names some objects differently from COMMENT ON / ALTER ... OWNER TO.
_GRANT_SPELLING: tuple[tuple[str, str], ...] = (
    ("MATERIALIZED VIEW ", "TABLE "),
    ("FOREIGN TABLE ", "TABLE "),
    ("VIEW ", "TABLE "),
    ("SERVER ", "FOREIGN SERVER "),
    ("AGGREGATE ", "FUNCTION "),
)


def grant_target(ref: str) -> str:
    """`VIEW public.v` -> `TABLE public.v`: the form GRANT and REVOKE accept for `ref`."""
    for prefix, replacement in _GRANT_SPELLING:
        if ref.startswith(prefix):
            return replacement + ref[len(prefix) :]
    return ref


def _grantee(name: str) -> str:
    return "PUBLIC" if name == "PUBLIC" else ident(name)


def generic_steps(
    handler: Handler[SchemaObject],
    old: SchemaObject | None,
    new: SchemaObject,
    ctx: PlanContext,
) -> list[Step]:
    """COMMENT / GRANT / REVOKE / OWNER TO steps that take `old` (None: just created) to `new`."""
    # What changes is decided first: most objects of a create plan have no comment, no grant
    # and no managed owner, and their references (quoted names) need not be printed.
    comment = isinstance(new, Commented) and new.comment != (
        old.comment if isinstance(old, Commented) else None
    )
    owner = (
        isinstance(new, Owned)
        and ctx.options.manage_ownership
        and new.owner is not None
        and new.owner != (old.owner if isinstance(old, Owned) else None)
    )
    acl = False
    cleared: list[str] = []  # roles whose privileges a created object is cleared of first
    if isinstance(new, Granted):
        # the key's kind (a routine's is function, procedure or aggregate), without a key
        kind = new.routine_kind if isinstance(new, Routine) else new.kind
        if isinstance(old, Granted):
            before_acl = old.acl
        elif ctx.current.default_privileges or ctx.desired.default_privileges:
            schema = new.name if kind == "schema" else new.key.schema_
            cleared = default_privilege_grantees(kind, schema, ctx)
            before_acl = () if cleared else default_acl(kind)
        else:
            before_acl = default_acl(kind)
        acl = bool(cleared) or set(before_acl) != set(new.acl)
    if not (comment or owner or acl):
        return []
    ref = handler.ref(new)
    if ref is None:
        return []
    key = new.key
    steps: list[Step] = []
    if comment:
        assert isinstance(new, Commented)
        steps.append(
            Step(
                key=key,
                action="alter",
                sql=f"COMMENT ON {ref} IS {literal(new.comment)}",
                lock="SHARE UPDATE EXCLUSIVE",
                incidental=True,
            )
        )
    if owner:
        assert isinstance(new, Owned)
        assert new.owner is not None
        steps.append(
            Step(
                key=key,
                action="alter",
                sql=f"ALTER {ref} OWNER TO {ident(new.owner)}",
                incidental=True,
                hazards=(
                    ctx.hazard(
                        HazardCode.AUTHZ_CHANGE,
                        Severity.MEDIUM,
                        f"changes the owner of {key.display} to {new.owner}",
                    ),
                ),
            )
        )
    acl_target = handler.acl_ref(new) if acl else None
    if acl_target is not None:
        assert isinstance(new, Granted)
        acl_ref, columns = acl_target
        steps.extend(cleared_steps(key, acl_ref, cleared, ctx))
        steps.extend(acl_steps(key, acl_ref, before_acl, new.acl, ctx, columns=columns))
    return steps


def cleared_steps(key: ObjectKey, ref: str, grantees: list[str], ctx: PlanContext) -> list[Step]:
    """REVOKE ALL from each role that default privileges may have given a created object
    (`default_privilege_grantees`)."""
    return [
        _authz_step(
            key,
            f"REVOKE ALL ON {grant_target(ref)} FROM {_grantee(grantee)}",
            f"clears what default privileges gave {grantee}",
            ctx,
        )
        for grantee in grantees
    ]


def acl_steps(
    key: ObjectKey,
    ref: str,
    before: tuple[Privilege, ...],
    after: tuple[Privilege, ...],
    ctx: PlanContext,
    *,
    columns: str = "",
    prefix: str = "",
) -> list[Step]:
    """GRANT what is new, REVOKE what is gone; `columns` is `(col)` for column privileges.

    `ref` is what follows ON (`TABLE public.t`, or `TABLES` for default privileges); `prefix`
    goes before GRANT / REVOKE (`ALTER DEFAULT PRIVILEGES FOR ROLE r `).
    """
    ref = grant_target(ref)
    old, new = set(before), set(after)
    steps: list[Step] = []
    for priv in sorted(old - new, key=lambda p: (p.grantee, p.privilege)):
        # A grant whose only change is WITH GRANT OPTION is revoked only for the option.
        still = Privilege(grantee=priv.grantee, privilege=priv.privilege, grantable=False)
        if priv.grantable and still in new:
            sql = (
                f"{prefix}REVOKE GRANT OPTION FOR {priv.privilege}{columns} ON {ref} "
                f"FROM {_grantee(priv.grantee)}"
            )
        elif not priv.grantable and priv.model_copy(update={"grantable": True}) in new:
            continue  # the GRANT ... WITH GRANT OPTION below covers it
        else:
            sql = f"{prefix}REVOKE {priv.privilege}{columns} ON {ref} FROM {_grantee(priv.grantee)}"
        steps.append(_authz_step(key, sql, f"revokes {priv.privilege} from {priv.grantee}", ctx))
    for priv in sorted(new - old, key=lambda p: (p.grantee, p.privilege)):
        if not priv.grantable and priv.model_copy(update={"grantable": True}) in old:
            continue  # the REVOKE GRANT OPTION FOR above keeps the privilege itself
        option = " WITH GRANT OPTION" if priv.grantable else ""
        sql = (
            f"{prefix}GRANT {priv.privilege}{columns} ON {ref} TO {_grantee(priv.grantee)}{option}"
        )
        steps.append(_authz_step(key, sql, f"grants {priv.privilege} to {priv.grantee}", ctx))
    return steps


def _authz_step(key: ObjectKey, sql: str, what: str, ctx: PlanContext) -> Step:
    return Step(
        key=key,
        action="alter",
        sql=sql,
        lock="NONE",
        hazards=(ctx.hazard(HazardCode.AUTHZ_CHANGE, Severity.LOW, f"{what} on {key.display}"),),
        incidental=True,
    )

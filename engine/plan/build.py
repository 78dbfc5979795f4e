"""The planning pipeline: schema/ -> shadow -> desired; production -> current; plan; verify."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import psycopg
from pydantic import BaseModel, ConfigDict

from engine import dsn as dsnlib
from engine.catalog import INSPECT_CONNECTIONS, InspectStats, inspect_dsn
from engine.catalog.runner import analyze_catalogs
from engine.config import ObjectFilter, filter_schema
from engine.diff.context import PlanOptions
from engine.errors import ConnectionFailed, SchemaLoadError, ShadowError
from engine.load import SourceLocation, parse_and_load
from engine.model.schema import Schema
from engine.plan.model import Plan, Statement, statements_fingerprint
from engine.plan.planner import plan_statements
from engine.roles import roles_in
from engine.shadow import Shadow, ShadowDatabase
from engine.verify import Rebuilt, prefers_scoped, rebuilding_current, verify_plan

log = logging.getLogger("engine.plan")


class PlanResult(BaseModel):
    """A plan with what it was made from: the report and apply read these."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan
    current: Schema
    desired: Schema
    # where schema/ writes each object (annotations at file:line); empty without schema/
    object_locations: dict[str, SourceLocation] = {}
    production_version: int
    shadow_version: int
    inspect_statements: int = 0


def production_version(dsn: str) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            return conn.info.server_version
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(
            f"could not connect to production: {dsnlib.scrub(str(exc).strip(), dsn)}"
        ) from exc


def inspect_production(
    dsn: str,
    *,
    excluded_schemas: Sequence[str],
    stats: InspectStats | None = None,
    connections: int = INSPECT_CONNECTIONS,
) -> Schema:
    try:
        return inspect_dsn(
            dsn, excluded_schemas=excluded_schemas, stats=stats, connections=connections
        )
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(
            f"could not inspect production: {dsnlib.scrub(str(exc).strip(), dsn)}"
        ) from exc


def make_plan(
    current: Schema,
    desired: Schema,
    *,
    shadow: Shadow | None,
    options: PlanOptions,
    excluded_schemas: Sequence[str] = ("_pgflux",),
    rebuilt: Future[Rebuilt] | None = None,
) -> Plan:
    """Plan, then verify in the shadow (when one is given).

    `rebuilt`: the current schema being rebuilt in a scratch database (see
    engine.verify.rebuilding_current), started while the desired schema loaded.
    """
    statements = plan_statements(current, desired, options)
    # Both fingerprints (each a pass over every object) are computed on a background thread
    # while verification waits for the shadow (not while planning: both would hold the GIL).
    with ThreadPoolExecutor(1, "pgflux-fingerprints") as pool:
        fingerprints = pool.submit(lambda: (current.fingerprint(), desired.fingerprint()))
        problems, verified = _verify(
            current,
            desired,
            statements,
            shadow=shadow,
            options=options,
            excluded_schemas=excluded_schemas,
            rebuilt=rebuilt,
        )
        source, target = fingerprints.result()
    return Plan(
        fingerprint=statements_fingerprint(statements, source, target),
        source_fingerprint=source,
        target_fingerprint=target,
        verified=verified,
        postgres_version=current.server_version_num,
        statements=tuple(statements),
        verification_errors=tuple(problems),
        unmanaged=tuple(sorted(str(u) for u in current.unmanaged)),
    )


def _verify(
    current: Schema,
    desired: Schema,
    statements: list[Statement],
    *,
    shadow: Shadow | None,
    options: PlanOptions,
    excluded_schemas: Sequence[str],
    rebuilt: Future[Rebuilt] | None,
) -> tuple[list[str], bool]:
    """Verification's problems, and whether the plan verified."""
    problems: list[str] = []
    verified = False
    if shadow is not None:
        problems = (
            verify_plan(
                shadow,
                current,
                desired,
                statements,
                options,
                excluded_schemas=excluded_schemas,
                rebuilt=rebuilt.result() if rebuilt is not None else None,
            )
            if statements
            else []
        )
        verified = not problems
    else:
        problems = ["not verified: no shadow database was used"]
    return problems, verified


def drop_while_working(shadow: Shadow, db: ShadowDatabase) -> None:
    """Drop a shadow database no longer needed, on a background thread while other work goes
    on. A failure is only logged: the block that made `db` drops it again when it ends."""
    try:
        shadow.drop_database(db)
    except ShadowError as exc:
        log.warning("%s (it is dropped again at the end)", exc)


def build_plan(
    schema_dir: Path,
    production_dsn: str,
    *,
    shadow: Shadow,
    options: PlanOptions | None = None,
    tracking_schema: str = "_pgflux",
    extra_roles: Iterable[str] = (),
    objects: ObjectFilter | None = None,
) -> PlanResult:
    """Everything `pg-flux plan` does: parse, load, inspect both sides, plan, verify.

    `objects` (pgflux.toml's [objects]) narrows both sides to the objects it selects.
    """
    options = options or PlanOptions()
    objects = objects or ObjectFilter()
    excluded = (tracking_schema,)
    stats = InspectStats()
    shadow.ensure_roles(extra_roles)
    # schema/ is parsed and loaded into the shadow on a background thread (the parse itself on
    # another, ahead of the load) while production is inspected here: most of both is the two
    # servers' work, and the waits release the GIL.
    stop_loading = threading.Event()
    with (
        shadow.database() as target,
        ThreadPoolExecutor(1, "pgflux-load") as loader,
    ):
        loading = loader.submit(
            parse_and_load,
            schema_dir,
            target.dsn,
            ensure_roles=shadow.ensure_roles,
            stop=stop_loading,
        )
        try:
            # One connection: this read only has to end before the load does, which takes
            # several times longer at every size measured (bench/), and a second backend
            # reading production beside it only took CPU from the load where both share a
            # machine (10,000 tables: 1.2 s more end to end). It is also one connection, as
            # the privileges page promises of an operation.
            current = filter_schema(
                inspect_production(
                    production_dsn, excluded_schemas=excluded, stats=stats, connections=1
                ),
                objects,
            )
        except BaseException:
            stop_loading.set()  # never leave the load running behind an error
            if isinstance(loading.exception(), SchemaLoadError):
                loading.result()  # schema/'s own error wins (a fork's PR may have no DSN)
            raise
        if current.server_version_num // 10000 != shadow.major:
            log.warning(
                "production runs PostgreSQL %d but the shadow runs %d",
                current.server_version_num // 10000,
                shadow.major,
            )
        # verification rebuilds production's schema, owners and grants included
        shadow.ensure_roles(roles_in(current))
        # Verification rebuilds the current schema in a scratch database: that needs only
        # `current`, so it runs while the desired schema loads into another one (two loads
        # overlap). A large schema is verified on the plan's scope instead
        # (engine.verify_scope), which needs the plan: nothing to start yet.
        rebuilding: AbstractContextManager[Future[Rebuilt] | None] = (
            nullcontext(None)
            if prefers_scoped(current, options)
            else rebuilding_current(shadow, current, options, excluded_schemas=excluded)
        )
        # Production's fingerprint (remembered on its model, which the plan asks for) is
        # computed while the desired schema loads, when this process mostly waits for the shadow.
        with rebuilding as rebuilt, ThreadPoolExecutor(1, "pgflux-fingerprint") as fingerprinting:
            fingerprinting.submit(current.fingerprint)
            locations = loading.result()
            analyze_catalogs(target.admin_dsn)
            # objects equal to production's are shared with it (engine.model.sharing)
            desired = filter_schema(
                inspect_dsn(target.admin_dsn, excluded_schemas=excluded, stats=stats, like=current),
                objects,
            )
            # The desired schema is read, and verification works in scratch databases of its
            # own: the load's database is dropped while the plan verifies, not after it
            # (10,000 tables: DROP DATABASE takes 0.8 s, most of it unlinking files).
            dropping = fingerprinting.submit(drop_while_working, shadow, target)
            plan = make_plan(
                current,
                desired,
                shadow=shadow,
                options=options,
                excluded_schemas=excluded,
                rebuilt=rebuilt,
            )
            dropping.result()
    return PlanResult(
        plan=plan,
        current=current,
        desired=desired,
        object_locations=locations,
        production_version=current.server_version_num,
        shadow_version=shadow.server_version_num,
        inspect_statements=stats.statements,
    )

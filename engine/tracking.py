"""The tracking schema: one row per `migrate apply` in `<tracking-schema>.migrations`.

The layout is versioned by `<tracking-schema>.meta` (key `layout_version`) so a later pg-flux can
migrate it; everything is created with IF NOT EXISTS so a first apply and a rerun are the same.

Layout 2 adds `result_model`: the schema model production had right after a successful apply
(what `result_fingerprint` is the fingerprint of), as zlib-compressed JSON, so that `drift`
without schema/ can say which objects changed since and plan the SQL that puts them back.
A layout-1 table is upgraded in place by the next apply (ADD COLUMN IF NOT EXISTS).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.model.schema import Schema
from engine.plan.model import Plan

log = logging.getLogger("engine.tracking")

LAYOUT_VERSION = 2

# zlib level 6: at 1,000 tables the model is 11.7 MB of JSON, stored as 0.35 MB in 0.45 s
# (jsonb would take 1.1 MB after TOAST compression and 2.4 s to write).
_COMPRESSION_LEVEL = 6

STATUSES = ("running", "applied", "failed")


def advisory_lock_key(tracking_schema: str) -> int:
    """A signed bigint from sha256("pgflux:" + schema): every pg-flux for one schema agrees."""
    digest = hashlib.sha256(f"pgflux:{tracking_schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _ddl(schema: str) -> list[sql.Composed]:
    s = sql.Identifier(schema)
    return [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.meta (key text PRIMARY KEY, value text NOT NULL)"
        ).format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.migrations ("
            " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " plan_fingerprint text NOT NULL,"
            " source_fingerprint text NOT NULL,"
            " target_fingerprint text NOT NULL,"
            # What production's fingerprint was right after a successful apply: the target's
            # can differ from it (owners are not compared unless managed).
            " result_fingerprint text,"
            " statements jsonb NOT NULL DEFAULT '[]',"
            " hazards jsonb NOT NULL DEFAULT '[]',"
            " status text NOT NULL CHECK (status IN ('running', 'applied', 'failed')),"
            " started_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            " finished_at timestamptz,"
            " applied_by text NOT NULL DEFAULT current_user,"
            " backend_pid integer NOT NULL DEFAULT pg_backend_pid(),"
            " origin jsonb NOT NULL DEFAULT '{{}}',"
            " error text,"
            " result_model bytea)"
        ).format(s),
        sql.SQL(
            "INSERT INTO {}.meta (key, value) VALUES ('layout_version', {})"
            " ON CONFLICT (key) DO NOTHING"
        ).format(s, sql.Literal(str(LAYOUT_VERSION))),
    ]


def ensure_tracking(conn: psycopg.Connection[Any], schema: str) -> bool:
    """Create the tracking schema and tables if missing (in their own committed transaction),
    and upgrade a table an earlier pg-flux created. True when rows can store `result_model`.

    When they exist nothing is run: CREATE ... IF NOT EXISTS checks the CREATE privilege before
    existence, and the privileges page's migrator only has USAGE on the schema and rights on
    the migrations table."""
    if not (tracking_exists(conn, schema) and _exists(conn, schema, "meta")):
        with conn.transaction(), conn.cursor() as cur:
            # Two first applies racing on CREATE ... IF NOT EXISTS can still collide: callers
            # hold the advisory lock, so only one gets here at a time.
            for statement in _ddl(schema):
                cur.execute(statement)
    if stores_result_model(conn, schema):
        return True
    return _upgrade(conn, schema)


def _upgrade(conn: psycopg.Connection[Any], schema: str) -> bool:
    """Layout 1 -> 2: add `result_model`. Only the table's owner may ALTER it: a migrator with
    just the page's grants on a pre-created table gets a warning, and its applies are recorded
    without the model (drift then compares fingerprints only) until the owner upgrades it."""
    s = sql.Identifier(schema)
    try:
        with conn.transaction(), conn.cursor() as cur:
            # A catalog-only change, but ACCESS EXCLUSIVE on the table: never queue behind a
            # long reader of it for long (readers queue behind us meanwhile).
            cur.execute("SET LOCAL lock_timeout = 5000")
            cur.execute(
                sql.SQL(
                    "ALTER TABLE {}.migrations ADD COLUMN IF NOT EXISTS result_model bytea"
                ).format(s)
            )
            cur.execute(
                sql.SQL(
                    "UPDATE {}.meta SET value = {} WHERE key = 'layout_version'"
                    " AND value ~ '^[0-9]+$' AND value::int < {}"
                ).format(s, sql.Literal(str(LAYOUT_VERSION)), sql.Literal(LAYOUT_VERSION))
            )
    except (pgerrors.InsufficientPrivilege, pgerrors.LockNotAvailable) as exc:
        log.warning(
            "cannot upgrade %s.migrations to layout %d (%s): this apply is recorded without the"
            " schema model, so drift without schema/ compares fingerprints only; the table's"
            " owner can run: ALTER TABLE %s.migrations ADD COLUMN IF NOT EXISTS result_model"
            " bytea",
            schema,
            LAYOUT_VERSION,
            str(exc).strip().splitlines()[0],
            schema,
        )
        return False
    return True


def stores_result_model(conn: psycopg.Connection[Any], schema: str) -> bool:
    """The migrations table has the `result_model` column (layout 2 or later)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute"
            " WHERE attrelid = to_regclass(format('%%I.%%I', %s::text, 'migrations'))"
            " AND attname = 'result_model' AND NOT attisdropped)",
            (schema,),
        )
        row = cur.fetchone()
    return bool(row and row[0])


def _exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
            (schema, table),
        )
        row = cur.fetchone()
    return bool(row and row[0])


def tracking_exists(conn: psycopg.Connection[Any], schema: str) -> bool:
    return _exists(conn, schema, "migrations")


def statement_records(plan: Plan) -> list[dict[str, Any]]:
    """The plan's statements as stored: status pending until they run."""
    return [
        {
            "index": i,
            "sql": s.sql,
            "object": s.object.model_dump(by_alias=True),
            "transactional": s.transactional,
            "status": "pending",
            "duration_ms": None,
        }
        for i, s in enumerate(plan.statements)
    ]


def insert_running(
    conn: psycopg.Connection[Any],
    schema: str,
    plan: Plan,
    origin: dict[str, str],
) -> int:
    """The row for this apply, committed at once so a crash still leaves it behind."""
    hazards = [
        {"statement": i, **h.model_dump(mode="json")}
        for i, s in enumerate(plan.statements)
        for h in s.hazards
    ]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.migrations (plan_fingerprint, source_fingerprint,"
                " target_fingerprint, statements, hazards, status, origin)"
                " VALUES (%s, %s, %s, %s, %s, 'running', %s) RETURNING id"
            ).format(sql.Identifier(schema)),
            (
                plan.fingerprint,
                plan.source_fingerprint,
                plan.target_fingerprint,
                json.dumps(statement_records(plan)),
                json.dumps(hazards),
                json.dumps(origin),
            ),
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def record_statement(
    conn: psycopg.Connection[Any],
    schema: str,
    migration_id: int,
    index: int,
    status: str,
    duration_ms: float | None,
) -> None:
    """Mark one statement applied/failed with its duration (autocommit: survives a crash)."""
    patch = json.dumps({"status": status, "duration_ms": duration_ms})
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "UPDATE {}.migrations SET statements = jsonb_set(statements, %s,"
                " statements -> %s::int || %s::jsonb) WHERE id = %s"
            ).format(sql.Identifier(schema)),
            ([str(index)], index, patch, migration_id),
        )


def finish(
    conn: psycopg.Connection[Any],
    schema: str,
    migration_id: int,
    status: str,
    error: str | None = None,
    *,
    result_fingerprint: str | None = None,
    result_model: Schema | None = None,
) -> None:
    """Close the row. `result_model` (production right after the apply) needs layout 2: pass it
    only when ensure_tracking said the table stores it."""
    if status not in STATUSES:
        raise ValueError(status)
    query = sql.SQL(
        "UPDATE {}.migrations SET status = %s, error = %s, result_fingerprint = %s,"
        " finished_at = clock_timestamp(){} WHERE id = %s"
    )
    params: tuple[Any, ...] = (status, error, result_fingerprint)
    model = sql.SQL("")
    if result_model is not None:
        model = sql.SQL(", result_model = %s")
        params += (encode_model(result_model),)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query.format(sql.Identifier(schema), model), (*params, migration_id))


def encode_model(model: Schema) -> bytes:
    """The schema model as stored in `result_model`: zlib-compressed UTF-8 JSON (by alias)."""
    return zlib.compress(model.model_dump_json(by_alias=True).encode(), _COMPRESSION_LEVEL)


def decode_model(data: bytes) -> Schema:
    return Schema.model_validate_json(zlib.decompress(data))


class MigrationRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    plan_fingerprint: str
    source_fingerprint: str
    target_fingerprint: str
    result_fingerprint: str | None
    statements: list[dict[str, Any]]
    hazards: list[dict[str, Any]]
    status: str
    started_at: datetime
    finished_at: datetime | None
    applied_by: str
    backend_pid: int
    origin: dict[str, Any]
    error: str | None
    # A `running` row whose backend is gone: the process died mid-apply.
    abandoned: bool = False

    @property
    def shown_status(self) -> str:
        return "abandoned" if self.abandoned else self.status


def read_migrations(
    conn: psycopg.Connection[Any], schema: str, *, limit: int | None = None
) -> list[MigrationRow]:
    """Rows newest first. Needs only SELECT on the table (the read-only role has it)."""
    if not tracking_exists(conn, schema):
        return []
    query = sql.SQL(
        "SELECT m.id, m.plan_fingerprint, m.source_fingerprint, m.target_fingerprint,"
        " m.result_fingerprint,"
        " m.statements, m.hazards, m.status, m.started_at, m.finished_at, m.applied_by,"
        " m.backend_pid, m.origin, m.error,"
        # pg_stat_activity lists every backend's pid to any role, so this works read-only.
        " m.status = 'running' AND NOT EXISTS"
        "   (SELECT 1 FROM pg_stat_activity a WHERE a.pid = m.backend_pid) AS abandoned"
        " FROM {}.migrations m ORDER BY m.id DESC"
    ).format(sql.Identifier(schema))
    if limit is not None:
        query = sql.SQL("{} LIMIT {}").format(query, sql.Literal(limit))
    with conn.cursor() as cur:
        cur.execute(query)
        names = [d.name for d in cur.description or ()]
        return [
            MigrationRow.model_validate(dict(zip(names, row, strict=True)))
            for row in cur.fetchall()
        ]


def reached_fingerprint(row: MigrationRow) -> str:
    """The fingerprint production had after this (applied) migration."""
    return row.result_fingerprint or row.target_fingerprint


def last_applied(conn: psycopg.Connection[Any], schema: str) -> MigrationRow | None:
    for row in read_migrations(conn, schema):
        if row.status == "applied":
            return row
    return None


class StoredModel(BaseModel):
    """What a tracking row holds of the schema production had after it: the model, or why not."""

    model_config = ConfigDict(frozen=True)

    model: Schema | None = None
    # Set when `model` is None: why this row has no usable model (old layout, old row, ...).
    missing: str | None = None


def read_result_model(conn: psycopg.Connection[Any], schema: str, row: MigrationRow) -> StoredModel:
    """The model stored with `row` (an applied migration). Needs only SELECT on the table."""
    if not stores_result_model(conn, schema):
        return StoredModel(
            missing=f"{schema}.migrations was created by an earlier pg-flux and has no"
            " result_model column yet (the next migrate apply adds it)"
        )
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT result_model FROM {}.migrations WHERE id = %s").format(
                sql.Identifier(schema)
            ),
            (row.id,),
        )
        found = cur.fetchone()
    if found is None or found[0] is None:
        return StoredModel(
            missing=f"migration {row.id} was recorded without the schema model (by an earlier"
            " pg-flux, or by a role that could not upgrade the tracking table)"
        )
    try:
        return StoredModel(model=decode_model(bytes(found[0])))
    except (zlib.error, ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoredModel(
            missing=f"the schema model stored with migration {row.id} cannot be read by this"
            f" pg-flux version ({first})"
        )

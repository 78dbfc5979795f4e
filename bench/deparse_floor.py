"""Issue 3's floor for inspection: the catalog's rows with PostgreSQL's own deparse functions.

The issue measured "raw catalog queries (with deparse)": a plain query per object kind that
returns its rows with the text PostgreSQL prints for them (format_type, pg_get_expr,
pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef),
and nothing else: no JSON, no dependencies, no model. This is that floor, on one connection in
one snapshot with inspection's settings, so that the model's time can be held against what the
server needs to print the same objects at all. Bench-only SQL: the engine never runs it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

# System schemas and the tracking schema are out, as in inspection.
_MANAGED = (
    "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
    " AND nspname <> 'information_schema' AND nspname <> '_pgflux')"
)

# One query per object kind; each row carries what PostgreSQL prints for that object.
FLOOR_QUERIES: dict[str, str] = {
    "tables": f"""
        SELECT c.oid, c.relname, c.relkind, c.reltuples FROM pg_catalog.pg_class c
        WHERE c.relkind IN ('r', 'p', 'f') AND c.relnamespace IN {_MANAGED}""",
    "columns": f"""
        SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'f')
                                  AND c.relnamespace IN {_MANAGED}
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": f"""
        SELECT k.conrelid, k.conname, pg_catalog.pg_get_constraintdef(k.oid)
        FROM pg_catalog.pg_constraint k
        WHERE k.connamespace IN {_MANAGED}""",
    "indexes": f"""
        SELECT x.indexrelid, pg_catalog.pg_get_indexdef(x.indexrelid)
        FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class c ON c.oid = x.indexrelid
        WHERE c.relnamespace IN {_MANAGED}""",
    "views": f"""
        SELECT c.oid, c.relname, pg_catalog.pg_get_viewdef(c.oid) FROM pg_catalog.pg_class c
        WHERE c.relkind IN ('v', 'm') AND c.relnamespace IN {_MANAGED}""",
    "sequences": f"""
        SELECT s.* FROM pg_catalog.pg_sequence s
        JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace IN {_MANAGED}""",
    "routines": f"""
        SELECT p.oid, pg_catalog.pg_get_functiondef(p.oid) FROM pg_catalog.pg_proc p
        WHERE p.prokind IN ('f', 'p') AND p.pronamespace IN {_MANAGED}""",
    "triggers": f"""
        SELECT t.oid, pg_catalog.pg_get_triggerdef(t.oid) FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace IN {_MANAGED}""",
    "types": f"""
        SELECT t.oid, t.typname, pg_catalog.format_type(t.typbasetype, t.typtypmod)
        FROM pg_catalog.pg_type t
        LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
        WHERE (t.typtype IN ('e', 'd', 'r') OR c.relkind = 'c')
          AND t.typnamespace IN {_MANAGED}""",
    "enum labels": f"""
        SELECT e.enumtypid, e.enumlabel FROM pg_catalog.pg_enum e
        JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace IN {_MANAGED}""",
    # objects the cluster's initdb made have oids below 16384 (FirstNormalObjectId)
    "comments": """
        SELECT d.objoid, d.classoid, d.objsubid, d.description FROM pg_catalog.pg_description d
        WHERE d.objoid >= 16384""",
}


@dataclass(frozen=True)
class FloorResult:
    seconds: float
    rows: dict[str, int]


def measure_deparse_floor(dsn: str) -> FloorResult:
    """Run every floor query once, fetching its rows, in one REPEATABLE READ snapshot."""
    rows: dict[str, int] = {}
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # inspection's settings: qualified names, no JIT (seconds per catalog query)
            cur.execute(b"SET LOCAL search_path = ''")
            cur.execute(b"SET LOCAL jit = off")
            for kind, query in FLOOR_QUERIES.items():
                cur.execute(query.encode())
                rows[kind] = len(cur.fetchall())
        seconds = time.perf_counter() - start
    return FloorResult(seconds=seconds, rows=rows)

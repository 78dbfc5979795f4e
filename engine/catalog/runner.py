"""Run the catalog queries in one read-only snapshot and build the model.

Each family keeps one query in `queries/<family>.sql`, optionally with version-specific variants
`queries/<family>.pg<N>.sql`: the variant with the highest N not above the server's major wins.
Every query returns a single row holding one JSON object whose keys are `Schema` field names, built
by PostgreSQL (json_agg), so that the number of statements is fixed whatever the schema's size and
pydantic validates the whole text in one pass; the dependency query's object holds each key once
and the rows as positions (engine.catalog.dependency_rows).

Query files are executed with psycopg parameters: `%(excluded_schemas)s` (text[]: the tracking
schema and any excluded by configuration); a literal percent sign is written `%%`.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from engine.catalog.dependency_rows import DependencyRows
from engine.model.schema import Schema
from engine.model.sharing import share_with

# No cyclic collections while the model is built: at 10,000 tables validating the 157,000
# dependencies took 3.4 s with them and 0.8 s without (the model has no cycles to collect).
from engine.sqlsplit import gc_paused

QUERIES_PACKAGE = "engine.catalog.queries"

# Planner settings for one family's query, undone after it. The dependency query joins pg_depend
# to tens of thousands of keys; row estimates of its CTEs are poor and a nested loop there took
# 215 s at 1,000 tables against 0.75 s as a hash join.
# Its DISTINCT over ~250,000 pairs (10,000 tables) spilled to disk with the default 4MB of
# work_mem: 3.8 s instead of 5.5-7.9 s of wall time with 64MB (when the pairs were key texts).
# Its merge join of pg_depend with the objects sorted 400,000 rows that a hash join does not
# (10,000 tables: 1.30-1.47 s against 1.35-1.59 s).
QUERY_SETTINGS: dict[str, dict[str, str]] = {
    "dependencies": {"enable_nestloop": "off", "enable_mergejoin": "off", "work_mem": "'64MB'"}
}

# Settings for the whole inspection (SET LOCAL: the transaction's own), on every connection.
BASE_SETTINGS: dict[str, str] = {
    # With an empty search_path PostgreSQL's deparse functions (pg_get_constraintdef,
    # pg_get_viewdef, format_type, ...) qualify every user object, as pg_dump does: the plan's
    # SQL then means the same whatever search_path the applying session has.
    "search_path": "''",
    # Catalog queries are short but their cost estimates are huge: JIT compilation cost ~10 s a
    # query before any row was read.
    "jit": "off",
}

# Each family's share of the server's work (seconds at 10,000 tables, one connection), to
# spread the families over the inspection's connections; unlisted families are small.
FAMILY_WEIGHT: dict[str, float] = {
    "tables": 1.8,
    "constraints": 1.4,
    "dependencies": 1.3,
    "indexes": 1.0,
    "views": 0.3,
    "sequences": 0.15,
    "triggers": 0.1,
}

# Families that read the same objects through PostgreSQL's catalog caches, which are per
# connection: constraints print the indexes of keys, indexes the others, both their tables'
# columns. One connection for both: 10,000 tables 2.1 s instead of 1.2 + 1.3 s.
SAME_LANE: tuple[frozenset[str], ...] = (frozenset({"constraints", "indexes"}),)


@dataclass
class InspectStats:
    """How inspection talked to the server: benchmarks and tests read it."""

    statements: int = 0
    queries: list[str] = field(default_factory=list)


# The catalogs the queries read. A database that was just loaded has no planner statistics on
# them until autovacuum gets there, and the catalog queries' plans go wrong without them.
ANALYZED_CATALOGS = (
    "pg_class",
    "pg_attribute",
    "pg_attrdef",
    "pg_depend",
    "pg_constraint",
    "pg_index",
    "pg_type",
    "pg_description",
    "pg_proc",
    "pg_trigger",
    "pg_inherits",
    "pg_namespace",
    "pg_rewrite",
    "pg_sequence",
)


# Below this many relations (a database made from template0 has ~410) the catalog queries plan
# well on the template's statistics and ANALYZE costs more than it saves (measured on PostgreSQL
# 15, generated schemas, one inspection after each: 100 tables, 1,261 relations, 0.08-0.12 s
# without against 0.13-0.16 s with it; 200 tables, 2,071 relations, 0.15 against 0.16-0.18 s;
# 300 tables, 2,915 relations, 0.24-0.25 against 0.21 s).
ANALYZE_MIN_RELATIONS = 2_500


def analyze_catalogs(dsn: str, *, min_relations: int = ANALYZE_MIN_RELATIONS) -> bool:
    """Refresh the catalog statistics of a database pg-flux just loaded (a shadow database),
    when it holds at least `min_relations` relations; whether it did.

    At 1,000 tables inspection took 3.5 s right after the load and 1.7 s after this ANALYZE, which
    itself took 0.3 s. Not for production: its autovacuum keeps them, and it is not ours to touch.
    Without the right to analyze a catalog, PostgreSQL skips it with a warning.
    """
    tables = ", ".join(f"pg_catalog.{name}" for name in ANALYZED_CATALOGS)
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(b"SELECT count(*) FROM pg_catalog.pg_class").fetchone()
        if row is None or int(row[0]) < min_relations:
            return False
        # Row counts and rough distributions are all the inspection's joins need: a sample of
        # 6,000 rows (target 20) instead of 30,000 took the ANALYZE from 0.85 to 0.13 s at
        # 5,000 tables (1.3 to 0.17 s at 10,000) and the inspection after it no longer.
        conn.execute(b"SET default_statistics_target = 20")
        conn.execute(f"ANALYZE {tables}".encode())
    return True


def available_families() -> list[str]:
    names = {
        entry.name.split(".")[0]
        for entry in resources.files(QUERIES_PACKAGE).iterdir()
        if entry.name.endswith(".sql")
    }
    return sorted(names)


def query_text(family: str, server_version_num: int) -> str:
    """The family's query for this server: the newest `.pg<N>.sql` variant with N <= major."""
    major = server_version_num // 10000
    folder = resources.files(QUERIES_PACKAGE)
    best: tuple[int, str] = (0, f"{family}.sql")
    for entry in folder.iterdir():
        stem, _, rest = entry.name.partition(".")
        if stem != family or not rest.startswith("pg") or not rest.endswith(".sql"):
            continue
        variant = int(rest[2:-4])
        if best[0] < variant <= major:
            best = (variant, entry.name)
    return folder.joinpath(best[1]).read_text(encoding="utf-8")


def assign_lanes(names: Sequence[str], lanes: int) -> list[list[str]]:
    """Split the families over `lanes` connections: heaviest unit first, each to the least
    loaded lane; families of one SAME_LANE group form one unit."""
    units: list[list[str]] = []
    grouped: set[str] = set()
    for group in SAME_LANE:
        members = [name for name in names if name in group]
        if members:
            units.append(members)
            grouped.update(members)
    units.extend([name] for name in names if name not in grouped)

    def weight(unit: list[str]) -> float:
        return sum(FAMILY_WEIGHT.get(name, 0.1) for name in unit)

    loads = [0.0] * lanes
    assigned: list[list[str]] = [[] for _ in range(lanes)]
    for unit in sorted(units, key=lambda u: (-weight(u), u)):
        lane = loads.index(min(loads))
        assigned[lane].extend(unit)
        loads[lane] += weight(unit)
    return [lane for lane in assigned if lane]


def _set_local(conn: psycopg.Connection[Any], settings: dict[str, str]) -> None:
    for name, value in settings.items():
        conn.execute(f"SET LOCAL {name} = {value}".encode())


def _run_lane(
    conn: psycopg.Connection[Any],
    families: Sequence[str],
    params: dict[str, Any],
    snapshot: str | None,
    results: queue.Queue[tuple[str, str | None] | BaseException],
) -> None:
    """One connection's share: its families one after the other, each JSON text to `results`.

    A helper connection (`snapshot` given) opens its own transaction on the exported snapshot;
    the main connection's transaction is already open."""
    try:
        server_version = conn.info.server_version
        with conn.transaction() if snapshot is not None else nullcontext():
            if snapshot is not None:
                conn.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
                _set_local(conn, BASE_SETTINGS)
            for family in families:
                settings = QUERY_SETTINGS.get(family, {})
                _set_local(conn, settings)
                row = conn.execute(query_text(family, server_version).encode(), params).fetchone()
                _set_local(conn, {name: "DEFAULT" for name in settings})
                results.put((family, str(row[0]) if row and row[0] else None))
    except BaseException as exc:  # handed to the main thread, which raises it
        results.put(exc)


def run_catalog_queries(
    conn: psycopg.Connection[Any],
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
    families: Sequence[str] | None = None,
    stats: InspectStats | None = None,
    helpers: Sequence[psycopg.Connection[Any]] = (),
    like: Schema | None = None,
) -> Schema:
    """Inspect the database behind `conn` in one REPEATABLE READ, READ ONLY snapshot.

    The families' queries run in background threads, one per connection: `conn` and each of
    `helpers` (connections to the same database), which import `conn`'s snapshot
    (pg_export_snapshot), so that the whole picture is still one snapshot. This thread validates
    each family's JSON as it arrives, while the server computes the next ones: at 10,000 tables
    the server needs ~7 s of CPU for the queries and this process ~2 s for the JSON, and with
    one connection they ran one after the other (libpq's pipeline mode hands out the first
    result only once every queued one is in).

    `like`: a schema this one is expected to mostly equal (production, when the shadow's copy
    of schema/ is read back): objects equal to its own are shared with it
    (engine.model.sharing), so that the two models cost about one.
    """
    params = {"excluded_schemas": list(excluded_schemas)}
    names = list(families) if families is not None else available_families()
    # Each family's JSON is validated as soon as it arrives and then dropped: at 10,000 tables
    # the texts are ~100 MB, and one spliced document held them all (twice) next to the models.
    fields: dict[str, Any] = {"server_version_num": conn.info.server_version}
    previous_autocommit = conn.autocommit
    conn.autocommit = False
    gc.collect()
    results: queue.Queue[tuple[str, str | None] | BaseException] = queue.Queue()
    threads: list[threading.Thread] = []
    lanes: list[psycopg.Connection[Any]] = [conn]
    # The collector stays paused until the model is frozen: the first collection after a
    # pause walks every object made during it, the whole model (0.2-0.27 s at 10,000
    # tables, finding no garbage), before gc.freeze() could put it out of sight.
    with gc_paused():
        try:
            with conn.transaction():
                conn.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                _set_local(conn, BASE_SETTINGS)
                snapshot = _export_snapshot(conn) if helpers and len(names) > 1 else None
                if snapshot is not None:
                    lanes.extend(helpers)
                for lane_conn, lane_families in zip(
                    lanes, assign_lanes(names, len(lanes)), strict=False
                ):
                    thread = threading.Thread(
                        target=_run_lane,
                        args=(
                            lane_conn,
                            lane_families,
                            params,
                            None if lane_conn is conn else snapshot,
                            results,
                        ),
                        name=f"pgflux-inspect-{len(threads)}",
                        daemon=True,
                    )
                    thread.start()
                    threads.append(thread)
                if stats is not None:
                    stats.statements += len(names)
                    stats.queries.extend(names)
                try:
                    for _ in names:
                        item = results.get()
                        if isinstance(item, BaseException):
                            raise item
                        family, text = item
                        del item
                        if text:
                            # In key order here, family by family, while the server works on
                            # the next ones.
                            part, given = family_part(family, text)
                            text = None
                            if like is not None:
                                fields.update(share_with(part, given, like))
                            else:
                                fields.update((name, getattr(part, name)) for name in given)
                            del part
                except BaseException:
                    # Stop the other lanes' queries before leaving the transaction they run in.
                    for lane_conn in lanes:
                        lane_conn.cancel_safe()
                    raise
                finally:
                    for thread in threads:
                        thread.join()
        finally:
            conn.autocommit = previous_autocommit
        # Already validated models: pydantic takes instances as they are; each family's
        # collections were put in key order as they arrived.
        schema = Schema.model_validate(fields).mark_ordered()
        if like is not None:
            schema.read_like(like)  # its fingerprint reuses `like`'s digests
        fields.clear()
        # The model has no reference cycles and usually lives as long as the process: out of
        # the collector's sight, it no longer makes every later collection walk its ~1M
        # objects (5,000 tables: a by_key() right after inspection took 2.5 s, 0.8 s frozen).
        # Refcounting still frees it. The collection before inspection (cheap: earlier models
        # are frozen too) keeps unrelated garbage from being frozen with it.
        gc.freeze()
    return schema


def family_part(family: str, text: str) -> tuple[Schema, set[str]]:
    """One family's query result as a schema in key order holding only that family's fields,
    and the names of those fields."""
    if family == "dependencies":
        # keys once, pairs as positions (queries/dependencies.sql); built in key order
        deps = DependencyRows.model_validate_json(text).dependencies()
        # validated rows: the whole schema is validated (instances as they are) at the end
        return Schema.model_construct(dependencies=deps).mark_ordered(), {"dependencies"}
    # Every other query returns one JSON object of Schema fields.
    part = Schema.model_validate_json(text)
    return part.sorted(), part.model_fields_set


def _export_snapshot(conn: psycopg.Connection[Any]) -> str | None:
    """The transaction's snapshot for helper connections, or None on a standby, which cannot
    export one (then `conn` runs every query itself)."""
    row = conn.execute(
        b"SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL"
        b" ELSE pg_catalog.pg_export_snapshot() END"
    ).fetchone()
    return str(row[0]) if row and row[0] else None

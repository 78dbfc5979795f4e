"""One engine scenario in its own process, so that its peak RSS is its own.

Usage: python -m bench.worker '<json spec>'; prints one JSON object (the measurements) on stdout.
Spec keys: scenario ("plan" | "inspect" | "engine" | "load"), schema_dir, current_dsn, desired_dsn
(engine), plan_out, profile_out.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg

from bench.deparse_floor import measure_deparse_floor
from engine.catalog import InspectStats, inspect_dsn
from engine.catalog.runner import (
    QUERY_SETTINGS,
    analyze_catalogs,
    available_families,
    query_text,
)
from engine.diff.context import PlanOptions
from engine.load import parse_and_load
from engine.plan.build import drop_while_working
from engine.plan.model import Plan, statements_fingerprint
from engine.plan.planner import plan_statements
from engine.plan.render import render_sql, render_text
from engine.roles import roles_in
from engine.shadow import open_shadow
from engine.verify import Rebuilt, prefers_scoped, rebuilding_current, verify_plan

# Statements sent, by server socket dir (host): the parent maps hosts to "production" / "shadow".
SENT: Counter[str] = Counter()
SHADOW_HOST: list[str] = []  # the shadow's socket dir, once it started


def _count_statements() -> None:
    """Count every statement psycopg sends (Connection.execute goes through Cursor.execute)."""
    original = psycopg.Cursor.execute

    def execute(self: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        SENT[str(self.connection.info.host)] += 1
        return original(self, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]


class Phases:
    """Wall time per named phase; a phase that raised still records its time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _rss_mb(who: int) -> float:
    """Peak RSS in MiB: this process's own (RUSAGE_SELF), or its largest waited-for child's.

    This process's own comes from VmHWM, the peak of its address space since exec: Linux
    carries ru_maxrss over fork and exec, so a worker started by a 518 MB `python -m bench`
    reported 518 MB whatever it did itself (every 10,000-table "inspect alone" figure before
    this change was the parent's size). The shadow's postmaster starts before the worker grows,
    so the children's figure is theirs."""
    if who == resource.RUSAGE_SELF:
        status = Path("/proc/self/status")
        if status.exists():
            for line in status.read_text(encoding="ascii").splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


PHASES = Phases()


def run_plan(spec: dict[str, Any]) -> dict[str, Any]:
    """`pg-flux plan` step by step: shadow, parse, load, inspect both, plan, verify, render."""
    phase = PHASES
    options = PlanOptions()
    excluded = ("_pgflux",)
    cur_stats, des_stats = InspectStats(), InspectStats()
    total_start = time.perf_counter()
    with phase("shadow start"):
        shadow = open_shadow("embedded")
    SHADOW_HOST.append(str(getattr(shadow, "sockdir", "")))
    try:
        # As engine.plan.build does: schema/ is parsed and loaded on background threads while
        # production is inspected ("inspect current"); "load desired" is the wait for the load
        # after that. Verification's rebuild of the current schema (small schemas) runs while the
        # load finishes; a large schema is verified on the plan's scope, after the plan.
        trace: list[str] = []
        with (
            shadow.database() as target,
            ThreadPoolExecutor(1) as loader,
        ):
            loading = loader.submit(
                parse_and_load,
                Path(spec["schema_dir"]),
                target.dsn,
                ensure_roles=shadow.ensure_roles,
            )
            with phase("inspect current"):
                # one connection while the load runs, as engine.plan.build reads production
                current = inspect_dsn(
                    spec["current_dsn"], excluded_schemas=excluded, stats=cur_stats, connections=1
                )
            shadow.ensure_roles(roles_in(current))
            rebuilding: AbstractContextManager[Future[Rebuilt] | None] = (
                nullcontext(None)
                if prefers_scoped(current, options)
                else rebuilding_current(shadow, current, options, excluded_schemas=excluded)
            )
            # As engine.plan.build does: production's fingerprint while the desired schema loads.
            with rebuilding as rebuilt, ThreadPoolExecutor(1) as fingerprinting:
                fingerprinting.submit(current.fingerprint)
                with phase("load desired"):
                    loading.result()
                    analyze_catalogs(target.admin_dsn)
                with phase("inspect desired"):
                    desired = inspect_dsn(
                        target.admin_dsn, excluded_schemas=excluded, stats=des_stats, like=current
                    )
                # As engine.plan.build does: the load's database dropped while the plan verifies
                dropping = fingerprinting.submit(drop_while_working, shadow, target)
                with phase("diff + plan"):
                    statements = plan_statements(current, desired, options)
                # As engine.plan.build.make_plan does: the fingerprints on a background thread
                # while the plan is verified ("render" includes waiting for them).
                with ThreadPoolExecutor(1) as pool:
                    fingerprints = pool.submit(
                        lambda: (current.fingerprint(), desired.fingerprint())
                    )
                    with phase("verify"):
                        problems = (
                            verify_plan(
                                shadow,
                                current,
                                desired,
                                statements,
                                options,
                                rebuilt=rebuilt.result() if rebuilt is not None else None,
                                trace=trace,
                            )
                            if statements
                            else []
                        )
                    with phase("render"):
                        source, target_fp = fingerprints.result()
                        dropping.result()
        with phase("render"):
            plan = Plan(
                fingerprint=statements_fingerprint(statements, source, target_fp),
                source_fingerprint=source,
                target_fingerprint=target_fp,
                verified=not problems,
                postgres_version=current.server_version_num,
                statements=tuple(statements),
                verification_errors=tuple(problems),
                unmanaged=tuple(sorted(str(u) for u in current.unmanaged)),
            )
            render_text(plan)
            render_sql(plan)
    finally:
        with phase("shadow stop"):
            shadow.close()
    total = time.perf_counter() - total_start
    Path(spec["plan_out"]).write_text(plan.model_dump_json(by_alias=True), encoding="utf-8")
    engine_only = sum(
        phase.seconds[p] for p in ("inspect current", "inspect desired", "diff + plan")
    )
    return {
        "phases": phase.seconds,
        "total": total,
        "engine_only": engine_only,
        "inspect_statements": {"current": cur_stats.statements, "desired": des_stats.statements},
        "sent": dict(SENT),
        "plan_statements": len(statements),
        "verified": not problems,
        "verification_errors": list(problems[:5]),
        "verification_rebuilt": trace,
    }


def run_inspect(spec: dict[str, Any]) -> dict[str, Any]:
    """Inspection alone, and two floors: pg-flux's own catalog queries without building the
    model, and issue 3's plain rows with PostgreSQL's deparse functions (bench.deparse_floor)."""
    dsn = spec["current_dsn"]
    # The model first, so that the process's peak RSS right after it is the model's alone.
    stats = InspectStats()
    start = time.perf_counter()
    schema = inspect_dsn(dsn, stats=stats)
    inspect = time.perf_counter() - start
    objects = len(schema.by_key())
    rss_inspect = _rss_mb(resource.RUSAGE_SELF)
    del schema
    with psycopg.connect(dsn) as conn:
        version = conn.info.server_version
        families = available_families()
        texts = [query_text(f, version).encode() for f in families]
        params = {"excluded_schemas": ["_pgflux"]}
        start = time.perf_counter()
        size = 0
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # the settings inspection uses (JIT alone costs seconds per query): a floor, not a
            # different configuration
            cur.execute("SET LOCAL search_path = ''")
            cur.execute("SET LOCAL jit = off")
            for family, sql in zip(families, texts, strict=True):
                settings = QUERY_SETTINGS.get(family, {})
                for name, value in settings.items():
                    cur.execute(f"SET LOCAL {name} = {value}".encode())
                cur.execute(sql, params)
                row = cur.fetchone()
                for name in settings:
                    cur.execute(f"SET LOCAL {name} TO DEFAULT".encode())
                size += len(str(row[0])) if row and row[0] else 0
        raw = time.perf_counter() - start
    floor = measure_deparse_floor(dsn)
    return {
        "raw_queries": raw,
        "raw_json_bytes": size,
        "deparse_floor": floor.seconds,
        "deparse_floor_rows": floor.rows,
        "inspect": inspect,
        "inspect_statements": stats.statements,
        "objects": objects,
        "rss_inspect_mb": rss_inspect,
    }


def run_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """The engine alone, as issue 8 defines it: inspect both sides and plan, nothing else running.

    spec["like"]: read the sides one after the other, the desired one sharing production's equal
    objects, as `pg-flux plan` does (the diff then compares shared objects by identity).

    In the end-to-end scenario verification's rebuild runs on a background thread while the
    engine inspects and plans, so its phases share the interpreter with that work.
    """
    stats = InspectStats(), InspectStats()
    start = time.perf_counter()
    if spec.get("like"):
        # As `pg-flux plan` reads them: production first, then the desired schema sharing
        # every object equal to production's (engine.model.sharing).
        with PHASES("inspect current"):
            current = inspect_dsn(
                spec["current_dsn"], excluded_schemas=("_pgflux",), stats=stats[0]
            )
        with PHASES("inspect desired"):
            desired = inspect_dsn(
                spec["desired_dsn"], excluded_schemas=("_pgflux",), stats=stats[1], like=current
            )
    else:
        # The two databases are inspected at the same time, each over two connections.
        with PHASES("inspect both"), ThreadPoolExecutor(2) as pool:
            sides = [
                pool.submit(inspect_dsn, spec[dsn], excluded_schemas=("_pgflux",), stats=stat)
                for dsn, stat in zip(("current_dsn", "desired_dsn"), stats, strict=True)
            ]
            current, desired = (side.result() for side in sides)
    with PHASES("diff + plan"):
        statements = plan_statements(current, desired, PlanOptions())
    return {
        "phases": PHASES.seconds,
        "engine_only": time.perf_counter() - start,
        "plan_statements": len(statements),
        "inspect_statements": {"current": stats[0].statements, "desired": stats[1].statements},
    }


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """pg-flux's parse and load of schema/ into a shadow database, nothing else running: the
    part of the end-to-end run that the `psql -1 -f` floor stands for."""
    with PHASES("shadow start"):
        shadow = open_shadow("embedded")
    SHADOW_HOST.append(str(getattr(shadow, "sockdir", "")))
    try:
        with shadow.database() as target:
            start = time.perf_counter()
            locations = parse_and_load(
                Path(spec["schema_dir"]), target.dsn, ensure_roles=shadow.ensure_roles
            )
            seconds = time.perf_counter() - start
    finally:
        with PHASES("shadow stop"):
            shadow.close()
    return {"load": seconds, "objects_located": len(locations)}


SCENARIOS = {"plan": run_plan, "inspect": run_inspect, "engine": run_engine, "load": run_load}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    _count_statements()
    profiler = None
    if spec.get("profile_out"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    try:
        result = SCENARIOS[spec["scenario"]](spec)
    except Exception as exc:  # report it with whatever phases ran: the engine may be mid-work
        result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        result["phases"] = dict(PHASES.seconds)
        result["sent"] = dict(SENT)
    if SHADOW_HOST:
        result["shadow_host"] = SHADOW_HOST[0]
    if profiler is not None:
        profiler.stop()
        Path(spec["profile_out"]).write_text(
            profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8"
        )
    result["rss_self_mb"] = _rss_mb(resource.RUSAGE_SELF)
    result["rss_children_mb"] = _rss_mb(resource.RUSAGE_CHILDREN)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`migrate apply`: run a verified plan against a live database, once, under a session lock.

One connection does everything: it takes the session advisory lock derived from the tracking
schema's name (a second apply waits there), re-reads production under the lock, compares its
fingerprint with the plan's source and target, gates hazards, records a tracking row and runs the
statements group by group (a transactional run in one transaction, a non-transactional statement
alone in autocommit). A statement that hits lock_timeout is retried with backoff; when the retries
run out the error names the blocking backends, read through a short-lived diagnostic connection
while the last attempt waits.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import errors as pgerrors

from engine import dsn as dsnlib
from engine import tracking
from engine.catalog import run_catalog_queries
from engine.config import ObjectFilter, filter_schema
from engine.errors import ApplyFailed, ConnectionFailed, HazardRefused, PlanError, PlanMismatch
from engine.execute import StatementGroup, group_statements
from engine.logs import event
from engine.model.schema import Schema
from engine.plan.locate import locate
from engine.plan.model import Hazard, HazardCode, Plan, Severity, Statement
from engine.verify import schema_differences

log = logging.getLogger("engine.apply")

MAX_LISTED = 20


@dataclass(frozen=True)
class ApplyOptions:
    tracking_schema: str = "_pgflux"
    allow_hazards: frozenset[HazardCode] = frozenset()
    # Hazards below this severity pass without being allowed; None: every hazard needs allowing.
    fail_on: Severity | None = None
    lock_retries: int = 3
    retry_backoff_s: float = 0.5
    origin: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False
    # `kind schema.name` -> `file:line:col`, for logs (engine.load's object_locations).
    object_locations: Mapping[str, str] = field(default_factory=dict)
    # pgflux.toml's [objects]: production is fingerprinted (and recorded) through the same
    # filter as the plan, so objects outside it never look like a change.
    objects: ObjectFilter = field(default_factory=ObjectFilter)


@dataclass
class ApplyResult:
    outcome: Literal["applied", "nothing-to-do", "dry-run"]
    plan: Plan
    migration_id: int | None = None
    message: str = ""


def refused_hazards(
    plan: Plan, allowed: frozenset[HazardCode], fail_on: Severity | None
) -> list[tuple[int, Hazard]]:
    """Hazards policy does not allow: code not allowed and severity at/above fail_on."""
    refused: list[tuple[int, Hazard]] = []
    for index, statement in enumerate(plan.statements):
        for hazard in statement.hazards:
            if hazard.code in allowed:
                continue
            if fail_on is not None and hazard.severity.rank < fail_on.rank:
                continue
            refused.append((index, hazard))
    return refused


def check_hazards(plan: Plan, options: ApplyOptions) -> None:
    refused = refused_hazards(plan, options.allow_hazards, options.fail_on)
    if not refused:
        return
    codes = sorted({h.code.value for _, h in refused})
    lines = [
        f"  statement {i + 1}: {h.severity.value} {h.code.value}: {h.message}"
        for i, h in refused[:MAX_LISTED]
    ]
    raise HazardRefused(
        f"the plan has hazards that are not allowed: {', '.join(codes)}"
        f" (allow them with --allow-hazards {','.join(codes)} or in pgflux.toml)",
        details="\n".join(lines),
    )


def check_runnable(plan: Plan) -> None:
    if plan.statements and not plan.verified:
        raise PlanError(
            "refusing to apply a plan that did not verify in the shadow",
            details="\n".join(plan.verification_errors) or None,
        )


def lock_database(
    conn: psycopg.Connection[Any], tracking_schema: str, *, poll_s: float = 0.2
) -> None:
    """Wait for the session advisory lock; released when the session ends, however it ends.

    Waiting polls pg_try_advisory_lock instead of blocking in pg_advisory_lock: a backend
    blocked inside a statement holds a snapshot, and the holder's CREATE INDEX CONCURRENTLY
    waits for every older snapshot, so a blocking wait would deadlock with it.
    """
    key = tracking.advisory_lock_key(tracking_schema)
    announced = False
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row and row[0]:
            return
        if not announced:
            event(log, "lock.wait", "another pg-flux apply holds the lock; waiting", lock_key=key)
            announced = True
        time.sleep(poll_s)


def _inspect(
    conn: psycopg.Connection[Any], excluded: Sequence[str], objects: ObjectFilter
) -> Schema:
    schema = run_catalog_queries(conn, excluded_schemas=excluded)
    conn.autocommit = True
    return filter_schema(schema, objects)


def _mismatch(
    conn: psycopg.Connection[Any],
    options: ApplyOptions,
    plan: Plan,
    live: Schema,
    expected_source: Schema | None,
) -> PlanMismatch:
    lines: list[str] = []
    if expected_source is not None:
        lines += [f"  {line}" for line in schema_differences(live, expected_source)[:MAX_LISTED]]
    fingerprint = live.fingerprint()
    for row in tracking.read_migrations(conn, options.tracking_schema):
        if row.status == "applied" and tracking.reached_fingerprint(row) == fingerprint:
            lines.append(
                f"production is now the target of migration {row.id}, applied"
                f" {row.finished_at:%Y-%m-%d %H:%M:%S %Z} by {row.applied_by}"
            )
            break
    else:
        lines.append("production was changed outside pg-flux (no applied migration explains it)")
    details = "\n".join(lines)
    return PlanMismatch(
        "production changed since the plan was made: its fingerprint is "
        f"{live.fingerprint()}, the plan expects {plan.source_fingerprint}; plan again",
        details=details or None,
    )


def _already_applied(
    conn: psycopg.Connection[Any], schema: str, plan: Plan, fingerprint: str
) -> bool:
    """Production is the plan's target: by fingerprint, or as a recorded apply of that target
    left it (the target's fingerprint carries the shadow's owners when ownership is not managed)."""
    if fingerprint == plan.target_fingerprint:
        return True
    return any(
        row.status == "applied"
        and row.target_fingerprint == plan.target_fingerprint
        and tracking.reached_fingerprint(row) == fingerprint
        for row in tracking.read_migrations(conn, schema)
    )


def _mark_abandoned(conn: psycopg.Connection[Any], schema: str) -> None:
    """Under the lock, a `running` row whose backend is gone was left by a dead process."""
    for row in tracking.read_migrations(conn, schema):
        if row.abandoned:
            tracking.finish(
                conn,
                schema,
                row.id,
                "failed",
                f"abandoned: the applying process died (backend pid {row.backend_pid} is gone)",
            )


class _BlockerWatch:
    """Polls pg_blocking_pids(apply backend) from a second connection during the last attempt."""

    def __init__(self, dsn: str, pid: int) -> None:
        self._dsn, self._pid = dsn, pid
        self._stop = threading.Event()
        self.seen: list[tuple[int, str, str, str]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _BlockerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            with psycopg.connect(self._dsn, autocommit=True) as conn:
                while not self._stop.is_set():
                    rows = conn.execute(
                        "SELECT a.pid, coalesce(a.usename, ''), coalesce(a.state, ''),"
                        " coalesce(left(a.query, 200), '') FROM pg_stat_activity a"
                        " WHERE a.pid = ANY (pg_blocking_pids(%s)) ORDER BY a.pid",
                        (self._pid,),
                    ).fetchall()
                    if rows:
                        self.seen = [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
                    self._stop.wait(0.05)
        except psycopg.Error:
            return  # diagnostics only: never fail an apply because of them


class _IndexProgress:
    """Logs pg_stat_progress_create_index for a long index build, from a diagnostic connection
    (the applying one is busy running the build)."""

    def __init__(self, dsn: str, pid: int, migration_id: int, interval_s: float = 2.0) -> None:
        self._dsn, self._pid, self._migration_id = dsn, pid, migration_id
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _IndexProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        last: tuple[Any, ...] | None = None
        try:
            with psycopg.connect(self._dsn, autocommit=True) as conn:
                while not self._stop.wait(0.1 if last is None else self._interval):
                    row = conn.execute(
                        "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total"
                        " FROM pg_stat_progress_create_index WHERE pid = %s",
                        (self._pid,),
                    ).fetchone()
                    if row is None or row == last:
                        continue
                    last = tuple(row)
                    phase, blocks_done, blocks_total, tuples_done, tuples_total = row
                    event(
                        log,
                        "index.progress",
                        f"index build: {phase} ({blocks_done}/{blocks_total} blocks,"
                        f" {tuples_done}/{tuples_total} tuples)",
                        migration_id=self._migration_id,
                        phase=phase,
                        blocks_done=blocks_done,
                        blocks_total=blocks_total,
                        tuples_done=tuples_done,
                        tuples_total=tuples_total,
                    )
        except psycopg.Error:
            return  # progress is a courtesy: never fail an apply because of it


class _Runner:
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        dsn: str,
        plan: Plan,
        options: ApplyOptions,
        migration_id: int,
    ) -> None:
        self.conn, self.dsn, self.plan, self.options = conn, dsn, plan, options
        self.migration_id = migration_id
        self.pid = conn.info.backend_pid
        # The statement running now: the one to blame when a group fails.
        self.current: int | None = None

    def _location(self, statement: Statement) -> str | None:
        return locate(statement.object, self.options.object_locations)

    def blame(self) -> str | None:
        """The statement a failed group was running, and where schema/ asks for its object."""
        if self.current is None:
            return None
        statement = self.plan.statements[self.current]
        total = len(self.plan.statements)
        line = f"at statement {self.current + 1}/{total}: {statement.sql}"
        location = self._location(statement)
        return f"{line}\n(from {location})" if location else line

    def _run_one(
        self, cur: psycopg.Cursor[Any], index: int, statement: Statement, local: bool
    ) -> float:
        self.current = index
        scope = "LOCAL " if local else ""
        cur.execute(f"SET {scope}lock_timeout = {int(statement.lock_timeout_ms)}")
        cur.execute(f"SET {scope}statement_timeout = {int(statement.statement_timeout_ms)}")
        event(
            log,
            "statement.start",
            f"[{index + 1}/{len(self.plan.statements)}] {statement.sql}",
            migration_id=self.migration_id,
            index=index,
            sql=statement.sql,
            object=statement.object.model_dump(by_alias=True),
            source=self._location(statement),
            lock=statement.lock,
            transactional=statement.transactional,
            hazards=[h.model_dump(mode="json") for h in statement.hazards],
        )
        started = time.monotonic()
        cur.execute(statement.sql.encode())
        duration = (time.monotonic() - started) * 1000
        event(
            log,
            "statement.end",
            f"[{index + 1}/{len(self.plan.statements)}] done in {duration:.0f} ms",
            migration_id=self.migration_id,
            index=index,
            duration_ms=round(duration, 3),
        )
        return duration

    def _attempt(self, group: StatementGroup) -> list[tuple[int, float]]:
        done: list[tuple[int, float]] = []
        if group.transactional:
            with self.conn.transaction(), self.conn.cursor() as cur:
                for index, statement in group.statements:
                    done.append((index, self._run_one(cur, index, statement, True)))
        else:
            index, statement = group.statements[0]
            watch: contextlib.AbstractContextManager[object] = (
                _IndexProgress(self.dsn, self.pid, self.migration_id)
                if statement.object.kind == "index"
                else contextlib.nullcontext()
            )
            with self.conn.cursor() as cur, watch:
                try:
                    done.append((index, self._run_one(cur, index, statement, False)))
                finally:
                    cur.execute("RESET lock_timeout")
                    cur.execute("RESET statement_timeout")
        return done

    def run_group(self, group: StatementGroup) -> None:
        retries = self.options.lock_retries
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                if last and attempt > 0:
                    with _BlockerWatch(self.dsn, self.pid) as watch:
                        try:
                            done = self._attempt(group)
                        except pgerrors.LockNotAvailable as exc:
                            raise _LockExhausted(exc, watch.seen) from exc
                else:
                    done = self._attempt(group)
            except pgerrors.LockNotAvailable:
                if last:
                    raise
                delay = self.options.retry_backoff_s * (2**attempt)
                event(
                    log,
                    "statement.retry",
                    f"lock_timeout hit; retry {attempt + 1} of {retries} in {delay:.1f}s",
                    migration_id=self.migration_id,
                    attempt=attempt + 1,
                )
                time.sleep(delay)
                continue
            for index, duration in done:
                tracking.record_statement(
                    self.conn,
                    self.options.tracking_schema,
                    self.migration_id,
                    index,
                    "applied",
                    round(duration, 3),
                )
            return


class _LockExhausted(Exception):
    def __init__(self, cause: psycopg.Error, blockers: list[tuple[int, str, str, str]]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.blockers = blockers


def _describe_failure(exc: BaseException, retries: int) -> tuple[str, str | None]:
    if isinstance(exc, _LockExhausted):
        holders = "; ".join(
            f"pid {pid} ({user}, {state}): {query}" for pid, user, state, query in exc.blockers
        )
        message = f"lock_timeout after {retries + 1} attempts"
        message += f"; blocked by {holders}" if holders else "; the lock holder is not visible"
        return message, str(exc.cause).strip() or None
    if isinstance(exc, pgerrors.LockNotAvailable):
        return f"lock_timeout after {retries + 1} attempts", str(exc).strip() or None
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "sqlstate", None)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    details = []
    if diag is not None and diag.message_detail:
        details.append(f"DETAIL: {diag.message_detail}")
    if diag is not None and diag.message_hint:
        details.append(f"HINT: {diag.message_hint}")
    if sqlstate:
        details.append(f"SQLSTATE: {sqlstate}")
    return first, "\n".join(details) or None


def apply_plan(
    dsn: str,
    plan: Plan | None,
    options: ApplyOptions,
    *,
    make_plan: Callable[[], Plan] | None = None,
    excluded_schemas: Sequence[str] | None = None,
    expected_source: Schema | None = None,
) -> ApplyResult:
    """Apply `plan` (a saved one) or the plan `make_plan()` builds under the lock."""
    if plan is None and make_plan is None:
        raise ValueError("apply_plan needs a plan or make_plan")
    excluded = tuple(excluded_schemas or (options.tracking_schema,))
    if plan is not None:
        # The gate runs before anything touches the database.
        check_runnable(plan)
        check_hazards(plan, options)
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(
            f"could not connect to production: {dsnlib.scrub(str(exc).strip(), dsn)}"
        ) from exc
    with conn:
        if conn.info.server_version >= 140000:
            # A dead client is noticed during a long statement, so its lock goes with it.
            conn.execute("SET client_connection_check_interval = 1000")
        lock_database(conn, options.tracking_schema)
        if not options.dry_run and tracking.tracking_exists(conn, options.tracking_schema):
            _mark_abandoned(conn, options.tracking_schema)
        if plan is None:
            assert make_plan is not None
            plan = make_plan()
            check_runnable(plan)
            check_hazards(plan, options)
        live = _inspect(conn, excluded, options.objects)
        fingerprint = live.fingerprint()
        if _already_applied(conn, options.tracking_schema, plan, fingerprint) or plan.is_empty:
            if plan.is_empty and fingerprint != plan.source_fingerprint:
                raise _mismatch(conn, options, plan, live, expected_source)
            message = "nothing to do: production already matches the plan's target"
            event(log, "apply.nothing", message, fingerprint=fingerprint)
            return ApplyResult("nothing-to-do", plan, message=message)
        if fingerprint != plan.source_fingerprint:
            raise _mismatch(conn, options, plan, live, expected_source)
        if options.dry_run:
            message = f"dry run: {len(plan.statements)} statements would run; nothing changed"
            return ApplyResult("dry-run", plan, message=message)
        try:
            stores_model = tracking.ensure_tracking(conn, options.tracking_schema)
            migration_id = tracking.insert_running(
                conn, options.tracking_schema, plan, dict(options.origin)
            )
        except psycopg.Error as exc:
            schema = options.tracking_schema
            raise ApplyFailed(
                f"cannot write the tracking table {schema}.migrations: {str(exc).strip()}",
                details=f"the applying role needs USAGE and CREATE on schema {schema} (or to own"
                f" it) and all privileges on {schema}.migrations; nothing was applied",
            ) from None
        event(
            log,
            "apply.start",
            f"migration {migration_id}: applying {len(plan.statements)} statements",
            migration_id=migration_id,
            plan_fingerprint=plan.fingerprint,
            hazards=[h.model_dump(mode="json") for h in plan.hazards],
        )
        runner = _Runner(conn, dsn, plan, options, migration_id)
        for group in group_statements(plan.statements):
            try:
                runner.run_group(group)
            except (psycopg.Error, _LockExhausted) as exc:
                cause, details = _describe_failure(exc, options.lock_retries)
                details = "\n".join(filter(None, [runner.blame(), details])) or None
                error = f"{cause}\n{details}" if details else cause
                _record_failed_run(
                    conn, dsn, options.tracking_schema, migration_id, group, runner.current, error
                )
                what = (
                    "the transaction rolled back; earlier groups stay applied"
                    if group.transactional
                    else "it ran outside a transaction: the next apply repairs what it left"
                )
                event(log, "apply.failed", f"migration {migration_id} failed: {cause}")
                raise ApplyFailed(
                    f"migration {migration_id} failed: {cause}",
                    details=(details + "\n" if details else "") + what,
                ) from None
        # What production looks like now that pg-flux leaves it: its fingerprint and (layout 2)
        # its model, which drift without schema/ compares production with later. Inspected
        # rather than the plan's desired model: a saved plan carries no model, and the desired
        # one comes from the shadow (its owners, not production's).
        reached = _inspect(conn, excluded, options.objects)
        tracking.finish(
            conn,
            options.tracking_schema,
            migration_id,
            "applied",
            result_fingerprint=reached.fingerprint(),
            result_model=reached if stores_model else None,
        )
        message = f"migration {migration_id}: applied {len(plan.statements)} statements"
        event(log, "apply.end", message, migration_id=migration_id)
        return ApplyResult("applied", plan, migration_id=migration_id, message=message)


def _record_failed_run(
    conn: psycopg.Connection[Any],
    dsn: str,
    schema: str,
    migration_id: int,
    group: StatementGroup,
    failed_index: int | None,
    error: str,
) -> None:
    """Record the failure; if our backend was killed, on a fresh connection (best effort)."""
    if conn.broken or conn.closed:
        try:
            with psycopg.connect(dsn, autocommit=True) as fresh:
                _record_failure(fresh, schema, migration_id, group, failed_index)
                tracking.finish(fresh, schema, migration_id, "failed", error)
        except psycopg.Error as exc:
            log.warning("could not record the failure in %s.migrations: %s", schema, exc)
        return
    _record_failure(conn, schema, migration_id, group, failed_index)
    tracking.finish(conn, schema, migration_id, "failed", error)


def _record_failure(
    conn: psycopg.Connection[Any],
    schema: str,
    migration_id: int,
    group: StatementGroup,
    failed_index: int | None,
) -> None:
    # Statements before the failing one in a transactional group were rolled back with it.
    for index, _ in group.statements:
        status = "failed" if index == failed_index else "rolled_back"
        if index == failed_index or group.transactional:
            tracking.record_statement(conn, schema, migration_id, index, status, None)

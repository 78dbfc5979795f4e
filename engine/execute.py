"""Run planned statements on one connection exactly as apply and verify do.

Consecutive transactional statements run in one transaction; a non-transactional statement
(CREATE INDEX CONCURRENTLY, ...) runs alone in autocommit, in plan order. Each statement gets its
own lock_timeout and statement_timeout (SET LOCAL inside a transaction, SET outside).

Function bodies are not checked at creation (check_function_bodies off, as pg_dump does): the
plan may create a SQL function before the tables its body names. schema/ itself is loaded with
the check on, so a broken body is still reported, with its file and line, before any plan exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from engine.plan.model import Statement


@dataclass(frozen=True)
class StatementGroup:
    """A run of statements that share one transaction, or one non-transactional statement."""

    transactional: bool
    statements: tuple[tuple[int, Statement], ...]


def group_statements(statements: Sequence[Statement]) -> Iterator[StatementGroup]:
    run: list[tuple[int, Statement]] = []
    for index, statement in enumerate(statements):
        if statement.transactional:
            run.append((index, statement))
            continue
        if run:
            yield StatementGroup(True, tuple(run))
            run = []
        yield StatementGroup(False, ((index, statement),))
    if run:
        yield StatementGroup(True, tuple(run))


def _timeouts(
    cur: psycopg.Cursor[Any], statement: Statement, *, local: bool, current: tuple[int, int] | None
) -> tuple[int, int]:
    """Set the statement's timeouts, in one round trip and only when they change."""
    wanted = (int(statement.lock_timeout_ms), int(statement.statement_timeout_ms))
    if wanted != current:
        scope = "LOCAL " if local else ""
        sql = f"SET {scope}lock_timeout = {wanted[0]}; SET {scope}statement_timeout = {wanted[1]}"
        cur.execute(sql.encode())
    return wanted


StatementHook = Callable[[int, Statement], None]


def execute_statements(
    conn: psycopg.Connection[Any],
    statements: Sequence[Statement],
    *,
    before: StatementHook | None = None,
    after: StatementHook | None = None,
) -> None:
    """Run `statements` in plan order; raises psycopg errors as they come (the group rolls back)."""
    conn.autocommit = True
    for group in group_statements(statements):
        _execute_group(conn, group, before=before, after=after)


def _execute_group(
    conn: psycopg.Connection[Any],
    group: StatementGroup,
    *,
    before: StatementHook | None = None,
    after: StatementHook | None = None,
) -> None:
    if group.transactional:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL check_function_bodies = off")
            timeouts: tuple[int, int] | None = None
            for index, statement in group.statements:
                if before:
                    before(index, statement)
                timeouts = _timeouts(cur, statement, local=True, current=timeouts)
                cur.execute(statement.sql.encode())
                if after:
                    after(index, statement)
    else:
        index, statement = group.statements[0]
        with conn.cursor() as cur:
            if before:
                before(index, statement)
            cur.execute("SET check_function_bodies = off")
            _timeouts(cur, statement, local=False, current=None)
            try:
                cur.execute(statement.sql.encode())
            finally:
                cur.execute(
                    b"RESET lock_timeout; RESET statement_timeout; RESET check_function_bodies"
                )
            if after:
                after(index, statement)


# --------------------------------------------------------------------------- shadow fast path

# Statements of one transactional group sent in one round trip (one simple-query message).
_BATCH_STATEMENTS = 500
_BATCH_BYTES = 1 << 20

# Reported by the server after every change: the server lexes a whole message before running
# it, so a batch during which this changed is not trusted (the group runs again, one by one).
_LEXING_SETTING = "standard_conforming_strings"


class _RunAgain(Exception):
    """The batched group must run again statement by statement (it was rolled back)."""


def _batches(
    statements: tuple[tuple[int, Statement], ...],
) -> Iterator[tuple[Statement, ...]]:
    batch: list[Statement] = []
    size = 0
    for _, statement in statements:
        batch.append(statement)
        size += len(statement.sql)
        if len(batch) >= _BATCH_STATEMENTS or size >= _BATCH_BYTES:
            yield tuple(batch)
            batch, size = [], 0
    if batch:
        yield tuple(batch)


def _batch_message(batch: tuple[Statement, ...]) -> bytes:
    """One message: the batch's statements under the loosest timeouts any of them has (a
    statement_timeout of 0, no limit, wins), so none runs under a tighter limit than its own."""
    lock_ms = max(int(s.lock_timeout_ms) for s in batch)
    timeouts = [int(s.statement_timeout_ms) for s in batch]
    statement_ms = 0 if 0 in timeouts else max(timeouts)
    parts = [
        f"SET LOCAL lock_timeout = {lock_ms}",
        f"SET LOCAL statement_timeout = {statement_ms}",
        *(s.sql for s in batch),
    ]
    # a newline before each ";": SQL may end in a -- comment
    return "\n;\n".join(parts).encode()


def _execute_batched(conn: psycopg.Connection[Any], group: StatementGroup) -> None:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SET LOCAL check_function_bodies = off")
        lexing = conn.info.parameter_status(_LEXING_SETTING)
        for batch in _batches(group.statements):
            cur.execute(_batch_message(batch))
            if conn.info.parameter_status(_LEXING_SETTING) != lexing:
                raise _RunAgain


def execute_statements_in_shadow(
    conn: psycopg.Connection[Any], statements: Sequence[Statement]
) -> None:
    """`execute_statements` for a throw-away shadow database, in fewer round trips.

    The same statements in the same transactions (groups), but the statements of a
    transactional group are sent in batches, one message each, under the loosest timeouts of
    the batch. A group that fails is rolled back (it is one transaction) and run again exactly
    as `execute_statements` runs it, so the error raised is the one it raises. Never for
    production: apply keeps its per-statement timeouts, lock retries and tracking.
    """
    conn.autocommit = True
    for group in group_statements(statements):
        if group.transactional and len(group.statements) > 1:
            try:
                _execute_batched(conn, group)
                continue
            except (psycopg.Error, _RunAgain):
                pass  # rolled back with its transaction: run it again, statement by statement
        _execute_group(conn, group)

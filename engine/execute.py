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

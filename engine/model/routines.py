"""Functions, procedures and aggregates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    Granted,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class Routine(SchemaObject, Commented, Owned, Granted):
    """A function, procedure or aggregate (they share pg_proc); the key's kind is routine_kind.

    identity_args: oidvectortypes(proargtypes), part of the key: "integer, text".
    signature: pg_get_function_identity_arguments(oid), with names and modes: how DROP,
        COMMENT ON and GRANT name the routine ("a integer, b text"; "" for none).
    arguments: pg_get_function_arguments(oid), with defaults.
    result: pg_get_function_result(oid) ("integer", "SETOF t", "TABLE(a integer)"); None for
        procedures. CREATE OR REPLACE cannot change it.
    definition: pg_get_functiondef(oid) (already CREATE OR REPLACE ...): everything below is in
        it. For aggregates (which pg_get_functiondef rejects) a CREATE AGGREGATE built from
        pg_aggregate. Bodies given as strings (plpgsql, old-style SQL) are kept verbatim, so
        whitespace in them is a difference; BEGIN ATOMIC bodies are printed by PostgreSQL.
    The typed attributes repeat what the definition says, for hazards and reports.
    """

    kind: ClassVar[str] = "function"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    routine_kind: Literal["function", "procedure", "aggregate"] = "function"
    schema_: SchemaName
    name: str
    identity_args: str
    signature: str = ""
    arguments: str = ""
    result: str | None = None
    definition: str
    language: str = "sql"
    volatility: Literal["immutable", "stable", "volatile"] = "volatile"
    strict: bool = False
    security_definer: bool = False
    leakproof: bool = False
    parallel: Literal["safe", "restricted", "unsafe"] = "unsafe"
    cost: float = 100.0
    rows: float = 0.0
    config: tuple[str, ...] = ()  # proconfig: "search_path=public"
    sql_body: bool = False  # a BEGIN ATOMIC / RETURN body: parsed, dependency-tracked
    input_names: tuple[str, ...] = ()  # names of the IN/INOUT/VARIADIC parameters, "" if none
    default_count: int = 0  # pronargdefaults

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(
            kind=self.routine_kind, schema_=self.schema_, name=self.name, args=self.identity_args
        )

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)

    @property
    def body_tracked(self) -> bool:
        """Does PostgreSQL record what the body uses (so dependents are rebuilt safely)?"""
        return self.sql_body

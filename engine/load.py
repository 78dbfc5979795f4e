"""Load a schema/ folder into a (shadow) database, mapping every failure to file:line:col.

Discovery order. Every ``*.sql`` file under the schema directory, recursively, runs in the
order of its path relative to that directory, written with ``/`` separators and compared
byte-wise as UTF-8 (``sorted(rel.as_posix().encode())``). Number prefixes therefore order
things: ``00_extensions/``, ``10_types/``, ``20_tables/``. Byte-wise means upper case sorts
before lower case and ``a.sql`` before ``a/b.sql`` ('.' < '/'). Files and directories whose
name starts with ``.`` are skipped; symlinks are followed only when their target stays inside
the schema directory, otherwise the load is refused.

Parsing (no database). Each file is split by pglast, PostgreSQL's own parser. Statements that
do not describe a schema (databases, roles, transaction control, VACUUM, COPY, SET ROLE, ...)
and CREATE INDEX CONCURRENTLY are refused at their file:line:col, decided from the parse tree.
Every statement records its location and, where the tree names one, the object it creates.
Unqualified names resolve to the first schema of the latest ``SET search_path`` earlier in
the same file, else ``public``.

Execution. All statements run in ONE transaction as the loader role, sent in batches of
consecutive statements (one round trip each, in DO blocks). When a batch fails the transaction
is rolled back, the batches before it run again, and then that batch one statement at a time,
so that a server error maps back to its statement and, through the server's error position, to
a line and column, exactly as if every statement had been sent on its own. ``search_path`` is
reset at every file boundary, so a ``SET search_path`` in one file never leaks into the next one
(the same scoping the object locations use).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from pglast import ast, enums
from pglast.stream import RawStream
from pydantic import BaseModel, ConfigDict

from engine.errors import ConnectionFailed, SchemaLoadError, UsageError
from engine.lean import LeanModel
from engine.sqlsplit import (
    LineIndex,
    ParsedStatement,
    SqlSyntaxError,
    gc_paused,
    iter_statements,
    position_of,
    quote_line,
    statement_node,
)
from engine.sqltext import do_blocks
from engine.watchdog import StatementWatchdog

DEFAULT_SCHEMA = "public"

# Server errors that mean "this object already exists": worth naming the first definition.
_DUPLICATE_SQLSTATES = frozenset({"42P07", "42710", "42723", "42P06", "42P04"})

# Role names the caller must never try to create: they always exist or are keywords.
_PREDEFINED_ROLE_PREFIX = "pg_"

# The client cancels a statement itself this long after the server should have: the server's
# statement_timeout can be switched off by SQL the parse tree cannot see (set_config).
_CLIENT_CANCEL_GRACE_S = 1.0

# Advice pg-flux adds to a server error, by SQLSTATE, for mistakes typical of schema/ files.
_SCHEMA_ADVICE = {
    "55P04": "in schema/, list every value in CREATE TYPE ... AS ENUM rather than adding "
    "values with ALTER TYPE ... ADD VALUE: schema/ describes the end state",
}


class SourceLocation(LeanModel):
    """Where something is written: a display path (``schema/x.sql``), 1-based line and column."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ObjectRef(LeanModel):
    """The object a statement creates, as far as the parse tree names it."""

    model_config = ConfigDict(frozen=True)

    kind: str  # "table", "view", "index", "function", ...
    schema_name: str | None  # None for objects outside schemas (schemas, extensions, ...)
    name: str
    table: str | None = None  # for objects scoped to a table: triggers, policies, rules
    args: str | None = None  # routine input argument types as pglast prints them

    @property
    def key(self) -> str:
        """The object_locations key, e.g. ``table public.orders``; routines omit arguments."""
        qualified = f"{self.schema_name}.{self.name}" if self.schema_name else self.name
        if self.table is not None:
            return f"{self.kind} {self.name} on {self.schema_name}.{self.table}"
        return f"{self.kind} {qualified}"


class SourceFile(BaseModel):
    """One discovered file: its display path and decoded text (BOM stripped)."""

    model_config = ConfigDict(frozen=True)

    path: str
    text: str


class LoadedStatement(LeanModel):
    """One statement of schema/ with its location, the object it creates and roles it names."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int
    start: int  # character offset of the statement in its file's text
    sql: str
    kind: str  # the pglast node type, e.g. "CreateStmt"
    object: ObjectRef | None = None
    roles: frozenset[str] = frozenset()

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(file=self.file, line=self.line, column=self.column)


class LoadedSchema(BaseModel):
    """schema/ parsed and validated, ready to load; no database was touched to build it."""

    model_config = ConfigDict(frozen=True)

    schema_dir: Path
    files: tuple[SourceFile, ...]
    statements: tuple[LoadedStatement, ...]
    object_locations: dict[str, SourceLocation]

    @property
    def roles(self) -> set[str]:
        return required_roles(self.statements)


# --------------------------------------------------------------------------- discovery


def discover(schema_dir: Path) -> list[Path]:
    """Every visible ``*.sql`` file under `schema_dir`, in the documented byte-wise order."""
    if not schema_dir.exists():
        raise UsageError(f"schema directory {schema_dir} does not exist")
    if not schema_dir.is_dir():
        raise UsageError(f"schema directory {schema_dir} is not a directory")
    root = schema_dir.resolve()
    found: list[tuple[bytes, Path]] = []
    for path in _walk(schema_dir, root, visited={root}):
        rel = path.relative_to(schema_dir).as_posix()
        found.append((rel.encode("utf-8", "surrogateescape"), path))
    if not found:
        raise UsageError(f"schema directory {schema_dir} contains no .sql files")
    return [path for _, path in sorted(found)]


def _walk(directory: Path, root: Path, visited: set[Path]) -> Iterator[Path]:
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            target = entry.resolve()
            if not target.exists():
                raise UsageError(f"{entry} is a dangling symlink (to {target})")
            if not target.is_relative_to(root):
                raise UsageError(
                    f"{entry} is a symlink to {target}, outside the schema directory {root}; "
                    "refusing to read it"
                )
        if entry.is_dir():
            real = entry.resolve()
            if real in visited:  # a symlink back to a directory already walked
                continue
            yield from _walk(entry, root, visited | {real})
        elif entry.suffix == ".sql" and entry.is_file():
            yield entry


def _display_path(schema_dir: Path, path: Path) -> str:
    """``schema/tables/x.sql``: relative to the schema directory's parent."""
    name = schema_dir.resolve().name
    rel = path.relative_to(schema_dir).as_posix()
    return f"{name}/{rel}" if name else rel


def _read_source(path: Path, display: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {display}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise SchemaLoadError(
            f"file is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start}",
            file=display,
            line=line,
            column=column,
            details="schema/ files must be UTF-8 encoded",
        ) from exc
    text = text.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        pos = position_of(text, nul)
        raise SchemaLoadError(
            "file contains a NUL character, which PostgreSQL cannot accept",
            file=display,
            line=pos.line,
            column=pos.column,
        )
    return text


# --------------------------------------------------------------------------- refusals

# Rules, locators and the role walk read the parser's JSON tree of one statement
# (engine.sqlsplit.ParsedStatement.tree): node fields by name, enums by their C names.
Tree = dict[str, Any]

_Rule = Callable[[Tree], str | None]

_NOT_SCHEMA = "does not belong in schema/: schema files describe objects inside one database"


def _always(reason: str) -> _Rule:
    return lambda _node: reason


def _copy_reason(node: Tree) -> str:
    if node.get("is_program"):
        return "COPY ... PROGRAM is not allowed in schema/ files (it runs a shell command)"
    if node.get("filename") is not None:
        return "COPY to or from a server file is not allowed in schema/ files"
    return "COPY is not supported in schema/ files: they describe schema, not data"


def _set_reason(node: Tree) -> str | None:
    name = (node.get("name") or "").lower()
    if name in {"role", "session_authorization", "session authorization"}:
        return "SET ROLE / SET SESSION AUTHORIZATION is not allowed in schema/ files"
    if name == "statement_timeout":
        return "SET statement_timeout is not allowed in schema/ files: pg-flux sets it"
    return None


def _index_reason(node: Tree) -> str | None:
    if node.get("concurrent"):
        return (
            "CREATE INDEX CONCURRENTLY is not allowed in schema/ files: write a plain "
            "CREATE INDEX; schema/ describes the end state and pg-flux decides how to build "
            "it online"
        )
    return None


def _drop_reason(node: Tree) -> str | None:
    if node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY is not allowed in schema/ files: remove the index instead"
    return None


def _vacuum_reason(node: Tree) -> str | None:
    return "VACUUM is not allowed in schema/ files" if node.get("is_vacuumcmd") else None


def _reindex_reason(node: Tree) -> str:
    return "REINDEX is not allowed in schema/ files"


_CLUSTER_KINDS = frozenset(
    kind.name
    for kind in (
        enums.ObjectType.OBJECT_DATABASE,
        enums.ObjectType.OBJECT_ROLE,
        enums.ObjectType.OBJECT_TABLESPACE,
    )
)


def _rename_reason(kind_field: str) -> _Rule:
    def reason(node: Tree) -> str | None:
        kind = node.get(kind_field)
        if kind in _CLUSTER_KINDS:
            return f"ALTER {kind.removeprefix('OBJECT_')} {_NOT_SCHEMA}"
        return None

    return reason


# One rule per node type: the parse tree decides, never the statement text.
_REFUSALS: dict[str, _Rule] = {
    "CreatedbStmt": _always(f"CREATE DATABASE {_NOT_SCHEMA}"),
    "DropdbStmt": _always(f"DROP DATABASE {_NOT_SCHEMA}"),
    "AlterDatabaseStmt": _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    "AlterDatabaseSetStmt": _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    "AlterDatabaseRefreshCollStmt": _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    "CreateRoleStmt": _always(
        "roles are cluster-wide and do not belong in schema/; roles that grants name are "
        "created in the shadow database automatically"
    ),
    "AlterRoleStmt": _always("ALTER ROLE / USER / GROUP does not belong in schema/"),
    "AlterRoleSetStmt": _always("ALTER ROLE / USER ... SET does not belong in schema/"),
    "DropRoleStmt": _always("DROP ROLE / USER / GROUP does not belong in schema/"),
    "GrantRoleStmt": _always(
        "role membership (GRANT role TO role) is cluster-wide and does not belong in schema/"
    ),
    "DropOwnedStmt": _always("DROP OWNED does not belong in schema/"),
    "ReassignOwnedStmt": _always("REASSIGN OWNED does not belong in schema/"),
    "TransactionStmt": _always(
        "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION) is not "
        "allowed in schema/ files: pg-flux loads all of schema/ in one transaction"
    ),
    "VacuumStmt": _vacuum_reason,
    "ReindexStmt": _reindex_reason,
    "AlterSystemStmt": _always("ALTER SYSTEM is not allowed in schema/ files"),
    "CopyStmt": _copy_reason,
    "LoadStmt": _always("LOAD is not allowed in schema/ files"),
    "CheckPointStmt": _always("CHECKPOINT is not allowed in schema/ files"),
    "DiscardStmt": _always("DISCARD is not allowed in schema/ files"),
    "VariableSetStmt": _set_reason,
    "CreateTableSpaceStmt": _always(f"CREATE TABLESPACE {_NOT_SCHEMA}"),
    "DropTableSpaceStmt": _always(f"DROP TABLESPACE {_NOT_SCHEMA}"),
    "AlterTableSpaceOptionsStmt": _always(f"ALTER TABLESPACE {_NOT_SCHEMA}"),
    "AlterTableMoveAllStmt": _always(f"ALTER ... SET TABLESPACE {_NOT_SCHEMA}"),
    "CreateSubscriptionStmt": _always("subscriptions are not allowed in schema/ files"),
    "AlterSubscriptionStmt": _always("subscriptions are not allowed in schema/ files"),
    "DropSubscriptionStmt": _always("subscriptions are not allowed in schema/ files"),
    "IndexStmt": _index_reason,
    "DropStmt": _drop_reason,
    "RenameStmt": _rename_reason("renameType"),
    "AlterOwnerStmt": _rename_reason("objectType"),
}


def refusal_reason(statement: ParsedStatement) -> str | None:
    """Why `statement` may not appear in schema/, or None when it may."""
    rule = _REFUSALS.get(statement.kind)
    return rule(statement.tree) if rule is not None else None


# --------------------------------------------------------------------------- objects


def _names(parts: Iterable[Tree] | None) -> list[str]:
    """The strings of a name list (``[{"String": {"sval": "s"}}, ...]``)."""
    names: list[str] = []
    for part in parts or ():
        value = part.get("String")
        if value is not None and value.get("sval"):
            names.append(value["sval"])
    return names


def _from_names(kind: str, parts: Iterable[Tree] | None, default: str) -> ObjectRef | None:
    names = _names(parts)
    if not names:
        return None
    schema = names[-2] if len(names) >= 2 else default
    return ObjectRef(kind=kind, schema_name=schema, name=names[-1])


def _from_rangevar(kind: str, rel: Tree | None, default: str) -> ObjectRef | None:
    if not rel or not rel.get("relname"):
        return None
    return ObjectRef(kind=kind, schema_name=rel.get("schemaname") or default, name=rel["relname"])


_ARGUMENT_MODES = frozenset(
    {
        enums.FunctionParameterMode.FUNC_PARAM_OUT,
        enums.FunctionParameterMode.FUNC_PARAM_TABLE,
    }
)


def _routine(statement: ParsedStatement, default: str) -> ObjectRef | None:
    node = statement.tree
    kind = "procedure" if node.get("is_procedure") else "function"
    ref = _from_names(kind, node.get("funcname"), default)
    if ref is None:
        return None
    inputs: list[str] = []
    if node.get("parameters"):
        # argument types as pglast prints them: the one place a statement's nodes are built
        routine = statement_node(statement.text)
        assert isinstance(routine, ast.CreateFunctionStmt)
        inputs = [
            RawStream()(p.argType)
            for p in routine.parameters or ()
            if p.mode not in _ARGUMENT_MODES
        ]
    return ref.model_copy(update={"args": ", ".join(inputs)})


_DEFINED_KINDS = {
    "OBJECT_TYPE": "type",
    "OBJECT_AGGREGATE": "aggregate",
    "OBJECT_OPERATOR": "operator",
    "OBJECT_COLLATION": "collation",
}


def _define(node: Tree, default: str) -> ObjectRef | None:
    kind = _DEFINED_KINDS.get(node.get("kind", ""))
    return _from_names(kind, node.get("defnames"), default) if kind else None


def _matview(node: Tree, default: str) -> ObjectRef | None:
    kind = "materialized view" if node.get("objtype") == "OBJECT_MATVIEW" else "table"
    return _from_rangevar(kind, (node.get("into") or {}).get("rel"), default)


def _index(node: Tree, default: str) -> ObjectRef | None:
    if not node.get("idxname"):
        return None
    schema = (node.get("relation") or {}).get("schemaname")
    return ObjectRef(kind="index", schema_name=schema or default, name=node["idxname"])


def _on_table(kind: str, name: str | None, rel: Tree | None, default: str) -> ObjectRef:
    rel = rel or {}
    schema = rel.get("schemaname") or default
    return ObjectRef(kind=kind, schema_name=schema, name=name or "", table=rel.get("relname"))


def _global(kind: str, name: str | None) -> ObjectRef | None:
    return ObjectRef(kind=kind, schema_name=None, name=name) if name else None


_Locator = Callable[[Tree, str], ObjectRef | None]

# One locator per creating node type; `default` is the schema unqualified names land in.
# (CreateFunctionStmt: `_routine`, which may need the statement's text.)
_OBJECTS: dict[str, _Locator] = {
    "CreateStmt": lambda n, d: _from_rangevar("table", n.get("relation"), d),
    "CreateForeignTableStmt": lambda n, d: _from_rangevar(
        "foreign table", (n.get("base") or {}).get("relation"), d
    ),
    "ViewStmt": lambda n, d: _from_rangevar("view", n.get("view"), d),
    "CreateTableAsStmt": _matview,
    "IndexStmt": _index,
    "CreateSeqStmt": lambda n, d: _from_rangevar("sequence", n.get("sequence"), d),
    "CompositeTypeStmt": lambda n, d: _from_rangevar("type", n.get("typevar"), d),
    "CreateEnumStmt": lambda n, d: _from_names("type", n.get("typeName"), d),
    "CreateRangeStmt": lambda n, d: _from_names("type", n.get("typeName"), d),
    "CreateDomainStmt": lambda n, d: _from_names("domain", n.get("domainname"), d),
    "DefineStmt": _define,
    "CreateSchemaStmt": lambda n, _d: _global("schema", n.get("schemaname")),
    "CreateExtensionStmt": lambda n, _d: _global("extension", n.get("extname")),
    "CreateEventTrigStmt": lambda n, _d: _global("event trigger", n.get("trigname")),
    "CreateFdwStmt": lambda n, _d: _global("foreign data wrapper", n.get("fdwname")),
    "CreateForeignServerStmt": lambda n, _d: _global("server", n.get("servername")),
    "CreateStatsStmt": lambda n, d: _from_names("statistics", n.get("defnames"), d),
    "CreateTrigStmt": lambda n, d: _on_table("trigger", n.get("trigname"), n.get("relation"), d),
    "CreatePolicyStmt": lambda n, d: _on_table("policy", n.get("policy_name"), n.get("table"), d),
    "RuleStmt": lambda n, d: _on_table("rule", n.get("rulename"), n.get("relation"), d),
}


def created_object(
    statement: ParsedStatement, default_schema: str = DEFAULT_SCHEMA
) -> ObjectRef | None:
    """The object `statement` creates, when its parse tree names one."""
    if statement.kind == "CreateFunctionStmt":
        return _routine(statement, default_schema)
    locator = _OBJECTS.get(statement.kind)
    return locator(statement.tree, default_schema) if locator is not None else None


# --------------------------------------------------------------------------- roles


_NAMED_ROLE = '"ROLESPEC_CSTRING"'  # the roletype of a RoleSpec written as a name


def roles_named(tree: Tree) -> frozenset[str]:
    """Role names a statement's tree refers to (grantees, owners, policy roles, FOR ROLE, ...).

    A RoleSpec is the one node with a ``roletype`` field; in the JSON tree it appears wrapped
    (``{"RoleSpec": {...}}``, in lists) or bare (a typed field such as ``newowner``).
    """
    found: set[str] = set()
    stack: list[object] = [tree]  # iterative: parse trees of big views are deep
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("roletype") == _NAMED_ROLE[1:-1]:
                name = value.get("rolename")
                if name and not name.startswith(_PREDEFINED_ROLE_PREFIX):
                    found.add(name)
            stack.extend(v for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend(value)
    return frozenset(found)


def _statement_roles(statement: ParsedStatement) -> frozenset[str]:
    # most statements name no role: their JSON text says so without a walk of their tree
    if _NAMED_ROLE not in statement.json_text:
        return frozenset()
    return roles_named(statement.tree)


def required_roles(statements: Iterable[LoadedStatement]) -> set[str]:
    """Roles the shadow must have before loading: every named role except PUBLIC, CURRENT_USER,
    SESSION_USER, CURRENT_ROLE and predefined ``pg_*`` roles."""
    return {role for statement in statements for role in statement.roles}


# --------------------------------------------------------------------------- parsing


def _search_path_schema(statement: ParsedStatement) -> str | None:
    """The schema unqualified names land in after this statement, if it sets search_path."""
    node = statement.tree
    if statement.kind != "VariableSetStmt" or (node.get("name") or "").lower() != "search_path":
        return None
    if node.get("kind") != "VAR_SET_VALUE":
        return DEFAULT_SCHEMA
    for arg in node.get("args") or ():
        value = (arg.get("A_Const") or {}).get("sval") or {}
        # "$user" names a schema only when one matches the role; the shadow has none.
        if value.get("sval") and value["sval"] != "$user":
            return str(value["sval"])
    return DEFAULT_SCHEMA


def _parse_file(source: SourceFile) -> Iterator[ParsedStatement]:
    """The statements of one file, each tree decoded as the caller reaches it."""
    try:
        yield from iter_statements(source.text)
    except SqlSyntaxError as exc:
        if exc.offset is None:
            raise SchemaLoadError(exc.message, file=source.path) from exc
        pos = position_of(source.text, exc.offset)
        message = exc.message
        if source.text[exc.offset : exc.offset + 1] == "\\":
            message = (
                "psql meta-commands (\\i, \\set, \\connect, ...) are not supported in schema/ "
                "files: pg-flux loads every .sql file under schema/ itself"
            )
        raise SchemaLoadError(
            message,
            file=source.path,
            line=pos.line,
            column=pos.column,
            details=quote_line(source.text, pos),
            source_line=quote_line(source.text, pos),
        ) from exc


def parse_schema_dir(schema_dir: Path) -> LoadedSchema:
    """Discover, read, parse and validate schema/ without a database."""
    files: list[SourceFile] = []
    locations: dict[str, SourceLocation] = {}
    # parse trees are acyclic and die with their file: no collection needs to see them
    with gc_paused():
        statements = tuple(_parsed_statements(schema_dir, files, locations))
    return LoadedSchema(
        schema_dir=schema_dir,
        files=tuple(files),
        statements=statements,
        object_locations=locations,
    )


def _parsed_statements(
    schema_dir: Path, files: list[SourceFile], locations: dict[str, SourceLocation]
) -> Iterator[LoadedStatement]:
    """Every statement of schema/ in load order; `files` and `locations` grow as it goes (a
    file is in `files` before its first statement comes out)."""
    for path in discover(schema_dir):
        display = _display_path(schema_dir, path)
        source = SourceFile(path=display, text=_read_source(path, display))
        files.append(source)
        default = DEFAULT_SCHEMA
        lines = LineIndex(source.text)
        for parsed in _parse_file(source):
            pos = lines.position(parsed.start)
            reason = refusal_reason(parsed)
            if reason is not None:
                raise SchemaLoadError(
                    reason,
                    file=display,
                    line=pos.line,
                    column=pos.column,
                    details=quote_line(source.text, pos),
                    source_line=quote_line(source.text, pos),
                )
            obj = created_object(parsed, default)
            statement = LoadedStatement(
                file=display,
                line=pos.line,
                column=pos.column,
                start=parsed.start,
                sql=parsed.text,
                kind=parsed.kind,
                object=obj,
                roles=_statement_roles(parsed),
            )
            if obj is not None:
                locations.setdefault(obj.key, statement.location)
            default = _search_path_schema(parsed) or default
            yield statement


# --------------------------------------------------------------------------- execution


def load_into(dsn: str, loaded: LoadedSchema, *, statement_timeout_ms: int = 60_000) -> None:
    """Run every statement of `loaded` in one transaction; on error nothing is left behind."""
    sources = {f.path: f.text for f in loaded.files}
    _load(dsn, loaded.statements, sources.__getitem__, statement_timeout_ms, None)


def parse_and_load(
    schema_dir: Path,
    dsn: str,
    *,
    ensure_roles: Callable[[set[str]], None] | None = None,
    statement_timeout_ms: int = 60_000,
    stop: threading.Event | None = None,
) -> dict[str, SourceLocation]:
    """`parse_schema_dir` and `load_into` at once: schema/ is parsed on a thread of its own
    while the statements parsed so far load, so the parse (4 s of CPU at 10,000 tables) is
    off the load's path. Before a batch is sent, `ensure_roles` is given the roles its
    statements name that no batch named before. Errors are those of the two steps: a parse
    error stops the load and a load error the parse, and either way nothing is left behind.
    `stop`, once set, ends the load before its next statement: the parse still runs to its
    end, and its error, if any, is raised, else `LoadStopped` (the caller failed elsewhere).
    Returns where schema/ writes each object; the statements are not kept."""
    files: list[SourceFile] = []
    locations: dict[str, SourceLocation] = {}
    with _ParsingThread(schema_dir, files, locations) as parsed:

        def source_text(path: str) -> str:
            return next(f.text for f in files if f.path == path)

        _load(dsn, _unless_stopped(parsed, stop), source_text, statement_timeout_ms, ensure_roles)
    return locations


class LoadStopped(Exception):
    """The caller asked a load to stop (`parse_and_load(stop=...)`); it was rolled back."""


def _unless_stopped(
    statements: Iterator[LoadedStatement], stop: threading.Event | None
) -> Iterator[LoadedStatement]:
    for statement in statements:
        if stop is not None and stop.is_set():
            # The parse goes on to its end, without loading: an error in schema/'s text is
            # still raised (the caller reports it first, as when parsing came before all else).
            for _ in statements:
                pass
            raise LoadStopped("the load was stopped")
        yield statement


class _ParsingThread:
    """Parses schema/ on a thread, handing statements over in chunks as an iterator."""

    _CHUNK = 200  # statements per hand-over: one queue round per chunk, not per statement

    def __init__(
        self, schema_dir: Path, files: list[SourceFile], locations: dict[str, SourceLocation]
    ) -> None:
        self._chunks: queue.Queue[list[LoadedStatement] | BaseException | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._parse, args=(schema_dir, files, locations), name="pgflux-parse"
        )

    def __enter__(self) -> Iterator[LoadedStatement]:
        self._thread.start()
        return self._statements()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # a load that failed stops the parse at its next chunk
        self._thread.join()

    def _parse(
        self, schema_dir: Path, files: list[SourceFile], locations: dict[str, SourceLocation]
    ) -> None:
        chunk: list[LoadedStatement] = []
        try:
            with gc_paused():
                for statement in _parsed_statements(schema_dir, files, locations):
                    chunk.append(statement)
                    if len(chunk) >= self._CHUNK:
                        self._chunks.put(chunk)
                        chunk = []
                        if self._stop.is_set():
                            return
            self._chunks.put(chunk)
            self._chunks.put(None)
        except BaseException as exc:  # raised again where the statements are consumed
            self._chunks.put(exc)

    def _statements(self) -> Iterator[LoadedStatement]:
        while (chunk := self._chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk


def _load(
    dsn: str,
    statements: Iterable[LoadedStatement],
    source_text: Callable[[str], str],
    statement_timeout_ms: int,
    ensure_roles: Callable[[set[str]], None] | None,
) -> None:
    try:
        conn = psycopg.connect(dsn, autocommit=False)
    except psycopg.Error as exc:
        raise ConnectionFailed(f"could not connect to the shadow database: {exc}") from exc
    with conn:
        try:
            _run(conn, statements, source_text, statement_timeout_ms, ensure_roles)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


# Statements sent in one round trip (one simple-query message), at most so many and so big.
# At 5,000 tables (35,000 statements) one message each cost 4.2 s of client CPU and as many
# round trips; in batches, 0.25 s and 170 messages. 2,000 a batch keeps a failing batch's
# statement-by-statement rerun short.
_BATCH_STATEMENTS = 2000
_BATCH_BYTES = 4 << 20

# Statements that end their batch. The server lexes a whole message before it runs any of it,
# so a statement that changes how SQL is lexed (standard_conforming_strings, backslash_quote)
# must not share a message with the statements after it: every SET, and every statement that
# runs user code, which can call set_config. (DDL can run user code too, a CHECK validated over
# existing rows: `_LEXING_SETTING` catches what that changes.)
_ENDS_BATCH = frozenset(
    {
        "VariableSetStmt",
        "SelectStmt",
        "InsertStmt",
        "UpdateStmt",
        "DeleteStmt",
        "MergeStmt",
        "DoStmt",
        "CallStmt",
        "ExecuteStmt",
        "ExplainStmt",
        "CreateTableAsStmt",
        "RefreshMatViewStmt",
    }
)

# Reported by the server after every change (ParameterStatus): a batch that changed it is run
# again statement by statement, whatever changed it.
_LEXING_SETTING = "standard_conforming_strings"


def _batches(statements: Iterable[LoadedStatement], kept: list[LoadedStatement]) -> Iterator[range]:
    """Consecutive runs of statement indexes, each sent as one message; each statement is
    appended to `kept` (at its index) as it is taken from `statements`."""
    start = size = 0
    for index, statement in enumerate(statements):
        kept.append(statement)
        size += len(statement.sql)
        if (
            index + 1 - start >= _BATCH_STATEMENTS
            or size >= _BATCH_BYTES
            or statement.kind in _ENDS_BATCH
        ):
            yield range(start, index + 1)
            start, size = index + 1, 0
    if start < len(kept):
        yield range(start, len(kept))


class _Runner:
    """Runs the statements of one load on one connection, in batches. A batch that fails (or
    during which the lexing setting changed) makes the runner roll the whole transaction back,
    run the batches before it again, and then that batch one statement at a time, so that the
    error is the failing statement's own, mapped to its file:line:col exactly as if every
    statement had been sent on its own.

    No savepoint per batch, which would have made that rollback cheaper: every statement that
    runs inside a subtransaction costs the server more (10,000 tables as a non-superuser: 53 s
    in savepoint batches, 39 s without), and only a load that fails pays for the replay."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        cur: psycopg.Cursor[Any],
        watchdog: StatementWatchdog,
        statements: Iterable[LoadedStatement],
        fail: Callable[[psycopg.Error, int], SchemaLoadError],
        begin: Callable[[], None],
        ensure_roles: Callable[[set[str]], None] | None,
    ) -> None:
        self._conn = conn
        self._cur = cur
        self._watchdog = watchdog
        self._stream = statements
        # every statement taken from the stream so far, at its index
        self._statements: list[LoadedStatement] = []
        self._fail = fail
        self._begin = begin
        self._ensure_roles = ensure_roles
        self._roles_ensured: set[str] = set()
        self._previous_file: str | None = None

    @property
    def statements(self) -> list[LoadedStatement]:
        return self._statements

    def _file_switch(self, statement: LoadedStatement) -> bool:
        """Whether `statement` opens a new file after another one (search_path is reset)."""
        switch = self._previous_file is not None and statement.file != self._previous_file
        self._previous_file = statement.file
        return switch

    def run(self) -> None:
        self._begin()
        done: list[range] = []
        for batch in _batches(self._stream, self._statements):
            self._roles_for(batch)
            if len(batch) == 1:
                self._one_by_one(batch)
            elif not self._batch(batch):
                self._replay(done)
                self._one_by_one(batch)
            done.append(batch)

    def _roles_for(self, batch: range) -> None:
        """Have the roles `batch` names made before it is sent (on another connection: they
        are committed, so the load's next statements see them)."""
        if self._ensure_roles is None:
            return
        named = required_roles(self._statements[index] for index in batch)
        new = named - self._roles_ensured
        if new:
            self._ensure_roles(new)
            self._roles_ensured |= new

    def _replay(self, done: list[range]) -> None:
        """Roll back, and run the batches that succeeded again (the same statements in the same
        order give the same state)."""
        try:
            self._conn.rollback()
        except psycopg.Error as exc:  # the connection is gone: no statement to blame
            raise self._fail(exc, done[-1][-1] if done else 0) from exc
        self._previous_file = None
        self._begin()
        for batch in done:
            if len(batch) == 1 or not self._batch(batch):
                self._one_by_one(batch)  # it ran before: this raises only for a broken server

    def _batch(self, batch: range) -> bool:
        """Send `batch` as one message; False when it must run again statement by statement
        (the transaction is then aborted or holds the batch's work: `_replay` undoes it)."""
        first_file = self._previous_file
        texts: list[str] = []
        for index in batch:
            statement = self._statements[index]
            if self._file_switch(statement):
                texts.append("RESET search_path")
            texts.append(statement.sql)
        lexing = self._conn.info.parameter_status(_LEXING_SETTING)
        # A statement that ends its batch (it returns rows, changes settings or runs user code)
        # is sent as itself; the rest run in DO blocks (engine.sqltext.do_blocks: why), whose
        # literals need standard_conforming_strings on.
        tail = [texts.pop()] if self._statements[batch[-1]].kind in _ENDS_BATCH else []
        if lexing == "on":
            texts = do_blocks(texts)
        # a newline before each ";": a statement may end in a -- comment
        message = "\n;\n".join(texts + tail).encode("utf-8")
        self._watchdog.arm()
        try:
            self._cur.execute(message)
            done = self._conn.info.parameter_status(_LEXING_SETTING) == lexing
        except psycopg.Error:
            done = False
        finally:
            self._watchdog.disarm()
        if not done:
            self._previous_file = first_file
        return done

    def _one_by_one(self, batch: range) -> None:
        for index in batch:
            statement = self._statements[index]
            if self._file_switch(statement):
                self._cur.execute(b"RESET search_path")
            self._watchdog.arm()
            try:
                self._cur.execute(statement.sql.encode("utf-8"))
            except psycopg.Error as exc:
                raise self._fail(exc, index) from exc
            finally:
                self._watchdog.disarm()


def _run(
    conn: psycopg.Connection[Any],
    statements: Iterable[LoadedStatement],
    source_text: Callable[[str], str],
    statement_timeout_ms: int,
    ensure_roles: Callable[[set[str]], None] | None,
) -> None:
    with conn.cursor() as cur:

        def begin() -> None:
            # the transaction's own settings (set again after a rollback)
            cur.execute(
                "SELECT set_config('statement_timeout', %s, true),"
                " set_config('check_function_bodies', 'on', true)",
                (str(statement_timeout_ms),),
            )

        limit_s = statement_timeout_ms / 1000 + _CLIENT_CANCEL_GRACE_S
        with StatementWatchdog(conn, limit_s if statement_timeout_ms > 0 else None) as watchdog:

            def fail(exc: psycopg.Error, index: int) -> SchemaLoadError:
                return _server_error(
                    exc, runner.statements, index, source_text, statement_timeout_ms
                )

            runner = _Runner(conn, cur, watchdog, statements, fail, begin, ensure_roles)
            runner.run()


def _server_error(
    exc: psycopg.Error,
    statements: Sequence[LoadedStatement],
    index: int,
    source_text: Callable[[str], str],
    statement_timeout_ms: int,
) -> SchemaLoadError:
    statement = statements[index]
    text = source_text(statement.file)
    diag = exc.diag
    position: str | None = diag.statement_position
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    if position:
        offset = statement.start + int(position) - 1
    else:
        offset = statement.start + (_named_relation_offset(statement.sql, message) or 0)
    pos = position_of(text, offset)
    quoted = quote_line(text, pos)
    lines = [quoted]
    if diag.message_detail:
        lines.append(f"DETAIL: {diag.message_detail}")
    hint = diag.message_hint
    if diag.sqlstate == "57014":
        hint = hint or (
            f"the statement ran longer than the shadow's statement_timeout "
            f"({statement_timeout_ms} ms)"
        )
    if hint:
        lines.append(f"HINT: {hint}")
    advice = _SCHEMA_ADVICE.get(diag.sqlstate or "")
    if advice:
        lines.append(f"pg-flux: {advice}")
    if diag.sqlstate in _DUPLICATE_SQLSTATES and statement.object is not None:
        first = _first_definition(statements, index)
        if first is not None:
            message = f"{message} (first defined at {first})"
            lines.append(f"{statement.object.key} is also defined at {first}")
    return SchemaLoadError(
        message,
        file=statement.file,
        line=pos.line,
        column=pos.column,
        details="\n".join(lines),
        source_line=quoted,
        hint=hint,
        detail=diag.message_detail,
        sqlstate=diag.sqlstate,
    )


def _walk_nodes(root: ast.Node) -> Iterator[ast.Node]:
    """Every pglast node under `root` in pre-order (iterative: trees of big views are deep)."""
    stack: list[object] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, ast.Node):
            yield value
            slots: Iterable[str] = getattr(type(value), "__slots__", ())
            children = [getattr(value, attr, None) for attr in slots]
            stack.extend(c for c in reversed(children) if isinstance(c, ast.Node | tuple))
        elif isinstance(value, tuple | list):
            stack.extend(reversed(value))


def _named_relation_offset(sql: str, message: str) -> int | None:
    """Where `sql` names the relation a position-less server message quotes, if it does.

    Some errors (a foreign key to a missing table) carry no position; the statement's own
    parse tree still knows where it wrote each relation name.
    """
    try:
        root = statement_node(sql)  # pglast nodes: locations in characters of `sql`
    except SqlSyntaxError:
        return None
    for node in _walk_nodes(root):
        if (
            isinstance(node, ast.RangeVar)
            and node.relname
            and node.location is not None
            and node.location >= 0
            and f'"{node.relname}"' in message
        ):
            return node.location
    return None


def _first_definition(statements: Sequence[LoadedStatement], index: int) -> SourceLocation | None:
    target = statements[index].object
    for earlier in statements[:index]:
        if earlier.object == target:
            return earlier.location
    return None


__all__ = [
    "LoadStopped",
    "LoadedSchema",
    "LoadedStatement",
    "ObjectRef",
    "SourceFile",
    "SourceLocation",
    "created_object",
    "discover",
    "load_into",
    "parse_and_load",
    "parse_schema_dir",
    "refusal_reason",
    "required_roles",
    "roles_named",
]

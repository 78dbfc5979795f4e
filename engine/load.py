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

Execution. All statements run in ONE transaction as the loader role, each sent on its own so
that a server error maps back to its statement and, through the server's error position, to a
line and column. ``search_path`` is reset at every file boundary, so a ``SET search_path`` in
one file never leaks into the next one (the same scoping the object locations use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from pglast import ast, enums
from pglast.stream import RawStream
from pydantic import BaseModel, ConfigDict

from engine.errors import ConnectionFailed, SchemaLoadError, UsageError
from engine.sqlsplit import (
    LineIndex,
    ParsedStatement,
    SqlSyntaxError,
    position_of,
    quote_line,
    split_statements,
)
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


class SourceLocation(BaseModel):
    """Where something is written: a display path (``schema/x.sql``), 1-based line and column."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ObjectRef(BaseModel):
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


class LoadedStatement(BaseModel):
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

_Rule = Callable[[Any], str | None]

_NOT_SCHEMA = "does not belong in schema/: schema files describe objects inside one database"


def _always(reason: str) -> _Rule:
    return lambda _node: reason


def _copy_reason(node: ast.CopyStmt) -> str:
    if node.is_program:
        return "COPY ... PROGRAM is not allowed in schema/ files (it runs a shell command)"
    if node.filename is not None:
        return "COPY to or from a server file is not allowed in schema/ files"
    return "COPY is not supported in schema/ files: they describe schema, not data"


def _set_reason(node: ast.VariableSetStmt) -> str | None:
    name = (node.name or "").lower()
    if name in {"role", "session_authorization", "session authorization"}:
        return "SET ROLE / SET SESSION AUTHORIZATION is not allowed in schema/ files"
    if name == "statement_timeout":
        return "SET statement_timeout is not allowed in schema/ files: pg-flux sets it"
    return None


def _index_reason(node: ast.IndexStmt) -> str | None:
    if node.concurrent:
        return (
            "CREATE INDEX CONCURRENTLY is not allowed in schema/ files: write a plain "
            "CREATE INDEX; schema/ describes the end state and pg-flux decides how to build "
            "it online"
        )
    return None


def _drop_reason(node: ast.DropStmt) -> str | None:
    if node.concurrent:
        return "DROP INDEX CONCURRENTLY is not allowed in schema/ files: remove the index instead"
    return None


def _vacuum_reason(node: ast.VacuumStmt) -> str | None:
    return "VACUUM is not allowed in schema/ files" if node.is_vacuumcmd else None


def _reindex_reason(node: ast.ReindexStmt) -> str:
    return "REINDEX is not allowed in schema/ files"


_CLUSTER_KINDS = frozenset(
    {
        enums.ObjectType.OBJECT_DATABASE,
        enums.ObjectType.OBJECT_ROLE,
        enums.ObjectType.OBJECT_TABLESPACE,
    }
)


def _rename_reason(node: ast.RenameStmt | ast.AlterOwnerStmt) -> str | None:
    kind = node.renameType if isinstance(node, ast.RenameStmt) else node.objectType
    if kind in _CLUSTER_KINDS:
        return f"ALTER {kind.name.removeprefix('OBJECT_')} {_NOT_SCHEMA}"
    return None


# One rule per node type: the parse tree decides, never the statement text.
_REFUSALS: dict[type[ast.Node], _Rule] = {
    ast.CreatedbStmt: _always(f"CREATE DATABASE {_NOT_SCHEMA}"),
    ast.DropdbStmt: _always(f"DROP DATABASE {_NOT_SCHEMA}"),
    ast.AlterDatabaseStmt: _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    ast.AlterDatabaseSetStmt: _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    ast.AlterDatabaseRefreshCollStmt: _always(f"ALTER DATABASE {_NOT_SCHEMA}"),
    ast.CreateRoleStmt: _always(
        "roles are cluster-wide and do not belong in schema/; roles that grants name are "
        "created in the shadow database automatically"
    ),
    ast.AlterRoleStmt: _always("ALTER ROLE / USER / GROUP does not belong in schema/"),
    ast.AlterRoleSetStmt: _always("ALTER ROLE / USER ... SET does not belong in schema/"),
    ast.DropRoleStmt: _always("DROP ROLE / USER / GROUP does not belong in schema/"),
    ast.GrantRoleStmt: _always(
        "role membership (GRANT role TO role) is cluster-wide and does not belong in schema/"
    ),
    ast.DropOwnedStmt: _always("DROP OWNED does not belong in schema/"),
    ast.ReassignOwnedStmt: _always("REASSIGN OWNED does not belong in schema/"),
    ast.TransactionStmt: _always(
        "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION) is not "
        "allowed in schema/ files: pg-flux loads all of schema/ in one transaction"
    ),
    ast.VacuumStmt: _vacuum_reason,
    ast.ReindexStmt: _reindex_reason,
    ast.AlterSystemStmt: _always("ALTER SYSTEM is not allowed in schema/ files"),
    ast.CopyStmt: _copy_reason,
    ast.LoadStmt: _always("LOAD is not allowed in schema/ files"),
    ast.CheckPointStmt: _always("CHECKPOINT is not allowed in schema/ files"),
    ast.DiscardStmt: _always("DISCARD is not allowed in schema/ files"),
    ast.VariableSetStmt: _set_reason,
    ast.CreateTableSpaceStmt: _always(f"CREATE TABLESPACE {_NOT_SCHEMA}"),
    ast.DropTableSpaceStmt: _always(f"DROP TABLESPACE {_NOT_SCHEMA}"),
    ast.AlterTableSpaceOptionsStmt: _always(f"ALTER TABLESPACE {_NOT_SCHEMA}"),
    ast.AlterTableMoveAllStmt: _always(f"ALTER ... SET TABLESPACE {_NOT_SCHEMA}"),
    ast.CreateSubscriptionStmt: _always("subscriptions are not allowed in schema/ files"),
    ast.AlterSubscriptionStmt: _always("subscriptions are not allowed in schema/ files"),
    ast.DropSubscriptionStmt: _always("subscriptions are not allowed in schema/ files"),
    ast.IndexStmt: _index_reason,
    ast.DropStmt: _drop_reason,
    ast.RenameStmt: _rename_reason,
    ast.AlterOwnerStmt: _rename_reason,
}


def refusal_reason(node: ast.Node) -> str | None:
    """Why `node` may not appear in schema/, or None when it may."""
    rule = _REFUSALS.get(type(node))
    return rule(node) if rule is not None else None


# --------------------------------------------------------------------------- objects


def _names(parts: Iterable[ast.Node] | None) -> list[str]:
    return [p.sval for p in parts or () if isinstance(p, ast.String) and p.sval]


def _from_names(kind: str, parts: Iterable[ast.Node] | None, default: str) -> ObjectRef | None:
    names = _names(parts)
    if not names:
        return None
    schema = names[-2] if len(names) >= 2 else default
    return ObjectRef(kind=kind, schema_name=schema, name=names[-1])


def _from_rangevar(kind: str, rel: ast.RangeVar | None, default: str) -> ObjectRef | None:
    if rel is None or rel.relname is None:
        return None
    return ObjectRef(kind=kind, schema_name=rel.schemaname or default, name=rel.relname)


def _routine(node: ast.CreateFunctionStmt, default: str) -> ObjectRef | None:
    ref = _from_names("procedure" if node.is_procedure else "function", node.funcname, default)
    if ref is None:
        return None
    inputs = [
        RawStream()(p.argType)
        for p in node.parameters or ()
        if p.mode
        not in {
            enums.FunctionParameterMode.FUNC_PARAM_OUT,
            enums.FunctionParameterMode.FUNC_PARAM_TABLE,
        }
    ]
    return ref.model_copy(update={"args": ", ".join(inputs)})


def _define(node: ast.DefineStmt, default: str) -> ObjectRef | None:
    kinds = {
        enums.ObjectType.OBJECT_TYPE: "type",
        enums.ObjectType.OBJECT_AGGREGATE: "aggregate",
        enums.ObjectType.OBJECT_OPERATOR: "operator",
        enums.ObjectType.OBJECT_COLLATION: "collation",
    }
    kind = kinds.get(node.kind) if node.kind is not None else None
    return _from_names(kind, node.defnames, default) if kind else None


def _matview(node: ast.CreateTableAsStmt, default: str) -> ObjectRef | None:
    kind = "materialized view" if node.objtype == enums.ObjectType.OBJECT_MATVIEW else "table"
    return _from_rangevar(kind, node.into.rel if node.into else None, default)


def _index(node: ast.IndexStmt, default: str) -> ObjectRef | None:
    if not node.idxname:
        return None
    schema = node.relation.schemaname if node.relation else None
    return ObjectRef(kind="index", schema_name=schema or default, name=node.idxname)


def _on_table(kind: str, name: str | None, rel: ast.RangeVar | None, default: str) -> ObjectRef:
    table = rel.relname if rel else None
    schema = (rel.schemaname if rel else None) or default
    return ObjectRef(kind=kind, schema_name=schema, name=name or "", table=table)


def _global(kind: str, name: str | None) -> ObjectRef | None:
    return ObjectRef(kind=kind, schema_name=None, name=name) if name else None


_Locator = Callable[[Any, str], ObjectRef | None]

# One locator per creating node type; `default` is the schema unqualified names land in.
_OBJECTS: dict[type[ast.Node], _Locator] = {
    ast.CreateStmt: lambda n, d: _from_rangevar("table", n.relation, d),
    ast.CreateForeignTableStmt: lambda n, d: _from_rangevar("foreign table", n.base.relation, d),
    ast.ViewStmt: lambda n, d: _from_rangevar("view", n.view, d),
    ast.CreateTableAsStmt: _matview,
    ast.IndexStmt: _index,
    ast.CreateSeqStmt: lambda n, d: _from_rangevar("sequence", n.sequence, d),
    ast.CompositeTypeStmt: lambda n, d: _from_rangevar("type", n.typevar, d),
    ast.CreateEnumStmt: lambda n, d: _from_names("type", n.typeName, d),
    ast.CreateRangeStmt: lambda n, d: _from_names("type", n.typeName, d),
    ast.CreateDomainStmt: lambda n, d: _from_names("domain", n.domainname, d),
    ast.DefineStmt: _define,
    ast.CreateFunctionStmt: _routine,
    ast.CreateSchemaStmt: lambda n, _d: _global("schema", n.schemaname),
    ast.CreateExtensionStmt: lambda n, _d: _global("extension", n.extname),
    ast.CreateEventTrigStmt: lambda n, _d: _global("event trigger", n.trigname),
    ast.CreateFdwStmt: lambda n, _d: _global("foreign data wrapper", n.fdwname),
    ast.CreateForeignServerStmt: lambda n, _d: _global("server", n.servername),
    ast.CreateStatsStmt: lambda n, d: _from_names("statistics", n.defnames, d),
    ast.CreateTrigStmt: lambda n, d: _on_table("trigger", n.trigname, n.relation, d),
    ast.CreatePolicyStmt: lambda n, d: _on_table("policy", n.policy_name, n.table, d),
    ast.RuleStmt: lambda n, d: _on_table("rule", n.rulename, n.relation, d),
}


def created_object(node: ast.Node, default_schema: str = DEFAULT_SCHEMA) -> ObjectRef | None:
    """The object `node` creates, when its parse tree names one."""
    locator = _OBJECTS.get(type(node))
    return locator(node, default_schema) if locator is not None else None


# --------------------------------------------------------------------------- roles


def _walk_tree(root: object) -> Iterator[ast.Node]:
    """Every node under `root` in pre-order (iterative: parse trees of big views are deep)."""
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


def roles_named(node: ast.Node) -> frozenset[str]:
    """Role names a statement refers to (grantees, owners, policy roles, FOR ROLE, ...)."""
    return frozenset(
        spec.rolename
        for spec in _walk_tree(node)
        if isinstance(spec, ast.RoleSpec)
        and spec.roletype == enums.RoleSpecType.ROLESPEC_CSTRING
        and spec.rolename
        and not spec.rolename.startswith(_PREDEFINED_ROLE_PREFIX)
    )


def required_roles(statements: Iterable[LoadedStatement]) -> set[str]:
    """Roles the shadow must have before loading: every named role except PUBLIC, CURRENT_USER,
    SESSION_USER, CURRENT_ROLE and predefined ``pg_*`` roles."""
    return {role for statement in statements for role in statement.roles}


# --------------------------------------------------------------------------- parsing


def _search_path_schema(node: ast.Node) -> str | None:
    """The schema unqualified names land in after this statement, if it sets search_path."""
    if not isinstance(node, ast.VariableSetStmt) or (node.name or "").lower() != "search_path":
        return None
    if node.kind != enums.VariableSetKind.VAR_SET_VALUE:
        return DEFAULT_SCHEMA
    for arg in node.args or ():
        value = arg.val if isinstance(arg, ast.A_Const) else None
        # "$user" names a schema only when one matches the role; the shadow has none.
        if isinstance(value, ast.String) and value.sval and value.sval != "$user":
            return value.sval
    return DEFAULT_SCHEMA


def _parse_file(source: SourceFile) -> list[ParsedStatement]:
    try:
        return split_statements(source.text)
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
    statements: list[LoadedStatement] = []
    locations: dict[str, SourceLocation] = {}
    for path in discover(schema_dir):
        display = _display_path(schema_dir, path)
        source = SourceFile(path=display, text=_read_source(path, display))
        files.append(source)
        default = DEFAULT_SCHEMA
        lines = LineIndex(source.text)
        for parsed in _parse_file(source):
            pos = lines.position(parsed.start)
            reason = refusal_reason(parsed.node)
            if reason is not None:
                raise SchemaLoadError(
                    reason,
                    file=display,
                    line=pos.line,
                    column=pos.column,
                    details=quote_line(source.text, pos),
                    source_line=quote_line(source.text, pos),
                )
            obj = created_object(parsed.node, default)
            statement = LoadedStatement(
                file=display,
                line=pos.line,
                column=pos.column,
                start=parsed.start,
                sql=parsed.text,
                kind=type(parsed.node).__name__,
                object=obj,
                roles=roles_named(parsed.node),
            )
            statements.append(statement)
            if obj is not None:
                locations.setdefault(obj.key, statement.location)
            default = _search_path_schema(parsed.node) or default
    return LoadedSchema(
        schema_dir=schema_dir,
        files=tuple(files),
        statements=tuple(statements),
        object_locations=locations,
    )


# --------------------------------------------------------------------------- execution


def load_into(dsn: str, loaded: LoadedSchema, *, statement_timeout_ms: int = 60_000) -> None:
    """Run every statement of `loaded` in one transaction; on error nothing is left behind."""
    sources = {f.path: f.text for f in loaded.files}
    try:
        conn = psycopg.connect(dsn, autocommit=False)
    except psycopg.Error as exc:
        raise ConnectionFailed(f"could not connect to the shadow database: {exc}") from exc
    with conn:
        try:
            _run(conn, loaded, sources, statement_timeout_ms)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _run(
    conn: psycopg.Connection[Any],
    loaded: LoadedSchema,
    sources: dict[str, str],
    statement_timeout_ms: int,
) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT set_config('statement_timeout', %s, true),"
            " set_config('check_function_bodies', 'on', true)",
            (str(statement_timeout_ms),),
        )
        previous_file: str | None = None
        limit_s = statement_timeout_ms / 1000 + _CLIENT_CANCEL_GRACE_S
        with StatementWatchdog(conn, limit_s if statement_timeout_ms > 0 else None) as watchdog:
            for index, statement in enumerate(loaded.statements):
                if statement.file != previous_file and previous_file is not None:
                    cur.execute("RESET search_path")
                previous_file = statement.file
                watchdog.arm()
                try:
                    cur.execute(statement.sql.encode("utf-8"))
                except psycopg.Error as exc:
                    raise _server_error(exc, loaded, index, sources, statement_timeout_ms) from exc
                finally:
                    watchdog.disarm()


def _server_error(
    exc: psycopg.Error,
    loaded: LoadedSchema,
    index: int,
    sources: dict[str, str],
    statement_timeout_ms: int,
) -> SchemaLoadError:
    statement = loaded.statements[index]
    text = sources[statement.file]
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
        first = _first_definition(loaded, index)
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


def _named_relation_offset(sql: str, message: str) -> int | None:
    """Where `sql` names the relation a position-less server message quotes, if it does.

    Some errors (a foreign key to a missing table) carry no position; the statement's own
    parse tree still knows where it wrote each relation name.
    """
    try:
        parsed = split_statements(sql)
    except SqlSyntaxError:
        return None
    for node in _walk_tree([p.node for p in parsed]):
        if (
            isinstance(node, ast.RangeVar)
            and node.relname
            and node.location is not None
            and node.location >= 0
            and f'"{node.relname}"' in message
        ):
            return node.location
    return None


def _first_definition(loaded: LoadedSchema, index: int) -> SourceLocation | None:
    target = loaded.statements[index].object
    for earlier in loaded.statements[:index]:
        if earlier.object == target:
            return earlier.location
    return None


__all__ = [
    "LoadedSchema",
    "LoadedStatement",
    "ObjectRef",
    "SourceFile",
    "SourceLocation",
    "created_object",
    "discover",
    "load_into",
    "parse_schema_dir",
    "refusal_reason",
    "required_roles",
    "roles_named",
]

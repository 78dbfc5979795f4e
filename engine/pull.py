"""`pg-flux pull --out DIR`: the live schema as a schema/ tree, one file per object.

Files go in folders by schema and kind: `<schema>/<NN>_<kind>/<name>.sql`, where NN orders a
schema's kinds as the plan creates them; database-wide objects (schemas, extensions, ...) go in
`_database/`, which sorts before every lower-case schema name. The loader runs files in byte-wise
path order, so the layout is only used when that order respects every dependency the model
knows; otherwise every file gets a global sequence number (`NNNN_<schema>.<kind>.<name>.sql`),
which always loads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from engine.errors import UsageError
from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.plan.model import ObjectRef, Statement

DATABASE_FOLDER = "_database"


def _safe(name: str) -> str:
    """A file-system-safe spelling of an identifier (not SQL: only used for file names)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "_"
    return cleaned[:100]


def _ref_id(ref: ObjectRef) -> tuple[str, str | None, str]:
    return (ref.kind, ref.schema_, ref.name)


def _key_id(key: ObjectKey) -> tuple[str, str | None, str]:
    return _ref_id(ObjectRef.of(key))


def _grouped(statements: Sequence[Statement]) -> dict[tuple[str, str | None, str], list[str]]:
    files: dict[tuple[str, str | None, str], list[str]] = {}
    for statement in statements:
        files.setdefault(_ref_id(statement.object), []).append(
            statement.sql.rstrip().rstrip(";") + ";"
        )
    return files


def _layout(
    files: dict[tuple[str, str | None, str], list[str]],
) -> dict[tuple[str, str | None, str], str]:
    kind_rank: dict[tuple[str, str], int] = {}
    for kind, schema, _ in files:
        folder = schema or DATABASE_FOLDER
        kind_rank.setdefault((folder, kind), len([k for k in kind_rank if k[0] == folder]))
    paths: dict[tuple[str, str | None, str], str] = {}
    for ident in files:
        kind, schema, name = ident
        folder = schema or DATABASE_FOLDER
        paths[ident] = f"{_safe(folder)}/{kind_rank[(folder, kind)]:02d}_{kind}/{_safe(name)}.sql"
    return paths


def _respects_dependencies(
    order: list[tuple[str, str | None, str]],
    paths: dict[tuple[str, str | None, str], str],
    live: Schema,
) -> bool:
    position = {ident: i for i, ident in enumerate(order)}
    loaded = sorted(paths, key=lambda i: (paths[i].encode(), position[i]))
    rank = {ident: i for i, ident in enumerate(loaded)}
    pairs = [(d.dependent, d.referenced) for d in live.dependencies]
    for obj in live.objects():
        pairs += [(obj.key, ref) for ref in obj.implied_deps()]
    for dependent, referenced in pairs:
        a, b = _key_id(dependent), _key_id(referenced)
        if a in rank and b in rank and a != b and rank[b] > rank[a]:
            return False
    # Same-path collisions (two objects spelled alike) would merge files: refuse the layout.
    return len(set(paths.values())) == len(paths)


def _unordered_bodies(live: Schema) -> set[tuple[str, str | None, str]]:
    """Routines whose body PostgreSQL checks at creation but records no dependencies for:
    `LANGUAGE sql` with a string body. Nothing orders them after the tables they read."""
    return {_key_id(r.key) for r in live.routines if r.language == "sql" and not r.sql_body}


def _with_unchecked_body(statements: list[str]) -> list[str]:
    # As pg_dump does: the body is checked when the function runs, not when schema/ loads.
    return [
        "SET check_function_bodies = off;",
        *statements,
        "SET check_function_bodies = on;",
    ]


def tree(statements: Sequence[Statement], live: Schema) -> dict[str, str]:
    """Relative path -> file text."""
    files = _grouped(statements)
    for ident in _unordered_bodies(live) & files.keys():
        files[ident] = _with_unchecked_body(files[ident])
    order = list(files)
    paths = _layout(files)
    if not _respects_dependencies(order, paths, live):
        paths = {
            ident: f"{n:04d}_{_safe(ident[1] or DATABASE_FOLDER)}.{ident[0]}.{_safe(ident[2])}.sql"
            for n, ident in enumerate(order, 1)
        }
    return {paths[ident]: "\n".join(files[ident]) + "\n" for ident in order}


def write_tree(out: Path, files: dict[str, str], *, force: bool) -> None:
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty (use --force to write into it anyway)")
    if force and out.exists():
        # Only .sql files we would write are replaced; stale ones would load too, so remove them.
        for stale in out.rglob("*.sql"):
            stale.unlink()
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

"""Writing SQL text safely: identifiers and literals quoted the way PostgreSQL reads them.

Identifier quoting comes from pglast (PostgreSQL's own keyword lists), so `user` is quoted and
`orders` is not; literals use standard E''-free quoting with doubled quotes, which is what
PostgreSQL prints with standard_conforming_strings on (the default since 9.1).
"""

from __future__ import annotations

from pglast.stream import maybe_double_quote_name


def ident(name: str) -> str:
    """An identifier, double-quoted only when PostgreSQL requires it."""
    return str(maybe_double_quote_name(name))


def qualname(schema: str | None, name: str) -> str:
    """`schema.name`, each part quoted as needed; an unqualified name when schema is None."""
    return ident(name) if schema is None else f"{ident(schema)}.{ident(name)}"


def literal(value: str | None) -> str:
    """A string literal (or NULL). Backslashes are literal under standard_conforming_strings."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def ident_list(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(ident(n) for n in names)


# Statements per DO block: as many as a load batch sends (engine.load), so one portal, and one
# walk of the transaction's locks when it is dropped, per batch. A block's statements are the
# elements of one text[] that a FOREACH loop EXECUTEs: written as one `EXECUTE 'literal'` each,
# every statement was a plan plpgsql keeps, and every relation a DDL statement touched made
# PostgreSQL's plan cache walk all of the block's plans (LocalExecuteInvalidationMessage),
# so a block cost grew with the square of its length (5,000 tables: 17 s in blocks of 200,
# 30 s of 2,000). Now 10,000 tables load in 53 s in blocks of 2,000 (58-62 s in blocks of 200).
DO_BLOCK_STATEMENTS = 2000


def do_blocks(statements: list[str] | tuple[str, ...]) -> list[str]:
    """`DO` statements that run `statements` in order, DO_BLOCK_STATEMENTS in each (a plpgsql
    loop EXECUTEs each of an array of literals: only under standard_conforming_strings on).

    Why: in a simple-query message of many statements each one is a portal of its own, and
    dropping a portal whose statement took more than a handful of locks makes PostgreSQL walk
    every lock the transaction holds (LockReassignCurrentOwner). A load holds one lock or more
    per object it created, so that walk grows with the load: 60% of the loading backend's time
    at 10,000 tables as a non-superuser (perf). A DO block is one portal for all its statements.
    """
    return [
        _do_block(statements[start : start + DO_BLOCK_STATEMENTS])
        for start in range(0, len(statements), DO_BLOCK_STATEMENTS)
    ]


def _do_block(statements: list[str] | tuple[str, ...]) -> str:
    if len(statements) == 1:
        return statements[0]
    texts = ",\n".join(literal(sql) for sql in statements)
    return do_statement(
        "DECLARE s text;\nBEGIN\n"
        f"FOREACH s IN ARRAY ARRAY[\n{texts}\n]::text[] LOOP\nEXECUTE s;\nEND LOOP;\nEND"
    )


def do_statement(body: str) -> str:
    """`DO` with a plpgsql `body`, dollar-quoted with a tag the body does not contain."""
    tag = "$pgflux$"
    number = 0
    while tag in body:
        number += 1
        tag = f"$pgflux{number}$"
    return f"DO {tag}{body}{tag}"

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

"""Split one SQL source text into statements with exact source positions, using pglast.

pglast hands back statement boundaries (``stmt_location``/``stmt_len``) and syntax error
locations as offsets in *characters* of the Python string it was given (it converts
PostgreSQL's UTF-8 byte offsets itself), so every offset here is a character offset and
line/column numbers are 1-based and counted in characters.
"""

from __future__ import annotations

from pglast import ast, parser
from pydantic import BaseModel, ConfigDict


class TextPosition(BaseModel):
    """A 1-based line and column (in characters) inside one source text."""

    model_config = ConfigDict(frozen=True)

    line: int
    column: int


class ParsedStatement(BaseModel):
    """One statement as pglast parsed it: its parse tree and where its text lies."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    node: ast.Node
    start: int  # character offset of the first token
    text: str  # exactly source[start:start + len(text)], sent verbatim to the server


class SqlSyntaxError(Exception):
    """pglast refused the text; `offset` is a character offset, or None when unknown."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def split_statements(source: str) -> list[ParsedStatement]:
    """Parse `source` and return its statements in order; comments-only text gives []."""
    try:
        raw = parser.parse_sql(source)
    except parser.ParseError as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        raise SqlSyntaxError(message, offset) from exc
    statements: list[ParsedStatement] = []
    for stmt in raw:
        if stmt.stmt is None:
            continue
        start = stmt.stmt_location or 0
        # stmt_len == 0 means "up to the end of the text" (a last statement without ';').
        end = start + stmt.stmt_len if stmt.stmt_len else len(source)
        statements.append(ParsedStatement(node=stmt.stmt, start=start, text=source[start:end]))
    return statements


def position_of(source: str, offset: int) -> TextPosition:
    """Map a character offset to a 1-based line and column."""
    offset = max(0, min(offset, len(source)))
    line_start = source.rfind("\n", 0, offset) + 1
    return TextPosition(line=source.count("\n", 0, offset) + 1, column=offset - line_start + 1)


def line_text(source: str, line: int) -> str:
    """The text of 1-based `line`, without its line ending."""
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    return lines[line - 1].rstrip("\r")


def quote_line(source: str, position: TextPosition) -> str:
    """Quote the line at `position` with a caret under its column, compiler style."""
    text = line_text(source, position.line)
    number = str(position.line)
    gutter = " " * len(number)
    # Keep tabs in the padding so the caret lines up however the terminal expands them.
    pad = "".join(ch if ch == "\t" else " " for ch in text[: position.column - 1])
    return f" {number} | {text}\n {gutter} | {pad}^"

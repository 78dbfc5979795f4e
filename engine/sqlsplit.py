"""Split one SQL source text into statements with exact source positions, using pglast.

PostgreSQL's parser reports statement boundaries in UTF-8 *bytes*; pglast reports syntax
error locations and node locations in *characters* of the Python string. Every offset this
module hands out is a character offset, and line/column numbers are 1-based characters.
"""

from __future__ import annotations

import json
from bisect import bisect_right

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
    """Parse `source` and return its statements in order; comments-only text gives [].

    Boundaries come from one pass of the C parser's JSON output (cheap); each statement is
    then parsed into pglast nodes on its own. Building nodes for a whole large file at once
    costs time that grows faster than the file once it holds non-ASCII text.
    """
    try:
        tree = json.loads(parser.parse_sql_json(source))
    except parser.ParseError as exc:
        raise _syntax_error(exc) from exc
    chars = _ByteToChar(source)
    statements: list[ParsedStatement] = []
    for raw in tree.get("stmts", ()):
        byte_start = raw.get("stmt_location", 0)
        byte_len = raw.get("stmt_len")  # absent: up to the end of the text
        start = chars.offset(byte_start)
        end = chars.offset(byte_start + byte_len) if byte_len else len(source)
        text = source[start:end]
        try:
            nodes = parser.parse_sql(text)
        except parser.ParseError as exc:  # cannot happen for text the parser just accepted
            raise _syntax_error(exc, start) from exc
        if len(nodes) != 1 or nodes[0].stmt is None:
            raise SqlSyntaxError("could not isolate this statement", start)
        statements.append(ParsedStatement(node=nodes[0].stmt, start=start, text=text))
    return statements


def _syntax_error(exc: parser.ParseError, base: int = 0) -> SqlSyntaxError:
    message = str(exc.args[0]) if exc.args else str(exc)
    offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    return SqlSyntaxError(message, None if offset is None else base + offset)


class _ByteToChar:
    """Maps increasing UTF-8 byte offsets of one text to character offsets in linear time."""

    def __init__(self, source: str) -> None:
        self._data = source.encode("utf-8")
        self._ascii = len(self._data) == len(source)
        self._byte = 0
        self._char = 0

    def offset(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        if byte_offset < self._byte:  # out of order: count from the start again
            self._byte = self._char = 0
        self._char += len(self._data[self._byte : byte_offset].decode("utf-8"))
        self._byte = byte_offset
        return self._char


class LineIndex:
    """Offsets of every line start of one text, so each lookup is a binary search."""

    def __init__(self, source: str) -> None:
        self._length = len(source)
        self._starts = [0]
        start = source.find("\n")
        while start >= 0:
            self._starts.append(start + 1)
            start = source.find("\n", start + 1)

    def position(self, offset: int) -> TextPosition:
        """Map a character offset to a 1-based line and column."""
        offset = max(0, min(offset, self._length))
        line = bisect_right(self._starts, offset)
        return TextPosition(line=line, column=offset - self._starts[line - 1] + 1)


def position_of(source: str, offset: int) -> TextPosition:
    """Map a character offset to a 1-based line and column (one-off; see LineIndex)."""
    return LineIndex(source).position(offset)


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

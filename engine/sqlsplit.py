"""Split one SQL source text into statements with exact source positions, using pglast.

PostgreSQL's parser reports statement boundaries and the locations in its JSON parse trees in
UTF-8 *bytes*; pglast reports syntax error locations and the locations in its nodes in
*characters* of the Python string. Every offset this module hands out is a character offset,
and line/column numbers are 1-based characters.
"""

from __future__ import annotations

import gc
import json
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pglast import ast, parser
from pydantic import BaseModel, ConfigDict


class TextPosition(BaseModel):
    """A 1-based line and column (in characters) inside one source text."""

    model_config = ConfigDict(frozen=True)

    line: int
    column: int


class ParsedStatement(BaseModel):
    """One statement as PostgreSQL's parser parsed it: its node type, its parse tree (as the
    parser's JSON gives it) and where its text lies.

    `tree` holds the node's fields exactly as ``pglast.parser.parse_sql_json`` writes them: a
    node in a list is ``{"NodeType": {fields}}``, a node in a typed field is its fields alone,
    enums are their C names (``"OBJECT_TABLE"``), fields at their default value are left out.
    Locations inside it are UTF-8 byte offsets into the whole source text; build pglast nodes
    with `statement_node` where character positions or pglast's printers are needed. `json` is
    the JSON text the statement's tree was decoded from: a substring test on it tells cheaply
    whether a tree can hold something (an enum value, a node type) before walking it.
    """

    model_config = ConfigDict(frozen=True)

    kind: str  # the node type, e.g. "CreateStmt"
    tree: dict[str, Any]
    json_text: str
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

    One pass of the C parser over the whole text, its JSON output decoded by the C json
    module: no pglast node is built (building nodes costs more than parsing itself).
    """
    return list(iter_statements(source))


def iter_statements(source: str) -> Iterator[ParsedStatement]:
    """`split_statements`, one statement at a time: the text is parsed (and a syntax error
    raised) at once, each statement's tree decoded only when it is asked for, so a caller that
    keeps no trees holds one at a time (a 10,000-table file's trees are ~10x its text)."""
    try:
        text = parser.parse_sql_json(source)
    except parser.ParseError as exc:
        raise _syntax_error(exc) from exc
    return _statements_of(source, text)


def _statements_of(source: str, text: str) -> Iterator[ParsedStatement]:
    chars = _ByteToChar(source)
    construct = ParsedStatement.model_construct  # the parser's output needs no validation
    for raw, raw_json in _raw_statements(text):
        byte_start = raw.get("stmt_location", 0)
        byte_len = raw.get("stmt_len")  # absent: up to the end of the text
        start = chars.offset(byte_start)
        end = chars.offset(byte_start + byte_len) if byte_len else len(source)
        node = raw.get("stmt")
        if not isinstance(node, dict) or len(node) != 1:
            raise SqlSyntaxError("could not isolate this statement", start)
        ((kind, fields),) = node.items()
        yield construct(
            kind=kind, tree=fields, json_text=raw_json, start=start, text=source[start:end]
        )


_DECODER = json.JSONDecoder()
_STATEMENTS_KEY = '"stmts":['
_BLANK = " \t\n\r"


def _raw_statements(text: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each RawStmt of the parser's JSON output `text`, decoded, with its own JSON text.

    The parser writes ``{"version":N,"stmts":[RawStmt,RawStmt,...]}``; each element is
    decoded where it lies, when it is asked for, so its text is a slice. Output that starts
    otherwise is decoded whole and each element written back as JSON (the same strings and
    enum names).
    """
    head, found, _ = text.partition(_STATEMENTS_KEY)
    if not (found and _is_version_head(head)):
        yield from _decoded_whole(text)
        return
    index = len(head) + len(found)
    try:
        while True:
            # JSON allows blanks around elements and commas; the parser writes none
            while text[index] in _BLANK:
                index += 1
            if text[index] == "]":
                break
            with gc_paused():
                value, end = _DECODER.raw_decode(text, index)
            if not isinstance(value, dict):
                raise ValueError("a statement that is not an object")
            yield value, text[index:end]
            index = end
            while text[index] in _BLANK:
                index += 1
            if text[index] == ",":
                index += 1
            elif text[index] != "]":
                raise ValueError("no comma after a statement")
        if text[index + 1 :].strip() != "}":
            raise ValueError("more than the statements")
    except (IndexError, ValueError) as exc:
        raise SqlSyntaxError(f"could not read the parser's output: {exc}", None) from exc


def _is_version_head(head: str) -> bool:
    """`head` is ``{"version":N,``: the document's first key, a number, then "stmts"."""
    if not head.endswith(","):
        return False
    try:
        value = json.loads(head[:-1] + "}")
    except ValueError:
        return False
    return isinstance(value, dict) and list(value) == ["version"]


def _decoded_whole(text: str) -> Iterator[tuple[dict[str, Any], str]]:
    with gc_paused():
        tree = json.loads(text)
    for value in tree.get("stmts", ()):
        yield value, json.dumps(value)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. Decoding a file's tree allocates millions of acyclic
    dicts and lists (freed by reference counting); the collections they trigger would walk the
    growing tree again and again (2.5x the decoding time of a 10 MB JSON tree). Nested uses
    are fine: only the outermost one enables the collector again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def statement_node(text: str) -> ast.Node:
    """The pglast node of `text`, one statement (as `ParsedStatement.text`); locations in it
    are character offsets into `text`."""
    try:
        nodes = parser.parse_sql(text)
    except parser.ParseError as exc:
        raise _syntax_error(exc) from exc
    if len(nodes) != 1 or nodes[0].stmt is None:
        raise SqlSyntaxError("could not isolate this statement", 0)
    return nodes[0].stmt


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

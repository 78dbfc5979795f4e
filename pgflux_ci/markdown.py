"""Escaping for untrusted text (identifiers, comments, error text) placed into GitHub markdown.

GitHub renders comments with cmark-gfm and then post-processes the HTML (mentions, issue
references). Three contexts need different treatment:

- markdown text and table cells: every ASCII punctuation character that can start markup is
  backslash-escaped (CommonMark allows escaping any ASCII punctuation), so `<img ...>` stays text
  and `<!--` cannot open a comment; `@` gets a zero-width joiner so that no one is pinged;
  newlines become spaces (a newline ends a table row);
- raw HTML (inside `<summary>`, which is an HTML block where markdown escapes do not apply):
  HTML entities;
- code: a fenced block whose fence is longer than any backtick run in the text, so the text
  cannot close it; the content stays byte-exact for copy and paste.
"""

from __future__ import annotations

import html
import re

_ZWJ = "\u200d"
# CommonMark's escapable ASCII punctuation that can start or end markup. `@` is handled apart.
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~&:\"'=$^%")
_BACKTICKS = re.compile(r"`+")
_MERMAID_BAD = re.compile(r"[^A-Za-z0-9_]")


def _defuse_mentions(text: str) -> str:
    # "@\u200doctocat" renders as "@octocat" but GitHub's mention filter does not match it.
    return text.replace("@", "@" + _ZWJ)


def escape_text(value: object) -> str:
    """Untrusted text as literal inline markdown on one line."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    out = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return _defuse_mentions(out)


def escape_cell(value: object) -> str:
    """Untrusted text for a GFM table cell: literal, one line, pipes escaped."""
    # escape_text already escapes `|` and folds newlines; an empty cell stays valid.
    return escape_text(value) or " "


def escape_html(value: object) -> str:
    """Untrusted text inside a raw HTML block such as `<summary>`."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    return _defuse_mentions(html.escape(text, quote=True))


def fence_for(text: str, minimum: int = 3) -> str:
    """A backtick fence longer than any backtick run in `text`."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    return "`" * max(minimum, longest + 1)


def code_block(text: str, language: str = "") -> str:
    """A fenced code block that `text` cannot break out of."""
    fence = fence_for(text)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def mermaid_id(value: object) -> str:
    """A mermaid identifier: letters, digits and underscores only, never starting with a digit."""
    ident = _MERMAID_BAD.sub("_", str(value)) or "_"
    return "_" + ident if ident[0].isdigit() else ident

"""Full-text search on PostgreSQL: the ``--text`` query language of SQLite's FTS5, run as a
``tsquery`` against an expression GIN index.

Each entity table with string fields can have ``<table>__text_<8 hex>``, a GIN index on the
``tsvector`` of its string columns, each column's words followed by a gap lexeme so that a
phrase stays within one field as in FTS5 (the suffix is a digest of the column list: when a
connector adds a string field, the old index is dropped and a new one built). PostgreSQL keeps
an expression index in step with every write by itself, so there is no catch-up as with
SQLite's lagging FTS5 index — but that costs: an upsert of Acme tasks takes about three times
as long with the index (every row's words are indexed as it is written). So a table gets its
index at its first text query (``PgEngine._ensure_text_index``, about a second for 50,000
tasks), and installations nobody searches by text never pay for one. The ``simple``
configuration lower-cases and splits words without stemming or stop words, as FTS5's
``unicode61`` tokenizer does (it does not fold diacritics: ``café`` does not match ``cafe``).

:func:`text_query_sql` reads the query with FTS5's grammar — words (all must match),
``"a phrase"``, ``OR``, ``AND``, ``NOT`` (binary: ``a NOT b``), ``prefix*``, parentheses;
``NOT`` binds tighter than ``AND``, which binds tighter than ``OR`` — and writes the matching
``tsquery`` expression with the words bound as parameters (``plainto_tsquery`` for a word,
``phraseto_tsquery`` for a phrase, ``to_tsquery('w:*')`` for a prefix). A query FTS5 would refuse
is refused the same way, ``storage.invalid_text_query`` with FTS5's reason (``unterminated
string``, ``syntax error near "…"``). Matches come best first by ``ts_rank`` (FTS5 uses bm25, so
the order of matches of equal quality may differ between the stores; every match is found).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import attrs

from ._errors import TEXT_QUERY_HINT, ErrInvalidTextQuery, ErrNoTextFields
from ._naming import quote
from ._table import TableSpec

#: The text search configuration: lower case, no stemming, no stop words.
CONFIG = "'simple'"
#: The lexeme between two fields' words (``tsvector`` concatenation shifts the right side's
#: positions past the left side's last one, so the gap takes a position of its own).
_GAP = "''' '':1'::tsvector"

# A bareword of FTS5: letters, digits, "_" and any non-ASCII character.
_BAREWORD = re.compile(r"[0-9A-Za-z_\x80-\U0010ffff]+")
_KEYWORDS = ("AND", "OR", "NOT")
#: Parentheses nested deeper than this are refused (the parser recurses once per level).
MAX_DEPTH = 100


@attrs.frozen
class _Token:
    kind: str  # "word", "phrase", "prefix", "AND", "OR", "NOT", "(", ")"
    text: str = ""


def text_columns(table: TableSpec) -> tuple[str, ...]:
    """The quoted string columns of ``table``, in declaration order (what the index covers)."""
    from maxtrio.core import FieldKind

    return tuple(c.quoted for c in table.columns if c.kind is FieldKind.STRING)


def document_sql(table: TableSpec) -> str:
    """The indexed ``tsvector`` expression of ``table`` (``storage.no_text_fields`` without
    string fields)."""
    columns = text_columns(table)
    if not columns:
        raise ErrNoTextFields(entityType=table.entity.name)
    # Each field's words, then a gap: a lexeme no query can name (a space) one position after
    # the field's last word, so a phrase never runs from one field into the next (as in FTS5).
    words = f" || {_GAP} || ".join(f"to_tsvector({CONFIG}, coalesce({c}, ''))" for c in columns)
    return f"({words})"


def index_name(table: TableSpec) -> str:
    """The name of ``table``'s text index: its columns' digest in the name."""
    digest = hashlib.sha256("\0".join(text_columns(table)).encode()).hexdigest()[:8]
    return f"{table.name}__text_{digest}"


def index_ddl(table: TableSpec) -> list[str]:
    """Statements bringing ``table``'s text index up to date (the caller runs the drops of
    other ``__text_`` indexes of the table first)."""
    if not text_columns(table):
        return []
    name = quote(index_name(table))
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table.quoted} USING gin ({document_sql(table)})"
    ]


def text_query_sql(text: str, params: list[Any]) -> str:
    """The ``tsquery`` expression of the FTS5 query ``text``, its words appended to
    ``params``; ``storage.invalid_text_query`` for a query FTS5 would refuse."""
    tokens = _tokens(text)
    parser = _Parser(text, tokens, params)
    sql = parser.expression()
    if parser.at < len(tokens):
        raise parser.error_near(tokens[parser.at])
    return sql


def _invalid(text: str, reason: str) -> Exception:
    return ErrInvalidTextQuery(text=text, reason=reason, hint=TEXT_QUERY_HINT)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Token(ch))
            i += 1
        elif ch == '"':
            j, parts = i + 1, []
            while True:
                end = text.find('"', j)
                if end < 0:
                    raise _invalid(text, "unterminated string")
                parts.append(text[j:end])
                if text.startswith('"', end + 1):  # "" is a quote inside the string
                    parts.append('"')
                    j = end + 2
                    continue
                i = end + 1
                break
            phrase = "".join(parts)
            if text.startswith("*", i):
                out.append(_Token("prefix", phrase))
                i += 1
            else:
                out.append(_Token("phrase", phrase))
        else:
            word = _BAREWORD.match(text, i)
            if word is None:
                raise _invalid(text, f'fts5: syntax error near "{ch}"')
            i = word.end()
            value = word.group()
            if text.startswith(":", i):
                raise _invalid(text, f"column filters ({value}:…) are not supported on PostgreSQL")
            if value in _KEYWORDS:
                out.append(_Token(value))
            elif text.startswith("*", i):
                out.append(_Token("prefix", value))
                i += 1
            else:
                out.append(_Token("word", value))
    return out


class _Parser:
    """Recursive descent over the tokens: or := and (OR and)*; and := not (AND? not)*;
    not := term (NOT term)*; term := word | phrase | prefix | ( or )."""

    def __init__(self, text: str, tokens: Sequence[_Token], params: list[Any]) -> None:
        self.text, self.tokens, self.params = text, tokens, params
        self.at = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def error_near(self, token: _Token | None) -> Exception:
        near = "" if token is None else (token.text or token.kind)
        return _invalid(self.text, f'fts5: syntax error near "{near}"')

    def expression(self) -> str:
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.at += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"

    def conjunction(self) -> str:
        parts = [self.negation()]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.at += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"

    def negation(self) -> str:
        sql = self.term()
        while (token := self.peek()) is not None and token.kind == "NOT":
            self.at += 1
            sql = f"({sql} && !!{self.term()})"
        return sql

    def term(self) -> str:
        token = self.peek()
        if token is None or token.kind in ("AND", "OR", "NOT", ")"):
            raise self.error_near(token)
        self.at += 1
        if token.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _invalid(self.text, f"groups nested more than {MAX_DEPTH} deep")
            inner = self.expression()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.error_near(closing)
            self.at += 1
            return inner
        self.params.append(token.text)
        if token.kind == "word":
            return f"plainto_tsquery({CONFIG}, %s)"
        if token.kind == "phrase":
            return f"phraseto_tsquery({CONFIG}, %s)"
        # A prefix: its words as a phrase, the last one a prefix (FTS5's "a b"* too). One
        # without words ("!!"*) matches nothing, as in FTS5: an empty query.
        prefix = _prefix_query(token.text)
        if prefix is None:
            self.params[-1] = ""
            return f"plainto_tsquery({CONFIG}, %s)"
        self.params[-1] = prefix
        return f"to_tsquery({CONFIG}, %s)"


def _prefix_query(text: str) -> str | None:
    """``to_tsquery`` text of a prefix term: its words in a row, the last as a prefix
    (``'foo' <-> 'ba':*``), each quoted as a tsquery lexeme; None when it has no words."""
    words = [w for w in re.split(r"[^0-9A-Za-z\x80-\U0010ffff]+", text) if w]
    if not words:
        return None
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in words]
    quoted[-1] += ":*"
    return " <-> ".join(quoted)

"""The filter-language parser: text → :data:`FilterAst`, by hand-written recursive descent.

The grammar is the reference's plus ``NOT``, ``IN``, ``IS [NOT]
NULL`` and both quote escapes in both kinds of quotes — a strict superset: every filter the
reference accepts parses to the same tree here::

    filter      := expression                      -- the whole input, after trimming
    expression  := factor ( ws+ logical ws+ factor )*
    factor      := not ( ws+ | &"(" ) factor       -- NOT binds tighter than AND / OR
                 | "(" ws* expression ws* ")"
                 | condition
    condition   := field ws* operator ws* value
                 | field ws+ in ws* "(" ws* value ( ws* "," ws* value )* ws* ")"
                 | field ws+ is ws+ ( not ws+ )? null
    operator    := "!=" | ">=" | "<=" | "~=" | "=" | ">" | "<"
    logical     := "AND" | "and" | "OR" | "or"
    not, in, is, null := "NOT" | "not", "IN" | "in", "IS" | "is", "NULL" | "null"
    field       := [A-Za-z_] [A-Za-z0-9_.-]*
    value       := '"' … '"' | "'" … "'" | [A-Za-z0-9_.:@-]+

``AND`` and ``OR`` have equal precedence and group to the left (``a OR b AND c`` means
``(a OR b) AND c``), for compatibility with the reference; see
:func:`maxtrio.query.mixed_and_or_warning`. ``NOT`` followed (after any whitespace) by an
operator is a field named ``NOT`` (``NOT = 1`` compares it, as in the reference). Whitespace
is JavaScript's ``\\s`` set. Inside either kind of quotes the escapes are ``\\"``, ``\\'``,
``\\n``, ``\\t`` and ``\\\\``.

Errors are ``query-parser.parse_failed`` with ``{expression, reason, index}``: ``expression``
is the trimmed input and ``index`` a character index into it, pointing at the spot where the
parser gave up (the unexpected character, or the end where something was missing). Reasons
are our own wording.

Limits keep every consumer of the tree (lowering, SQL compilation, the wire converter) far
from Python's recursion limit and SQLite's limit on bound values: at most
:data:`MAX_CONDITIONS` conditions, :data:`MAX_NESTING` levels of parentheses and ``NOT``, and
:data:`MAX_LIST_VALUES` values in all ``IN`` lists together, per filter.
"""

from __future__ import annotations

import re

import attrs

from maxtrio.core import MaxError, printable, quote_input

from ._ast import (
    FILTER_OPERATORS,
    Comparison,
    Condition,
    FilterAst,
    FilterOperator,
    InList,
    Logical,
    LogicalOperator,
    Not,
    NullTest,
    Value,
)
from ._errors import ErrFilterParseFailed
from ._tokens import BARE_VALUE, FIELD, KEYWORD
from ._whitespace import WS_CLASS, is_js_whitespace, js_trim

#: Most conditions one filter may hold.
MAX_CONDITIONS = 100
#: Deepest nesting of parentheses and ``NOT`` one filter may use.
MAX_NESTING = 50
#: Most values all the ``IN`` lists of one filter may hold together.
MAX_LIST_VALUES = 1000

_WS_RUN = re.compile(WS_CLASS + "*")
_NON_WS_RUN = re.compile("[^" + WS_CLASS[1:] + "*")
_WORD = re.compile(r"[A-Za-z]+")
_OPERATOR_CHARS = frozenset("=!<>~")
_OPERATOR_RUN = re.compile("[=!<>~]*")
_QUOTED_RUN = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
_BARE_CHARS_HINT = "quote values with characters other than letters, digits and _ - . : @"
_OPERATORS_TEXT = "=, !=, >, <, >=, <=, ~=, IN (…), IS NULL, IS NOT NULL"
_SNIPPET_LENGTH = 20
#: The most characters of a field name a reason quotes.
_NAME_LENGTH = 40


def parse_filter(text: str) -> FilterAst:
    """Parse a filter expression such as ``name = "Acme" AND priority >= 5``.

    Raises ``query-parser.parse_failed`` (BadInput) for empty or malformed input.
    """
    trimmed = js_trim(text)
    if not trimmed:
        raise ErrFilterParseFailed(expression=trimmed, reason="Empty filter expression", index=0)
    return _Parser(trimmed).parse()


class _Parser:
    """One parse of one trimmed text; ``pos`` only moves forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self.pos = 0
        self.conditions = 0
        self.list_values = 0
        self.depth = 0
        self.bare_value_end = -1

    def parse(self) -> FilterAst:
        node = self.expression()
        if self.pos != self.length:
            raise self.unexpected(open_at=None)
        return node

    # -- grammar ------------------------------------------------------------------------------

    def expression(self) -> FilterAst:
        node = self.factor(after=None)
        text = self.text
        while True:
            keyword_at = self.ws_end(self.pos)
            if keyword_at == self.pos:
                return node
            match = KEYWORD.match(text, keyword_at)
            if match is None:
                return node
            after = match.end()
            if after >= self.length or not is_js_whitespace(text[after]):
                return node  # not a keyword here; the caller explains what is wrong
            operator: LogicalOperator = "AND" if match.group() in ("AND", "and") else "OR"
            self.pos = self.ws_end(after)
            node = Logical(operator, node, self.factor(after=operator))

    def factor(self, after: str | None) -> FilterAst:
        if self.pos < self.length and self.text[self.pos] == "(":
            return self.group()
        if self.at_not():
            return self.negation()
        return self.condition(after)

    def at_not(self) -> bool:
        """True at a ``NOT`` keyword: ``NOT``/``not`` followed by whitespace or ``(`` or the
        end — unless an operator comes next, which makes it a field named ``NOT``."""
        end = self.keyword_end(self.pos, ("NOT", "not"))
        if end is None:
            return False
        if end < self.length and self.text[end] != "(" and not is_js_whitespace(self.text[end]):
            return False
        follower = self.ws_end(end)
        return follower >= self.length or self.text[follower] not in _OPERATOR_CHARS

    def negation(self) -> Not:
        not_at = self.pos
        self.enter(not_at)
        self.pos = self.ws_end(not_at + 3)
        node = Not(self.factor(after="NOT"))
        self.depth -= 1
        return node

    def group(self) -> FilterAst:
        open_at = self.pos
        self.enter(open_at)
        self.pos = self.ws_end(open_at + 1)
        if self.pos < self.length and self.text[self.pos] == ")":
            raise self.fail("Empty parentheses", self.pos)
        node = self.expression()
        close_at = self.ws_end(self.pos)
        if close_at < self.length and self.text[close_at] == ")":
            self.pos = close_at + 1
            self.depth -= 1
            return attrs.evolve(node, grouped=True)
        raise self.unexpected(open_at=open_at)

    def enter(self, at: int) -> None:
        """One level deeper (a "(" or a NOT at ``at``), within :data:`MAX_NESTING`."""
        if self.depth >= MAX_NESTING:
            raise self.fail(f"Parentheses and NOT nested deeper than {MAX_NESTING} levels", at)
        self.depth += 1

    def condition(self, after: str | None) -> Condition:
        start = self.pos
        field_match = FIELD.match(self.text, start)
        if field_match is None:
            wanted = f"a condition after {after}" if after else 'a field name or "("'
            raise self.fail(f"Expected {wanted} but found {self.describe(start)}", start)
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.fail(f"Too many conditions (at most {MAX_CONDITIONS})", start)
        field = field_match.group()
        self.pos = self.ws_end(field_match.end())
        op = self.operator()
        if op is not None:
            op_at = self.pos
            self.pos = self.ws_end(op_at + len(op))
            return Comparison(field, op, self.value(op, op_at), start)
        if self.pos > field_match.end():
            keyword = self.keyword_end(self.pos, ("IN", "in"))
            if keyword is not None and (
                keyword >= self.length
                or self.text[keyword] == "("
                or is_js_whitespace(self.text[keyword])
            ):
                return InList(field, self.value_list(keyword), start)
            keyword = self.keyword_end(self.pos, ("IS", "is"))
            if keyword is not None and self.is_word_end(keyword):
                return NullTest(field, self.null_test(keyword), start)
        raise self.fail(self.missing_operator(field), self.pos)

    def missing_operator(self, name: str) -> str:
        field = quote_input(name, _NAME_LENGTH)
        found = self.describe(self.pos)
        word = _WORD.match(self.text, self.pos)
        spelled = word.group() if word is not None else ""
        if spelled.upper() in ("IN", "IS") and self.is_word_end(self.pos + len(spelled)):
            return f'"{spelled}" is not a keyword (write {spelled.upper()} or {spelled.lower()})'
        if name.upper() == "NOT" and name not in ("NOT", "not"):
            return f'"{field}" is not a keyword (write NOT or not)'
        if spelled in ("NOT", "not"):
            return (
                f'Expected an operator after field "{field}" but found "{spelled}" '
                f"(write NOT {field} IN (…) or {field} IS NOT NULL)"
            )
        return f'Expected an operator ({_OPERATORS_TEXT}) after field "{field}" but found {found}'

    def value_list(self, after_in: int) -> tuple[Value, ...]:
        """``( v1, v2, … )`` after ``IN``; ``pos`` ends after the ``)``."""
        open_at = self.ws_end(after_in)
        if open_at >= self.length or self.text[open_at] != "(":
            raise self.fail(
                f'Expected "(" after IN but found {self.describe(open_at)} (write IN (a, b))',
                open_at,
            )
        values: list[Value] = []
        self.pos = self.ws_end(open_at + 1)
        if self.pos < self.length and self.text[self.pos] == ")":
            raise self.fail("Empty IN list (give at least one value)", self.pos)
        while True:
            self.list_values += 1
            if self.list_values > MAX_LIST_VALUES:
                raise self.fail(f"Too many IN values (at most {MAX_LIST_VALUES})", self.pos)
            values.append(self.list_value())
            at = self.ws_end(self.pos)
            if at < self.length and self.text[at] == ",":
                self.pos = self.ws_end(at + 1)
                continue
            if at < self.length and self.text[at] == ")":
                self.pos = at + 1
                return tuple(values)
            if at >= self.length:
                raise self.fail(f'Missing ")" to close the IN list at position {open_at}', at)
            raise self.fail(f'Expected "," or ")" in the IN list but found {self.describe(at)}', at)

    def list_value(self) -> Value:
        start = self.pos
        if start < self.length and self.text[start] in _QUOTED_RUN:
            return self.quoted(self.text[start])
        bare = BARE_VALUE.match(self.text, start)
        if bare is None:
            raise self.fail(
                f"Expected a value in the IN list but found {self.describe(start)} "
                f"({_BARE_CHARS_HINT})",
                start,
            )
        self.pos = bare.end()
        return Value(bare.group(), quoted=False)

    def null_test(self, after_is: int) -> bool:
        """``NULL`` or ``NOT NULL`` after ``IS``; True for ``NOT NULL``."""
        at = self.ws_end(after_is)
        negated = False
        not_end = self.keyword_end(at, ("NOT", "not"))
        if not_end is not None and self.is_word_end(not_end):
            negated = True
            at = self.ws_end(not_end)
        null_end = self.keyword_end(at, ("NULL", "null"))
        if null_end is None or not self.is_word_end(null_end):
            wanted = "NULL after IS NOT" if negated else "NULL or NOT NULL after IS"
            raise self.fail(f"Expected {wanted} but found {self.describe(at)}", at)
        self.pos = null_end
        return negated

    def keyword_end(self, pos: int, spellings: tuple[str, ...]) -> int | None:
        """The end of the keyword (one of ``spellings``) that starts at ``pos`` as a whole
        word, or None."""
        word = _WORD.match(self.text, pos)
        if word is None or word.group() not in spellings:
            return None
        end = word.end()
        if end < self.length and FIELD.match(self.text[end]) is not None:
            return None  # part of a longer name (NOTE, INDEX)
        if end < self.length and self.text[end] in "0123456789.-":
            return None
        return end

    def operator(self) -> FilterOperator | None:
        for op in FILTER_OPERATORS:
            if self.text.startswith(op, self.pos):
                return op
        return None

    def value(self, op: str, op_at: int) -> Value:
        start = self.pos
        if start >= self.length:
            raise self.fail(f'Missing value after "{op}"', start)
        char = self.text[start]
        if char in _QUOTED_RUN:
            return self.quoted(char)
        if char in _OPERATOR_CHARS:
            extra = _OPERATOR_RUN.match(self.text, start)
            assert extra is not None  # a `*` pattern always matches
            raise self.fail(
                f'"{op}{extra.group()}" is not an operator (use =, !=, >, <, >=, <=, ~=)', op_at
            )
        bare = BARE_VALUE.match(self.text, start)
        if bare is None:
            raise self.fail(
                f'Expected a value after "{op}" but found {self.describe(start)} '
                f"({_BARE_CHARS_HINT})",
                start,
            )
        self.pos = self.bare_value_end = bare.end()
        return Value(bare.group(), quoted=False)

    def quoted(self, quote: str) -> Value:
        text = self.text
        open_at = self.pos
        run = _QUOTED_RUN[quote]
        parts: list[str] = []
        pos = open_at + 1
        while True:
            chunk = run.match(text, pos)
            assert chunk is not None  # a `*` pattern always matches
            parts.append(chunk.group())
            pos = chunk.end()
            if pos >= self.length:
                raise self.fail(f"Unterminated quoted value (no closing {quote})", open_at)
            if text[pos] == quote:
                self.pos = pos + 1
                return Value("".join(parts), quoted=True)
            # text[pos] is a backslash
            escaped = text[pos + 1] if pos + 1 < self.length else ""
            if escaped in _ESCAPES:
                parts.append(_ESCAPES[escaped])
            elif not escaped:
                raise self.fail(f"Unterminated quoted value (no closing {quote})", open_at)
            else:
                raise self.fail(
                    f'Invalid escape "\\{printable(escaped)}" in a quoted value '
                    "(allowed: \\\" \\' \\n \\t \\\\)",
                    pos,
                )
            pos += 2

    # -- error reporting ----------------------------------------------------------------------

    def unexpected(self, open_at: int | None) -> MaxError:
        """Explain the input that stops an expression at ``pos`` (top level or in a group)."""
        text = self.text
        end_of_factor = self.pos
        at = self.ws_end(end_of_factor)
        if at >= self.length:  # only inside a group: the top level is trimmed
            return self.fail(f'Missing ")" to close the "(" at position {open_at}', at)
        if open_at is None and text[at] == ")":
            return self.fail('Unexpected ")" without a matching "("', at)
        keyword = KEYWORD.match(text, at)
        if keyword is not None:
            name = keyword.group().upper()
            after = keyword.end()
            follower = text[after] if after < self.length else ""
            if not follower or follower == ")":
                return self.fail(f"Expected a condition after {name}", after)
            if at == end_of_factor and (follower == "(" or is_js_whitespace(follower)):
                return self.fail(f"Expected whitespace before {name}", at)
            if follower == "(":
                return self.fail(f'Expected whitespace between {name} and "("', after)
        word = _WORD.match(text, at)
        if word is not None and word.group().lower() in ("and", "or"):
            spelled = word.group()
            if self.is_word_end(word.end()):
                upper, lower = spelled.upper(), spelled.lower()
                return self.fail(f'"{spelled}" is not a keyword (write {upper} or {lower})', at)
        expected = 'AND, OR or ")"' if open_at is not None else "AND, OR or the end of the filter"
        hint = ""
        if end_of_factor == self.bare_value_end:
            if at == end_of_factor:
                hint = f" ({_BARE_CHARS_HINT})"
            elif self.is_word_end(self.word_end(at)):
                hint = " (quote a value that contains spaces)"
        return self.fail(f"Unexpected {self.describe(at)}; expected {expected}{hint}", at)

    def word_end(self, pos: int) -> int:
        """The end of the unquoted value that could start at ``pos`` (``pos`` if none)."""
        bare = BARE_VALUE.match(self.text, pos)
        return pos if bare is None else bare.end()

    def is_word_end(self, pos: int) -> bool:
        if pos >= self.length:
            return True
        char = self.text[pos]
        return char in "()" or is_js_whitespace(char)

    def describe(self, pos: int) -> str:
        """The input at ``pos`` for a message: a quoted snippet, or "the end of the filter"."""
        if pos >= self.length:
            return "the end of the filter"
        run = _NON_WS_RUN.match(self.text, pos)
        snippet = run.group() if run is not None and run.group() else self.text[pos]
        if len(snippet) > _SNIPPET_LENGTH:
            snippet = snippet[:_SNIPPET_LENGTH] + "…"
        return f'"{printable(snippet)}"'

    def ws_end(self, pos: int) -> int:
        match = _WS_RUN.match(self.text, pos)
        assert match is not None  # a `*` pattern always matches
        return match.end()

    def fail(self, reason: str, index: int) -> MaxError:
        return ErrFilterParseFailed(expression=self.text, reason=reason, index=index)

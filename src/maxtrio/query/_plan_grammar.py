"""The sync-plan parser: plan text → :class:`PlanAst`, by hand-written recursive descent.

The grammar (docs/sync-plans.md), applied to the input after CRLF → LF and trimming::

    plan        := entry ( separator entry )*
    entry       := concurrent | step         -- "Concurrently" followed by "{" starts a block
    concurrent  := "Concurrently" iws "{" ws* step ( separator step )* ws* "}"
    step        := entityType "(" iws selector iws ")" chain
    chain       := ( ws* "." operation )+    -- operations may continue on the next lines
    operation   := ( "fields" | "collection" ) iws "{" iws args iws "}"
    args        := "*" | name ( iws "," iws name )*
    selector    := "*" | "#" id | filter     -- the first alternative that starts wins
    separator   := iws "\\n" ws*             -- entries (and block steps) go on separate lines
    entityType  := [A-Z] [A-Za-z0-9]*
    name        := [A-Za-z_] [A-Za-z0-9_]*
    id          := [A-Za-z0-9_.:@-]+
    filter      := balanced text up to the matching ")": quoted strings ("…" / '…', backslash
                   escapes skipped) and nested ( … ) groups; parsed by parse_filter
    iws         := [ \\t]*                    -- inline whitespace: argument lists stay on one line
    ws          := JavaScript whitespace (newlines included)

Errors are ``plan-parser.parse_failed`` with ``{expression, reason, index}``: ``expression`` is
the normalised text and ``index`` a character position in it — where the parser gave up.
A filter's syntax error becomes a ``plan-parser.parse_failed`` too: its reason prefixed with
``in the filter:`` and its position translated to the plan text; the filter error is the cause.
"""

from __future__ import annotations

import re

from maxtrio.core import MaxError, printable

from ._errors import ErrFilterParseFailed, ErrPlanParseFailed
from ._grammar import parse_filter
from ._plan_ast import (
    AllSelector,
    CollectionOperation,
    ConcurrentNode,
    FieldsOperation,
    FilterSelector,
    IdSelector,
    PlanAst,
    PlanEntryNode,
    PlanNames,
    PlanOperation,
    PlanSelector,
    PlanStepNode,
)
from ._whitespace import JS_WHITESPACE, WS_CLASS, js_trim

#: The keyword that opens a block of steps that run in parallel.
CONCURRENTLY = "Concurrently"

_ENTITY_TYPE = re.compile(r"[A-Z][A-Za-z0-9]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ID = re.compile(r"[A-Za-z0-9_.:@\-]+")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_INLINE_WS = re.compile(r"[ \t]*")
_WS_RUN = re.compile(WS_CLASS + "*")
_FILTER_RUN = re.compile(r"""[^()"']+""")
_QUOTED_RUN = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_OPERATIONS = ("fields", "collection")
_SNIPPET_LENGTH = 20


def parse_plan(text: str) -> PlanAst:
    """Parse sync-plan text such as ``AcmeProject(#p1).collection{tasks}``.

    Raises ``plan-parser.parse_failed`` (BadInput) for empty or malformed input.
    """
    normalised = js_trim(text.replace("\r\n", "\n"))
    if not normalised:
        raise ErrPlanParseFailed(expression=normalised, reason="Empty sync plan", index=0)
    return _PlanParser(normalised).parse()


class _PlanParser:
    """One parse of one normalised text; ``pos`` only moves forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self.pos = 0

    def parse(self) -> PlanAst:
        entries: list[PlanEntryNode] = [self.entry()]
        while self.pos < self.length:  # the text is trimmed: anything left is not whitespace
            self.separator("entry")
            entries.append(self.entry())
        return PlanAst(tuple(entries), self.text)

    # -- grammar ------------------------------------------------------------------------------

    def entry(self) -> PlanEntryNode:
        if self.block_starts():
            return self.concurrent()
        return self.step(in_block=False)

    def block_starts(self) -> bool:
        """``Concurrently`` then (inline whitespace and) ``{`` — else it may be a type name."""
        if not self.text.startswith(CONCURRENTLY, self.pos):
            return False
        after = self.inline_ws_end(self.pos + len(CONCURRENTLY))
        return after < self.length and self.text[after] == "{"

    def concurrent(self) -> ConcurrentNode:
        start = self.pos
        brace_at = self.inline_ws_end(start + len(CONCURRENTLY))
        self.pos = self.ws_end(brace_at + 1)
        if self.pos < self.length and self.text[self.pos] == "}":
            raise self.fail(f"A {CONCURRENTLY} block needs at least one step", self.pos)
        steps: list[PlanStepNode] = []
        while True:
            if self.block_starts():
                raise self.fail(f"{CONCURRENTLY} blocks cannot be nested", self.pos)
            steps.append(self.step(in_block=True))
            end = self.ws_end(self.pos)
            if end >= self.length:
                raise self.fail(f'Missing "}}" to close the "{{" at position {brace_at}', end)
            if self.text[end] == "}":
                self.pos = end + 1
                return ConcurrentNode(tuple(steps), index=start)
            self.separator("step")

    def separator(self, what: str) -> None:
        """At least one line break (with any blank lines) before the next entry or step."""
        at = self.inline_ws_end(self.pos)
        if at < self.length and self.text[at] == "\n":
            self.pos = self.ws_end(at + 1)
            return
        raise self.fail(
            f"Unexpected input {self.describe(at)}; put each {what} on its own line", at
        )

    def step(self, *, in_block: bool) -> PlanStepNode:
        start = self.pos
        match = _ENTITY_TYPE.match(self.text, start)
        if match is None:
            raise self.fail(self.no_entity_type(start, in_block), start)
        entity_type = match.group()
        open_at = match.end()
        if open_at >= self.length or self.text[open_at] != "(":
            if entity_type == CONCURRENTLY:
                wanted = '"{" after Concurrently (on the same line)'
            else:
                wanted = f'"(" after {entity_type}'
            raise self.fail(f"Expected {wanted} but found {self.describe(open_at)}", open_at)
        selector = self.selector(open_at)
        operations = self.chain(entity_type)
        return PlanStepNode(entity_type, selector, operations, index=start)

    def no_entity_type(self, at: int, in_block: bool) -> str:
        word = _WORD.match(self.text, at)
        if word is not None and word.group()[0].islower():
            return (
                f'"{word.group()}" is not an entity type: entity types start with an '
                "upper-case letter (see max schema)"
            )
        wanted = "a step (EntityType(selector).operation)"
        if not in_block:
            wanted += f' or "{CONCURRENTLY} {{"'
        return f"Expected {wanted} but found {self.describe(at)}"

    def selector(self, open_at: int) -> PlanSelector:
        at = self.inline_ws_end(open_at + 1)
        char = self.text[at] if at < self.length else ""
        selector: PlanSelector
        if char == "*":
            selector = AllSelector(index=at)
            self.pos = at + 1
        elif char == "#":
            match = _ID.match(self.text, at + 1)
            if match is None:
                raise self.fail(
                    f'Expected an id after "#" but found {self.describe(at + 1)} '
                    "(ids are letters, digits and _ . : @ -)",
                    at + 1,
                )
            selector = IdSelector(match.group(), index=at)
            self.pos = match.end()
        elif char == ")":
            raise self.fail(
                "Empty selector: write * (every entity), #id (one entity) or a filter", at
            )
        elif not char:
            raise self.fail(f'Missing ")" to close the "(" at position {open_at}', at)
        else:
            selector = self.filter(at, open_at)
        close_at = self.inline_ws_end(self.pos)
        if close_at >= self.length:
            raise self.fail(f'Missing ")" to close the "(" at position {open_at}', close_at)
        if self.text[close_at] != ")":
            after = "the id" if isinstance(selector, IdSelector) else '"*"'
            raise self.fail(
                f'Expected ")" after {after} but found {self.describe(close_at)}', close_at
            )
        self.pos = close_at + 1
        return selector

    def filter(self, start: int, open_at: int) -> FilterSelector:
        end = self.balanced_end(start, open_at)
        raw = self.text[start:end]
        offset = start + len(raw) - len(raw.lstrip(JS_WHITESPACE))
        try:
            ast = parse_filter(raw)
        except MaxError as err:
            if not ErrFilterParseFailed.matches(err):
                raise
            reason, index = err.data.get("reason", err.message), err.data.get("index", 0)
            raise ErrPlanParseFailed(
                cause=err,
                expression=self.text,
                reason=f"in the filter: {reason}",
                index=offset + (index if isinstance(index, int) else 0),
            ) from err
        self.pos = end
        return FilterSelector(ast, js_trim(raw), index=offset)

    def balanced_end(self, start: int, open_at: int) -> int:
        """The position of the ``)`` that closes the selector's ``(``."""
        text = self.text
        depth = 0
        pos = start
        while pos < self.length:
            char = text[pos]
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    return pos
                depth -= 1
            elif char in _QUOTED_RUN:
                pos = self.quoted_end(pos)
                continue
            else:
                run = _FILTER_RUN.match(text, pos)
                assert run is not None  # char is none of ( ) " '
                pos = run.end()
                continue
            pos += 1
        raise self.fail(f'Missing ")" to close the "(" at position {open_at}', pos)

    def quoted_end(self, open_at: int) -> int:
        """The position after the quoted string that starts at ``open_at``."""
        quote = self.text[open_at]
        run = _QUOTED_RUN[quote]
        pos = open_at + 1
        while True:
            chunk = run.match(self.text, pos)
            assert chunk is not None  # a `*` pattern always matches
            pos = chunk.end()
            if pos >= self.length:
                raise self.fail(f"Unterminated quoted value (no closing {quote})", open_at)
            if self.text[pos] == quote:
                return pos + 1
            pos += 2  # a backslash and the character it escapes

    def chain(self, entity_type: str) -> tuple[PlanOperation, ...]:
        operations: list[PlanOperation] = []
        while True:
            dot = self.ws_end(self.pos)
            if dot >= self.length or self.text[dot] != ".":
                break
            self.pos = dot + 1
            operations.append(self.operation())
        if not operations:
            at = self.ws_end(self.pos)
            raise self.fail(
                f"Expected an operation after {entity_type}(…) — .fields{{…}} or "
                f".collection{{…}} — but found {self.describe(at)}",
                at,
            )
        return tuple(operations)

    def operation(self) -> PlanOperation:
        start = self.pos
        word = _NAME.match(self.text, start)
        name = word.group() if word is not None else ""
        if word is None:
            raise self.fail(
                f'Expected fields{{…}} or collection{{…}} after "." but found '
                f"{self.describe(start)}",
                start,
            )
        if name not in _OPERATIONS:
            raise self.fail(
                f'Unknown operation "{name}"; expected fields{{…}} or collection{{…}}', start
            )
        brace_at = self.inline_ws_end(start + len(name))
        if brace_at >= self.length or self.text[brace_at] != "{":
            raise self.fail(
                f'Expected "{{" after {name} but found {self.describe(brace_at)}', brace_at
            )
        names, indices = self.arguments(name, brace_at)
        if name == "fields":
            return FieldsOperation(names, index=start, name_indices=indices)
        return CollectionOperation(names, index=start, name_indices=indices)

    def arguments(self, operation: str, brace_at: int) -> tuple[PlanNames, tuple[int, ...]]:
        at = self.inline_ws_end(brace_at + 1)
        names: list[str] = []
        indices: list[int] = []
        if at < self.length and self.text[at] == "*":
            indices.append(at)
            at = self.inline_ws_end(at + 1)
            self.close_arguments(operation, brace_at, at, after='"*"')
            return "*", tuple(indices)
        while True:
            match = _NAME.match(self.text, at)
            if match is None:
                if at < self.length and self.text[at] == "\n":
                    raise self.line_break_in(operation, at)
                if not names and at < self.length and self.text[at] == "}":
                    raise self.fail(
                        f"Empty {operation}{{}}: list the names or write {operation}{{*}}", at
                    )
                raise self.fail(
                    f"Expected a name in {operation}{{…}} but found {self.describe(at)}", at
                )
            names.append(match.group())
            indices.append(at)
            at = self.inline_ws_end(match.end())
            if at < self.length and self.text[at] == ",":
                at = self.inline_ws_end(at + 1)
                continue
            self.close_arguments(operation, brace_at, at, after=f'"{match.group()}"')
            return tuple(names), tuple(indices)

    def close_arguments(self, operation: str, brace_at: int, at: int, *, after: str) -> None:
        if at < self.length and self.text[at] == "}":
            self.pos = at + 1
            return
        if at >= self.length:
            raise self.fail(f'Missing "}}" to close the "{{" at position {brace_at}', at)
        if self.text[at] == "\n":
            raise self.line_break_in(operation, at)
        wanted = '"}"' if after == '"*"' else '"," or "}"'
        raise self.fail(f"Expected {wanted} after {after} but found {self.describe(at)}", at)

    # -- helpers ------------------------------------------------------------------------------

    def line_break_in(self, operation: str, at: int) -> MaxError:
        return self.fail(f"Line break inside {operation}{{…}}: write its list on one line", at)

    def describe(self, pos: int) -> str:
        """The input at ``pos`` for a message: a quoted snippet, or "the end of the plan"."""
        if pos >= self.length:
            return "the end of the plan"
        snippet = self.text[pos : pos + _SNIPPET_LENGTH + 1].split("\n", 1)[0]
        if not snippet:
            return "a line break"
        if len(snippet) > _SNIPPET_LENGTH:
            snippet = snippet[:_SNIPPET_LENGTH] + "…"
        return f'"{printable(snippet)}"'

    def inline_ws_end(self, pos: int) -> int:
        match = _INLINE_WS.match(self.text, pos)
        assert match is not None  # a `*` pattern always matches
        return match.end()

    def ws_end(self, pos: int) -> int:
        match = _WS_RUN.match(self.text, pos)
        assert match is not None  # a `*` pattern always matches
        return match.end()

    def fail(self, reason: str, index: int) -> MaxError:
        return ErrPlanParseFailed(expression=self.text, reason=reason, index=index)

"""``max search`` input, end to end: real ``max`` processes against the synced Acme workspace.

* the filter language's ``NOT``, ``IN (…)``, ``IS [NOT] NULL`` select exactly the rows a
  Python evaluation of the same condition selects over a full dump — including the NULL rule
  (``NOT`` keeps the rows whose field is empty);
* every mistake is one ``Error:`` line plus a ``Hint:`` — ``did you mean …?`` for unknown
  entity types, fields (``--filter``, ``--fields``, ``--order-by``) and connectors (``max
  schema``); an unknown ``--fields`` name is an error instead of an empty column; a cursor of
  another entity type is an error instead of an empty page;
* user input in error lines is shortened and made printable: a 40 KB filter, a 4 KB cursor,
  values with newlines and control characters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import trio

from .conftest import Result, Synced, max_proc

SEARCH = ["search", "acme-1"]
#: The longest first line of stderr an error may print (its quoted input is ~200 characters).
LONGEST_ERROR_LINE = 1100

Row = dict[str, Any]


async def run(synced: Synced, *args: str) -> Result:
    return await max_proc(*args, cwd=synced.root, home=synced.home)


async def run_all(synced: Synced, commands: list[list[str]]) -> list[Result]:
    """Run several ``max`` commands at once (independent read-only searches)."""
    results: list[Result | None] = [None] * len(commands)

    async def one(index: int, args: list[str]) -> None:
        results[index] = await run(synced, *args)

    async with trio.open_nursery() as nursery:
        for index, args in enumerate(commands):
            nursery.start_soon(one, index, args)
    return [result for result in results if result is not None]


def ids(result: Result) -> set[str]:
    assert result.code == 0, result
    return {json.loads(line)["_id"] for line in result.out.splitlines()}


def one_line_error(result: Result, contains: str, hint: str | None = None) -> str:
    """The error line, after checking the shape: ``Error: …`` and at most one ``Hint:``."""
    assert result.code == 1, result
    assert result.out == "" and "Traceback" not in result.err, result
    lines = result.err.splitlines()
    assert lines[0].startswith("Error: ") and contains in lines[0], result.err
    assert len(lines[0]) <= LONGEST_ERROR_LINE and lines[0].isprintable()
    if hint is None:
        assert all(not line.startswith("  Hint: did you mean") for line in lines[1:]), lines
    else:
        assert lines[1:] == [f"  Hint: {hint}"], result.err
    return lines[0]


async def test_not_in_and_null_tests_select_what_python_selects(synced: Synced) -> None:
    fields = "_id,status,dueDate,description,priority"
    dump = await run(synced, *SEARCH, "AcmeTask", "--all", "-o", "ndjson", "--fields", fields)
    assert dump.code == 0, dump
    rows: list[Row] = [json.loads(line) for line in dump.out.splitlines()]
    assert any("dueDate" not in r for r in rows) and any("dueDate" in r for r in rows)

    def due_after(row: Row) -> bool:
        return "dueDate" in row and row["dueDate"] > "2027"

    cases: list[tuple[str, Callable[[Row], bool]]] = [
        ("NOT status = done", lambda r: r.get("status") != "done"),
        ("status IN (todo, 'in_progress')", lambda r: r.get("status") in ("todo", "in_progress")),
        ("dueDate IS NULL", lambda r: "dueDate" not in r),
        ("dueDate is not null AND NOT priority = low",
         lambda r: "dueDate" in r and r.get("priority") != "low"),
        # the NULL rule: NOT keeps the tasks without a due date, dueDate <= "2027" does not
        ('NOT dueDate > "2027"', lambda r: not due_after(r)),
        ('dueDate <= "2027"', lambda r: "dueDate" in r and not due_after(r)),
        (
            "NOT (status IN (done, in_review) OR description IS NULL) AND priority != urgent",
            lambda r: r.get("status") not in ("done", "in_review")
            and "description" in r
            and r.get("priority") != "urgent",
        ),
        ("not not status = todo", lambda r: r.get("status") == "todo"),
    ]  # fmt: skip
    every = [*SEARCH, "AcmeTask", "--all", "-o", "ndjson", "--fields", "_id"]
    results = await run_all(synced, [[*every, "-f", text] for text, _ in cases])
    for (text, keep), result in zip(cases, results, strict=True):
        expected = {row["_id"] for row in rows if keep(row)}
        assert ids(result) == expected, text
        assert expected and expected != {row["_id"] for row in rows}, text  # a real selection


async def test_unknown_names_are_one_line_errors_with_a_suggestion(synced: Synced) -> None:
    commands = [
        [*SEARCH, "AcmeTsk"],
        [*SEARCH, "acmetask"],
        [*SEARCH, "AcmeTask", "-f", "NOT titel ~= x"],
        [*SEARCH, "AcmeTask", "-f", "status IN (todo) OR priorty IS NULL"],
        [*SEARCH, "AcmeTask", "--fields", "_id,title,nosuch"],
        [*SEARCH, "AcmeTask", "--fields", "title,Status"],
        [*SEARCH, "AcmeTask", "--order-by", "titel:desc"],
        [*SEARCH, "AcmeTask", "--order-by", "zzzz"],
        ["schema", "acmee"],
    ]
    listing = "max schema lists the entity types of acme-1"
    expected = [
        ('Unknown entity type "AcmeTsk"', f'did you mean "AcmeTask"? ({listing})'),
        ('Unknown entity type "acmetask"', f'did you mean "AcmeTask"? ({listing})'),
        ('Invalid filter "NOT titel ~= x" — Unknown field "titel".', 'did you mean "title"?'),
        ('Unknown field "priorty". Valid fields: _id, title,', 'did you mean "priority"?'),
        ('Unknown field "nosuch" in --fields. Fields AcmeTask stores: _id, _ref, title,', None),
        ('Unknown field "Status" in --fields.', 'did you mean "status"?'),
        ('Invalid --order-by "titel:desc" — AcmeTask has no field "titel"',
         'did you mean "title"?'),
        ('Invalid --order-by "zzzz"', None),
        ('Connector "acmee" not found', 'did you mean "acme"? (connectors: acme, claude-code, '
         "files, git (max install adds more))"),
    ]  # fmt: skip
    for (contains, hint), result in zip(expected, await run_all(synced, commands), strict=True):
        one_line_error(result, contains, hint)


async def test_a_cursor_of_another_entity_type_is_an_error(synced: Synced) -> None:
    users, ordered_users = await run_all(
        synced,
        [
            [*SEARCH, "AcmeUser", "--limit", "2", "-o", "json"],
            [*SEARCH, "AcmeUser", "--limit", "2", "--order-by", "createdAt", "-o", "json"],
        ],
    )
    user_cursor = json.loads(users.out)["cursor"]
    keyset_cursor = json.loads(ordered_users.out)["cursor"]
    assert user_cursor.startswith("ein:AcmeUser:") and keyset_cursor.startswith("ord1.")
    after = "--after"
    by_ref, by_keyset, other_order, own = await run_all(
        synced,
        [
            [*SEARCH, "AcmeTask", after, user_cursor],
            # AcmeProject has a createdAt too: only the type inside the cursor tells them apart
            [*SEARCH, "AcmeProject", "--order-by", "createdAt", after, keyset_cursor],
            [*SEARCH, "AcmeUser", "--order-by", "email", after, keyset_cursor],
            [*SEARCH, "AcmeUser", "--limit", "2", after, user_cursor, "-o", "json"],
        ],
    )
    one_line_error(by_ref, "it is a cursor of AcmeUser, not of AcmeTask")
    one_line_error(by_keyset, "it is a cursor of AcmeUser, not of AcmeProject")
    one_line_error(other_order, "made for --order-by createdAt:asc, not email:asc")
    assert own.code == 0 and json.loads(own.out)["data"]  # the right type pages on


async def test_long_and_unprintable_input_is_quoted_shortly(synced: Synced) -> None:
    huge_filter = " AND ".join(f"title = 'value {i}'" for i in range(2000))  # ~40 KB
    assert len(huge_filter) > 40_000
    commands = [
        [*SEARCH, "AcmeTask", "-f", huge_filter],
        [*SEARCH, "AcmeTask", "-f", "nosuch" * 7000 + " = 1"],
        [*SEARCH, "AcmeTask", "-f", "title = 'line\nbreak' AND bad\x01field = 1"],
        [*SEARCH, "AcmeTask", "-f", "title = 'a\x1b[31mred' AND title =="],
        [*SEARCH, "AcmeTask", "--after", "ein:" + "c" * 4096],
        [*SEARCH, "AcmeTask", "--after", "x\ny" * 1500],
        [*SEARCH, "AcmeTask", "--order-by", "z\x07" * 3000],
        [*SEARCH, "AcmeTask", "--fields", "title," + "bad\x02" * 1000],
        [*SEARCH, "Acme\nTask" * 500],
        ["schema", "acme\n" * 1000],
    ]
    for result in await run_all(synced, commands):
        line = one_line_error(result, "")
        assert "…" in line or len(line) < 300, line
        assert "\x1b" not in result.err and "\x07" not in result.err
    escapes = await run(synced, *SEARCH, "AcmeTask", "-f", "title = 'line\nbreak' AND bad = 1")
    assert "\\n" in one_line_error(escapes, "Invalid filter \"title = 'line\\nbreak' AND bad = 1\"")


# -- full-text search (--text) ---------------------------------------------------------------


async def test_text_search_finds_words_best_first_and_combines_with_the_rest(
    synced: Synced,
) -> None:
    first = json.loads((await run(synced, *SEARCH, "AcmeTask", "--limit", "1", "-o", "json")).out)
    words = [w for w in first["data"][0]["title"].lower().split() if w.isalpha()]
    word = max(words, key=len)
    text_fields = "_id,title,description,status,priority,tags"
    found, todo, ordered, streamed = await run_all(
        synced,
        [
            [*SEARCH, "AcmeTask", "--text", word, "--fields", text_fields, "-o", "json"],
            [*SEARCH, "AcmeTask", "--text", word, "-f", "status = todo", "--fields", "status",
             "-o", "json"],
            [*SEARCH, "AcmeTask", "--text", word, "--order-by", "title", "--fields", "title",
             "-o", "ndjson", "--all", "--limit", "3"],
            [*SEARCH, "AcmeTask", "--text", word, "--fields", "_id", "-o", "ndjson", "--all",
             "--limit", "2"],
        ],
    )  # fmt: skip
    rows = json.loads(found.out)["data"]
    assert rows, word
    for row in rows:
        assert word in " ".join(str(v) for v in row.values()).lower(), (word, row)
    assert all(row == {"status": "todo"} for row in json.loads(todo.out)["data"])
    titles = [json.loads(line)["title"] for line in ordered.out.splitlines()]
    assert titles == sorted(titles) and len(titles) == len(rows)
    ids = [json.loads(line)["_id"] for line in streamed.out.splitlines()]
    assert ids == [row["_id"] for row in rows]  # pages of 2 in rank order: the same rows


async def test_text_search_mistakes_are_one_line_with_a_hint(synced: Synced) -> None:
    broken, empty, bare = await run_all(
        synced,
        [
            [*SEARCH, "AcmeTask", "--text", 'alpha "unclosed'],
            [*SEARCH, "AcmeTask", "--text", "  "],
            [*SEARCH, "AcmeRoot", "--text", "alpha"],
        ],
    )
    for result in (broken, empty, bare):
        assert result.code == 1, result
        assert result.err.startswith("Error: ") and "Traceback" not in result.err
    assert "unterminated string" in broken.err.splitlines()[0]
    assert broken.err.splitlines()[1].startswith("  Hint: FTS5 syntax")
    assert "--text" in empty.err
    assert "no text fields" in bare.err

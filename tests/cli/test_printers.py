"""Printers without a terminal: values, the five formats, the exact search text layout, the
colour decision and the progress frame (with a fake clock)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from maxtrio.cli._output import PLAIN, Sink, Style, decide_color, visible_len
from maxtrio.cli._printers import (
    box_table,
    cell_text,
    csv_text,
    dumps_line,
    dumps_pretty,
    js_number_text,
    render,
)
from maxtrio.cli._progress import ProgressState
from maxtrio.cli._search_output import SearchPage, SearchPrinter, truncate
from maxtrio.core import EntityDef, EntityResult, Field

User = EntityDef.create("User", {"name": Field.string(), "age": Field.number()})
Task = EntityDef.create(
    "Task",
    {
        "title": Field.string(),
        "done": Field.boolean(),
        "points": Field.number(),
        "due": Field.date(),
        "owner": Field.ref(User),
    },
)


def task(id_: str, title: str | None, points: float | None = None, **more: object) -> EntityResult:
    values = {"title": title, "done": False, "points": points, "due": None, "owner": None}
    values.update(more)
    return EntityResult(Task.ref(id_), values)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "5"),
        (-0.0, "0"),
        (3.5, "3.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (7, "7"),
        (True, "true"),
    ],
)
def test_numbers_print_as_javascript_does(value: float, text: str) -> None:
    assert js_number_text(value) == text


def test_cells_and_json_values() -> None:
    ref = User.ref("u1")
    assert cell_text(ref) == "ein:User:u1"
    assert cell_text(None) == "" and cell_text(False) == "false"
    assert cell_text(dt.datetime(2026, 3, 12, 10, 35, tzinfo=dt.UTC)) == "2026-03-12T10:35:00+00:00"
    document = {"n": 2.0, "x": 2.5, "nan": float("nan"), "r": ref, "gone": None, "é": "ü"}
    assert dumps_line(document) == '{"n":2,"x":2.5,"nan":null,"r":"ein:User:u1","é":"ü"}'
    assert dumps_pretty({"a": [1.0]}) == '{\n  "a": [\n    1\n  ]\n}'


def test_csv_quotes_and_header() -> None:
    rows = [{"a": 'say "hi"', "b": "x,y"}, {"a": "line\nbreak"}]
    assert csv_text(["a", "b"], rows, header=True) == 'a,b\n"say ""hi""","x,y"\n"line\nbreak",'
    assert csv_text(["a"], [{"a": 1.0}], header=False) == "1"


def test_box_table_is_sized_to_content_and_plain_without_colour() -> None:
    text = box_table(["_id", "name"], [{"_id": "u1", "name": "Ada"}], PLAIN)
    assert text.splitlines() == [
        "┌─────┬──────┐",
        "│ _id │ name │",
        "├─────┼──────┤",
        "│ u1  │ Ada  │",
        "└─────┴──────┘",
    ]
    assert "\x1b[" not in text


# -- search output -------------------------------------------------------


def _text(printer: SearchPrinter, page: SearchPage) -> str:
    return "\n".join(printer.page(page))


def test_search_text_single_page_with_more() -> None:
    items = [task("t1", "Write the launch post", 3.0), task("t2", "Fix login", None)]
    page = SearchPage("Task", items, True, "ein:Task:t2", ("_id", "title", "points"))
    assert _text(SearchPrinter("text", PLAIN, streaming=False), page).split("\n") == [
        "Task: 2 results, more available",
        "",
        "  _id  title                  points",
        "  t1   Write the launch post  3     ",
        "  t2   Fix login                    ",
        "",
        "Next page: --after ein:Task:t2",
        "All results: --all",
    ]


def test_search_text_default_columns_one_result_and_no_results() -> None:
    page = SearchPage("Task", [task("t1", "A", 1.0, done=True)], False, None)
    assert _text(SearchPrinter("text", PLAIN, streaming=False), page).split("\n") == [
        "Task: 1 result",
        "",
        "  _id  title  done  points  due  owner",
        "  t1   A      true  1                 ",
    ]
    empty = SearchPage("Task", [], False, None)
    assert _text(SearchPrinter("text", PLAIN, streaming=False), empty) == (
        "Task: 0 results\n\n  No results."
    )


def test_search_text_truncates_at_80_with_an_ellipsis() -> None:
    long = "x" * 100
    page = SearchPage("Task", [task("t1", long)], False, None, ("title",))
    rows = _text(SearchPrinter("text", PLAIN, streaming=False), page).split("\n")
    assert rows[3] == "  " + "x" * 79 + "…"
    assert truncate("🙂🙂🙂", 2) == "🙂…" and truncate("abc", 3) == "abc"


def test_search_text_widths_come_from_the_first_20_rows() -> None:
    items = [task(f"t{i:02}", "a") for i in range(20)] + [task("t20", "much longer title")]
    page = SearchPage("Task", items, False, None, ("_id", "title"))
    rows = _text(SearchPrinter("text", PLAIN, streaming=False), page).split("\n")
    assert rows[2] == "  _id  title"
    assert rows[-1] == "  t20  much…"  # width 5 from the sample: the late long title is cut


def test_search_text_streaming_keeps_the_first_page_widths() -> None:
    printer = SearchPrinter("text", PLAIN, streaming=True)
    first = SearchPage("Task", [task("t1", "ab")], True, "c1", ("_id", "title"))
    second = SearchPage("Task", [task("t2", "a much longer title")], False, None, ("_id", "title"))
    assert _text(printer, first).split("\n") == ["Task", "", "  _id  title", "  t1   ab   "]
    assert _text(printer, second) == "  t2   a mu…"
    assert list(printer.page(SearchPage("Task", [], False, None))) == []


def test_search_text_colour_underlines_the_type_and_dims_headers() -> None:
    page = SearchPage("Task", [task("t1", "A")], True, "c", ("_id",))
    text = _text(SearchPrinter("text", Style(True), streaming=False), page)
    assert text.startswith("\x1b[4mTask\x1b[0m: 1 result, more available")
    assert "\x1b[2m_id\x1b[0m" in text and "\x1b[2mNext page: --after c\x1b[0m" in text


def test_search_json_and_ndjson_shapes() -> None:
    items = [task("t1", "A", 2.0), task("t2", None)]
    page = SearchPage("Task", items, True, "ein:Task:t2", ("_id", "title", "points"))
    document = json.loads(_text(SearchPrinter("json", PLAIN, streaming=False), page))
    assert document == {
        "type": "Task",
        "data": [{"_id": "t1", "title": "A", "points": 2}, {"_id": "t2"}],
        "hasMore": True,
        "cursor": "ein:Task:t2",
    }
    ndjson = _text(SearchPrinter("ndjson", PLAIN, streaming=False), page).split("\n")
    assert ndjson == [
        '{"_id":"t1","title":"A","points":2}',
        '{"_id":"t2"}',
        '{"_meta":{"type":"Task","hasMore":true,"cursor":"ein:Task:t2",'
        '"hint":"Use --all to stream all results, or --after <cursor> for next page"}}',
    ]
    last = SearchPage("Task", items[:1], False, None, ("_id",))
    assert _text(SearchPrinter("ndjson", PLAIN, streaming=False), last).split("\n")[-1] == (
        '{"_meta":{"type":"Task","hasMore":false}}'
    )
    assert _text(SearchPrinter("ndjson", PLAIN, streaming=True), last) == '{"_id":"t1"}'
    no_cursor = json.loads(_text(SearchPrinter("json", PLAIN, streaming=False), last))
    assert "cursor" not in no_cursor


def test_search_csv_header_once_and_hints_on_stderr() -> None:
    printer = SearchPrinter("csv", PLAIN, streaming=True)
    one = SearchPage("Task", [task("t1", "A")], True, "c1", ("_id", "title"))
    two = SearchPage("Task", [task("t2", "B, C")], False, None, ("_id", "title"))
    assert _text(printer, one) == "_id,title\nt1,A"
    assert _text(printer, two) == 't2,"B, C"'
    single = SearchPrinter("csv", PLAIN, streaming=False)
    assert single.hints(one) == ["Next page: --after c1", "All results: --all"]
    assert SearchPrinter("text", PLAIN, streaming=False).hints(one) == []


# -- the generic report formats -------------------------------------------------------------------


class _Report:
    ndjson_records = True

    def text(self, style: Style) -> str:
        return style.bold("hello")

    def document(self) -> dict[str, object]:
        return {"url": "max://@", "items": [{"name": "a"}, {"name": "b"}]}

    def records(self) -> tuple[list[str], list[dict[str, object]]]:
        return ["name"], [{"name": "a"}, {"name": "b"}]


def test_render_every_format() -> None:
    report = _Report()
    assert list(render(report, "text", Style(True))) == ["\x1b[1mhello\x1b[0m"]
    assert json.loads("".join(render(report, "json", PLAIN)))["items"][1] == {"name": "b"}
    assert list(render(report, "ndjson", PLAIN)) == ['{"name":"a"}\n{"name":"b"}']
    assert list(render(report, "csv", PLAIN)) == ["name\na\nb"]
    assert "│ a    │" in next(iter(render(report, "table", PLAIN)))


# -- colour and sinks -----------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "flag", "env", "expected"),
    [
        (True, None, {}, True),
        (False, None, {}, False),
        (True, None, {"NO_COLOR": ""}, False),
        (True, True, {"NO_COLOR": "1"}, False),
        (True, None, {"TERM": "dumb"}, False),
        (False, True, {}, True),
        (True, False, {}, False),
        (False, None, {"FORCE_COLOR": "1"}, True),
        (False, None, {"FORCE_COLOR": "0"}, False),
    ],
)
def test_colour_decision(tty: bool, flag: bool | None, env: dict[str, str], expected: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert decide_color(stream, flag, env) is expected


def test_visible_length_ignores_ansi() -> None:
    assert visible_len(Style(True).red("● unhealthy")) == len("● unhealthy")


def test_sink_turns_a_broken_pipe_into_reader_gone() -> None:
    from maxtrio.cli._output import ReaderGone

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(ReaderGone):
        Sink(Broken()).line("x")


# -- progress frame ------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_frame_counts_rates_failures_and_elapsed() -> None:
    from maxtrio.execution import TaskCompleted, TaskFailed

    clock = FakeClock()
    state = ProgressState(clock)
    assert state.lines(PLAIN)[-1] == "  0.0s elapsed"
    state.on_event(TaskCompleted("sync-1", "t1", "AcmeUser", "load-collection", 20))
    assert state.lines(PLAIN)[0] == "  AcmeUser             ░····      20          —"
    clock.now += 2.0
    for n in range(6):
        state.on_event(TaskCompleted("sync-1", f"t{n}", "AcmeTask", "load-collection", 100))
    state.on_event(TaskFailed("sync-1", "t9", "AcmeTask", "load-fields", "boom", "x.y"))
    state.on_event(TaskFailed("sync-1", "t10", "AcmeTask", "load-fields", "boom", "x.y"))
    frame = state.lines(PLAIN)
    assert frame == [
        "  AcmeUser             ░····      20     10.0/s",
        "  AcmeTask             █░···     600    300.0/s  2 failed",
        "  " + "─" * 46,
        "  2.0s elapsed",
    ]
    coloured = state.lines(Style(True))
    assert "\x1b[31m2 failed\x1b[0m" in coloured[1]


def test_progress_counts_a_row_listed_and_then_loaded_once_and_settles_exactly() -> None:
    from maxtrio.execution import TaskCompleted

    state = ProgressState(FakeClock())
    state.on_event(TaskCompleted("sync-1", "t1", "AcmeUser", "load-collection", 6))
    state.on_event(TaskCompleted("sync-1", "t2", "AcmeUser", "load-fields", 4))
    assert state.lines(PLAIN)[0].split()[2] == "6"  # the listed users, not 6 + 4
    state.on_event(TaskCompleted("sync-1", "t3", "AcmeUser", "load-fields", 4))
    assert state.lines(PLAIN)[0].split()[2] == "8"  # more loaded than listed: some were stored
    state.settle({"AcmeUser": 7, "AcmeTask": 30})  # what data.db says when the sync ends
    assert [line.split()[:1] + line.split()[2:3] for line in state.lines(PLAIN)[:2]] == [
        ["AcmeUser", "7"],
        ["AcmeTask", "30"],
    ]


def test_progress_shows_retries_back_off_and_calls_waiting() -> None:
    from maxtrio.execution import OperationRetried, SyncCompleted

    clock = FakeClock()
    state = ProgressState(clock)
    assert state.lines(PLAIN)[-1] == "  0.0s elapsed"
    state.on_event(OperationRetried("sync-1", "acme:task:list", 1, 1.0, "acme.rate_limited"))
    clock.now += 0.5
    state.on_event(OperationRetried("sync-1", "acme:user:list", 1, 2.0, "acme.rate_limited"))
    assert state.lines(PLAIN)[-1] == (
        "  0.5s elapsed  ·  2 retries, 3.0s back-off  ·  2 waiting to retry"
    )
    clock.now += 1.0  # the first back-off is over
    assert state.lines(PLAIN)[-1].endswith("·  1 waiting to retry")
    clock.now += 1.0
    assert state.lines(PLAIN)[-1] == "  2.5s elapsed  ·  2 retries, 3.0s back-off"
    state.on_event(SyncCompleted("sync-1", None))  # type: ignore[arg-type]
    assert "\x1b[33m" in state.lines(Style(True))[-1]  # yellow: the source pushed back

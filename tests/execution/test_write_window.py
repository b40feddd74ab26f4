"""The write window: how many tasks of one sync may load at once (memory and writer backlog)."""

from __future__ import annotations

from maxtrio.execution._handle import (
    MIN_WINDOW,
    ROWS_IN_FLIGHT,
    START_WINDOW,
    TRUST_AFTER,
    UNKNOWN_ROWS_PER_RESULT,
    WRITE_BACKLOG,
    WriteWindow,
)

CAP = 50  # the executor's task limit


def commit_results(window: WriteWindow, rows: int, times: int) -> None:
    for _ in range(times):
        window.loaded(rows)
        window.committed(CAP)


def test_it_grows_by_one_per_commit_up_to_the_row_budget() -> None:
    window = WriteWindow()
    assert window.room(running=0) == START_WINDOW
    commit_results(window, rows=10, times=100)
    assert window.size == CAP  # small results: the executor's limit is the bound
    window = WriteWindow()
    commit_results(window, rows=1_000, times=100)
    assert window.size == ROWS_IN_FLIGHT // 1_000


def test_empty_results_do_not_open_the_window_to_big_pages() -> None:
    """Hundreds of empty listings first (projects without files), then 500-row task pages: the
    tasks that may start never hold more than the row budget."""
    window = WriteWindow()
    commit_results(window, rows=0, times=300)
    assert window.size == ROWS_IN_FLIGHT // UNKNOWN_ROWS_PER_RESULT  # not the executor's 50
    loading = window.room(running=0)
    window.loaded(500)
    assert (loading - 1) * 500 + 500 <= ROWS_IN_FLIGHT
    commit_results(window, rows=0, times=300)
    assert window.size * 500 <= ROWS_IN_FLIGHT  # one big result is remembered


def test_the_largest_result_sets_the_bound_not_an_average() -> None:
    window = WriteWindow()
    commit_results(window, rows=11, times=3)  # users
    commit_results(window, rows=4_000, times=1)  # one huge page
    commit_results(window, rows=11, times=50)
    assert window.size == max(MIN_WINDOW, ROWS_IN_FLIGHT // 4_000)


def test_a_backlog_at_the_writer_stops_loading() -> None:
    window = WriteWindow()
    for _ in range(WRITE_BACKLOG):
        window.loaded(100)
    assert window.room(running=WRITE_BACKLOG) == 0
    window.committed(CAP)
    assert window.room(running=WRITE_BACKLOG - 1) > 0


def test_small_results_first_do_not_open_the_window_to_big_pages() -> None:
    """A 50-row page of projects before the 1,000-row pages of their tasks: the first results
    with rows are not trusted to tell the size of the next ones."""
    window = WriteWindow()
    commit_results(window, rows=11, times=1)  # users
    commit_results(window, rows=50, times=1)  # projects
    commit_results(window, rows=0, times=50)  # their (empty) file listings
    assert window.size <= ROWS_IN_FLIGHT // UNKNOWN_ROWS_PER_RESULT
    commit_results(window, rows=10, times=TRUST_AFTER)  # a sync of small pages opens up
    assert window.size > ROWS_IN_FLIGHT // UNKNOWN_ROWS_PER_RESULT

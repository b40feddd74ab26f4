"""Page, PageRequest and MaxPage (pagination.test.ts)."""

from __future__ import annotations

from datetime import date

import pytest

from maxtrio.core import (
    INSTALLATION,
    EntityDef,
    ErrInvalidPageRequest,
    Field,
    MaxError,
    MaxPage,
    Page,
    PageRequest,
    Ref,
    workspace,
)

User = EntityDef.create("User", {"name": Field.string(), "email": Field.string()})


def user_refs(count: int) -> list[Ref]:
    return [User.ref(f"u{i + 1}") for i in range(count)]


class TestPage:
    def test_carries_items_and_metadata(self) -> None:
        page = Page([1, 2, 3], True, "next-cursor", 100)
        assert list(page.items) == [1, 2, 3]
        assert page.has_more is True
        assert page.cursor == "next-cursor"
        assert page.total == 100
        assert len(page) == 3

    def test_empty(self) -> None:
        page: Page[str] = Page.empty()
        assert list(page.items) == []
        assert page.has_more is False
        assert page.cursor is None
        assert len(page) == 0

    def test_from_offset_trims_and_points_after_the_page(self) -> None:
        page = Page.from_offset([10, 20, 30, 40], 0, 3)
        assert list(page.items) == [10, 20, 30]
        assert page.has_more is True
        assert page.cursor == "3"

    def test_from_offset_when_everything_fits(self) -> None:
        page = Page.from_offset([10, 20], 0, 3)
        assert list(page.items) == [10, 20]
        assert page.has_more is False
        assert page.cursor is None

    def test_from_offset_continues_from_a_non_zero_offset(self) -> None:
        page = Page.from_offset(["d", "e", "f", "g"], 3, 3)
        assert list(page.items) == ["d", "e", "f"]
        assert page.has_more is True
        assert page.cursor == "6"

    def test_from_offset_with_exactly_limit_items_has_no_more(self) -> None:
        page = Page.from_offset([1, 2, 3], 0, 3)
        assert (list(page.items), page.has_more, page.cursor) == ([1, 2, 3], False, None)

    def test_from_next_with_a_token(self) -> None:
        page = Page.from_next(["a", "b"], "tok_abc")
        assert list(page.items) == ["a", "b"]
        assert page.has_more is True
        assert page.cursor == "tok_abc"

    def test_from_next_without_a_token(self) -> None:
        page = Page.from_next(["a", "b"], None)
        assert list(page.items) == ["a", "b"]
        assert page.has_more is False
        assert page.cursor is None

    def test_map_keeps_the_metadata(self) -> None:
        mapped = Page([1, 2, 3], True, "cursor-5", 100).map(lambda n: n * 10)
        assert list(mapped.items) == [10, 20, 30]
        assert mapped.has_more is True
        assert mapped.cursor == "cursor-5"
        assert mapped.total == 100

    def test_pages_are_frozen(self) -> None:
        page = Page([1], False)
        with pytest.raises(AttributeError):
            page.has_more = True  # type: ignore[misc]


class TestPageRequest:
    def test_begin_with_and_without_limit(self) -> None:
        assert Page.begin(100) == PageRequest(cursor=None, limit=100)
        req = Page.begin()
        assert req.cursor is None
        assert req.limit is None

    def test_constructed_from_cursor_and_limit(self) -> None:
        req = PageRequest(cursor="abc", limit=50)
        assert (req.cursor, req.limit) == ("abc", 50)
        blank = PageRequest()
        assert (blank.cursor, blank.limit) == (None, None)

    def test_start_and_resume(self) -> None:
        assert PageRequest.start(10) == PageRequest(None, 10)
        req = PageRequest.resume("cursor-5", 25)
        assert (req.cursor, req.limit) == ("cursor-5", 25)

    def test_default_limit_fills_a_missing_limit(self) -> None:
        assert Page.begin().default_limit(100).limit == 100

    def test_default_limit_keeps_the_callers_limit(self) -> None:
        assert Page.begin(25).default_limit(100).limit == 25

    def test_default_limit_keeps_a_zero_limit(self) -> None:
        assert Page.begin(0).default_limit(100).limit == 0

    def test_fetch_size_is_one_more_than_the_limit(self) -> None:
        assert Page.begin(50).default_limit(100).fetch_size == 51

    def test_resolved_request_keeps_the_cursor_and_drops_an_empty_one(self) -> None:
        assert PageRequest.resume("7", 5).default_limit(100).cursor == "7"
        assert PageRequest("", 5).default_limit(100).cursor is None

    def test_resolved_request_parses_its_cursor(self) -> None:
        resolved = PageRequest.resume("12").default_limit(10)
        assert resolved.parse_as_numeric_offset() == 12
        assert resolved.parse_cursor(int, -1) == 12
        assert Page.begin().default_limit(10).parse_cursor(int, -1) == -1
        with pytest.raises(MaxError):
            PageRequest.resume("x").default_limit(10).parse_as_numeric_offset()

    def test_numeric_offset(self) -> None:
        assert PageRequest.resume("42").parse_as_numeric_offset(0) == 42
        assert Page.begin().parse_as_numeric_offset(0) == 0
        assert Page.begin().parse_as_numeric_offset(9) == 9
        assert PageRequest("").parse_as_numeric_offset() == 0

    @pytest.mark.parametrize("cursor", ["abc", "-3", "1.5", "1_000", " 4", "٣", "0x10"])
    def test_numeric_offset_rejects_anything_but_digits(self, cursor: str) -> None:
        with pytest.raises(MaxError) as info:
            PageRequest.resume(cursor).parse_as_numeric_offset()
        err = info.value
        assert ErrInvalidPageRequest.matches(err)
        assert err.has("BadInput")
        assert repr(cursor) in str(err)

    def test_parse_cursor_with_a_function(self) -> None:
        epoch = date(1970, 1, 1)
        assert PageRequest.resume("2024-01-15").parse_cursor(date.fromisoformat, epoch).year == 2024
        assert Page.begin().parse_cursor(date.fromisoformat, epoch).year == 1970


NAMES = ["Alice", "Bob", "Charlie", "Diana", "Eve"]


def offset_api(offset: int, limit: int) -> list[str]:
    """A third-party API that pages by offset and limit."""
    return NAMES[offset : offset + limit]


def get_users(req: PageRequest) -> Page[str]:
    resolved = req.default_limit(2)
    offset = resolved.parse_as_numeric_offset(0)
    return Page.from_offset(offset_api(offset, resolved.fetch_size), offset, resolved.limit)


ISSUE_PAGES: dict[str, tuple[list[str], str | None]] = {
    "start": (["ISS-1", "ISS-2"], "tok_2"),
    "tok_2": (["ISS-3", "ISS-4"], "tok_3"),
    "tok_3": (["ISS-5"], None),
}


def get_issues(req: PageRequest) -> Page[str]:
    resolved = req.default_limit(50)
    items, next_token = ISSUE_PAGES[resolved.cursor or "start"]
    return Page.from_next(items, next_token)


class TestOffsetFlow:
    def test_first_page(self) -> None:
        page = get_users(Page.begin())
        assert (list(page.items), page.has_more, page.cursor) == (["Alice", "Bob"], True, "2")

    def test_second_page_from_the_first_cursor(self) -> None:
        first = get_users(Page.begin())
        assert first.cursor is not None
        second = get_users(PageRequest.resume(first.cursor))
        assert list(second.items) == ["Charlie", "Diana"]
        assert (second.has_more, second.cursor) == (True, "4")

    def test_last_page(self) -> None:
        page = get_users(PageRequest.resume("4"))
        assert (list(page.items), page.has_more, page.cursor) == (["Eve"], False, None)

    def test_callers_limit_overrides_the_default(self) -> None:
        page = get_users(Page.begin(3))
        assert list(page.items) == ["Alice", "Bob", "Charlie"]
        assert page.has_more is True


class TestTokenFlow:
    def test_first_page(self) -> None:
        page = get_issues(Page.begin())
        assert list(page.items) == ["ISS-1", "ISS-2"]
        assert (page.has_more, page.cursor) == (True, "tok_2")

    def test_follow_cursors_until_exhausted(self) -> None:
        page = get_issues(Page.begin())
        collected = list(page.items)
        while page.has_more:
            assert page.cursor is not None
            page = get_issues(PageRequest.resume(page.cursor))
            collected.extend(page.items)
        assert collected == ["ISS-1", "ISS-2", "ISS-3", "ISS-4", "ISS-5"]
        assert page.has_more is False


class TestMaxPage:
    def test_from_refs_takes_the_cursor_scope(self) -> None:
        page = MaxPage.from_refs(user_refs(3), True, User.ref("u3"))
        assert len(page.items) == 3
        assert page.has_more is True
        assert page.cursor is not None and page.cursor.id == "u3"
        assert page.scope == INSTALLATION

    def test_scope_from_the_cursor_then_the_first_item_then_installation(self) -> None:
        ws = workspace("inst-1")
        refs = [User.ref("u1", ws)]
        assert MaxPage.from_refs([], True, User.ref("u9", ws)).scope == ws
        assert MaxPage.from_refs(refs, False).scope == ws
        assert MaxPage.from_refs([], False).scope == INSTALLATION

    def test_empty(self) -> None:
        page = MaxPage.empty()
        assert list(page.items) == []
        assert page.has_more is False
        assert page.cursor is None
        assert page.scope == INSTALLATION
        assert MaxPage.empty(workspace("i")).scope == workspace("i")

    def test_upgrade_scope_moves_items_cursor_and_page(self) -> None:
        local = MaxPage.from_refs(user_refs(2), True, User.ref("u2"))
        ws = workspace("inst-1")
        upgraded = local.upgrade_scope(ws)
        assert [r.scope for r in upgraded.items] == [ws, ws]
        assert [r.to_key() for r in upgraded.items] == ["ews:inst-1:User:u1", "ews:inst-1:User:u2"]
        assert upgraded.cursor is not None and upgraded.cursor.scope == ws
        assert upgraded.scope == ws
        assert upgraded.has_more is True
        # The original page is untouched.
        assert local.scope == INSTALLATION
        assert local.items[0].scope == INSTALLATION

    def test_to_page_uses_the_cursor_ref_key(self) -> None:
        refs = user_refs(2)
        cursor = User.ref("u2")
        page = MaxPage.from_refs(refs, True, cursor).to_page()
        assert list(page.items) == refs
        assert page.has_more is True
        assert page.cursor == cursor.to_key() == "ein:User:u2"

    def test_empty_max_page_to_empty_page(self) -> None:
        page = MaxPage.empty().to_page()
        assert (list(page.items), page.has_more, page.cursor) == ([], False, None)

    def test_from_page_parses_the_cursor_and_upgrades(self) -> None:
        plain = MaxPage.from_refs(user_refs(2), True, User.ref("u2")).to_page()
        ws = workspace("inst-7")
        page = MaxPage.from_page(plain, User, ws)
        assert page.scope == ws
        assert page.cursor is not None
        assert page.cursor.entity_def is User
        assert page.cursor.to_key() == "ews:inst-7:User:u2"
        assert [r.to_key() for r in page.items] == ["ews:inst-7:User:u1", "ews:inst-7:User:u2"]
        assert page.has_more is True

    def test_from_page_without_cursor(self) -> None:
        page = MaxPage.from_page(Page.from_next(user_refs(1), None), User, INSTALLATION)
        assert page.cursor is None
        assert page.has_more is False

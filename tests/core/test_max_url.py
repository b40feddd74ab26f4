"""Max URLs (reference ``max-url.test.ts``)."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    INSTALLATION,
    ErrInvalidMaxUrl,
    MaxError,
    MaxLevel,
    MaxUrl,
    WorkspaceScope,
)


def test_parse_global() -> None:
    url = MaxUrl.parse("max://@")
    assert url.level is MaxLevel.GLOBAL
    assert url.host == "@"
    assert url.workspace is None and url.installation is None
    assert url.is_local


def test_parse_workspace() -> None:
    url = MaxUrl.parse("max://@/my-team")
    assert url.level is MaxLevel.WORKSPACE
    assert url.workspace == "my-team"
    assert url.installation is None


def test_parse_installation() -> None:
    url = MaxUrl.parse("max://@/my-team/hubspot-prod")
    assert url.level is MaxLevel.INSTALLATION
    assert (url.workspace, url.installation) == ("my-team", "hubspot-prod")


def test_parse_remote_hosts() -> None:
    url = MaxUrl.parse("max://staging.max.internal/team")
    assert url.host == "staging.max.internal"
    assert not url.is_local
    assert url.scheme == "max"
    plain = MaxUrl.parse("max+http://localhost:7433/ws/inst")
    assert (plain.scheme, plain.host, plain.segments) == (
        "max+http",
        "localhost:7433",
        ("ws", "inst"),
    )
    assert not plain.is_local


def test_empty_segments_are_dropped() -> None:
    assert MaxUrl.parse("max://@//ws///inst/") == MaxUrl.for_installation("ws", "inst")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("http://@/ws", "Must start with max:// or max+http://"),
        ("@/ws", "Must start with max:// or max+http://"),
        ("max://", "Host segment required"),
        ("max:///", "Host segment required"),
        ("max://@/a/b/c", "Max 3 segments: host/workspace/installation"),
    ],
)
def test_rejects(text: str, reason: str) -> None:
    with pytest.raises(MaxError) as info:
        MaxUrl.parse(text)
    assert ErrInvalidMaxUrl.matches(info.value)
    assert info.value.has("BadInput")
    assert str(info.value) == f'Invalid Max URL "{text}" — {reason}'


@pytest.mark.parametrize(
    "text", ["max://@", "max://@/my-team", "max://@/my-team/hubspot", "max://remote.host/ws/inst"]
)
def test_round_trip(text: str) -> None:
    url = MaxUrl.parse(text)
    assert str(url) == text
    again = MaxUrl.parse(str(url))
    assert (again.host, again.segments, again.level) == (url.host, url.segments, url.level)


def test_max_http_round_trip() -> None:
    assert str(MaxUrl.parse("max+http://localhost:7433/ws")) == "max+http://localhost:7433/ws"


def test_parent_navigation() -> None:
    url = MaxUrl.parse("max://@/my-team/hubspot")
    workspace = url.parent()
    assert workspace is not None and str(workspace) == "max://@/my-team"
    root = workspace.parent()
    assert root is not None and str(root) == "max://@"
    assert root.parent() is None


def test_child_navigation() -> None:
    root = MaxUrl.global_()
    workspace = root.child("my-team")
    assert workspace.level is MaxLevel.WORKSPACE
    installation = workspace.child("hubspot")
    assert str(installation) == "max://@/my-team/hubspot"
    with pytest.raises(MaxError, match="Cannot add child below installation"):
        installation.child("more")


def test_factories() -> None:
    assert str(MaxUrl.global_()) == "max://@"
    assert str(MaxUrl.for_workspace("my-team")) == "max://@/my-team"
    assert str(MaxUrl.for_installation("my-team", "hubspot")) == "max://@/my-team/hubspot"
    assert str(MaxUrl.for_workspace("w", host="box:7433")) == "max://box:7433/w"


def test_to_relative() -> None:
    inst = MaxUrl.for_installation("ws", "inst")
    assert inst.to_relative(MaxUrl.for_workspace("ws")) == "inst"
    assert inst.to_relative(MaxUrl.global_()) == "ws/inst"
    assert MaxUrl.for_workspace("ws").to_relative(MaxUrl.global_()) == "ws"
    assert inst.to_relative(MaxUrl.for_workspace("other")) == "max://@/ws/inst"
    assert inst.to_relative(MaxUrl.global_("remote")) == "max://@/ws/inst"


def test_upgrade_scope_keeps_segments() -> None:
    url = MaxUrl.parse("max://@/ws/inst")
    upgraded = url.upgrade_scope(WorkspaceScope("inst-1"))
    assert upgraded.segments == url.segments and upgraded.host == url.host
    assert upgraded.scope == WorkspaceScope("inst-1")
    assert url.scope is None
    assert upgraded.upgrade_scope(INSTALLATION).scope == INSTALLATION

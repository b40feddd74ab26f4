"""Credential stores (in memory and ``credentials.json``) and the credential provider."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import trio

from maxtrio.connector import (
    Credential,
    CredentialProvider,
    ErrCredentialNotFound,
    ErrCredentialsFileExposed,
    ErrCredentialsFileInvalid,
    ErrInvalidCredentialValue,
    ErrOAuthNotRegistered,
    ErrOAuthRefreshFailed,
    ErrUnknownCredentialRef,
    FileCredentialStore,
    InMemoryCredentialStore,
    OAuthTokens,
    credential_names,
)
from maxtrio.core import MaxError


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- in-memory store ---------------------------------------------------------------------------


async def test_in_memory_store_round_trip_and_order() -> None:
    store = InMemoryCredentialStore({"b": "2"})
    await store.set("a", "1")
    assert await store.get("a") == "1"
    assert await store.has("b")
    assert await store.keys() == ["b", "a"]
    await store.delete("b")
    await store.delete("never-there")
    assert await store.keys() == ["a"]
    assert store.to_dict() == {"a": "1"}


async def test_in_memory_store_missing_key_is_credential_not_found() -> None:
    with pytest.raises(MaxError) as caught:
        await InMemoryCredentialStore().get("api_token")
    assert ErrCredentialNotFound.matches(caught.value)
    assert caught.value.message == 'Credential "api_token" not found'


async def test_in_memory_store_refuses_empty_values() -> None:
    with pytest.raises(MaxError) as caught:
        await InMemoryCredentialStore().set("api_token", "")
    assert ErrInvalidCredentialValue.matches(caught.value)


async def test_store_repr_never_shows_secrets(tmp_path: Path) -> None:
    store = InMemoryCredentialStore({"api_token": "sk-very-secret"})
    assert "sk-very-secret" not in repr(store)
    file_store = FileCredentialStore(tmp_path / "credentials.json")
    await file_store.set("api_token", "sk-very-secret")
    assert "sk-very-secret" not in repr(file_store)


# -- file store --------------------------------------------------------------------------------


async def test_missing_file_is_an_empty_store(tmp_path: Path) -> None:
    store = FileCredentialStore(tmp_path / "nowhere" / "credentials.json")
    assert await store.keys() == []
    assert not await store.has("api_token")
    await store.delete("api_token")  # deleting from nothing creates nothing
    assert not (tmp_path / "nowhere").exists()


async def test_first_write_creates_private_dirs_and_a_0600_file(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # the modes must not depend on a permissive umask
    try:
        path = tmp_path / ".max" / "installations" / "acme-1" / "credentials.json"
        await FileCredentialStore(path).set("api_token", "acme_123")
    finally:
        os.umask(old_umask)
    assert mode_of(path) == 0o600
    for directory in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert mode_of(directory) == 0o700, directory


async def test_file_format_is_the_reference_one(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.set("api_token", "acme_123")
    await store.set("other", "x")
    assert path.read_text() == '{\n  "api_token": "acme_123",\n  "other": "x"\n}'
    assert json.loads(path.read_text()) == {"api_token": "acme_123", "other": "x"}


async def test_every_call_rereads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.set("api_token", "old")
    path.write_text(json.dumps({"api_token": "edited elsewhere"}))  # keeps the file's 0600
    assert await store.get("api_token") == "edited elsewhere"
    assert await FileCredentialStore(path).keys() == ["api_token"]


async def test_update_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.set("api_token", "one")
    inode_before = path.stat().st_ino
    await store.update({"api_token": "two", "refresh": "r"})
    assert path.stat().st_ino != inode_before  # a new file was renamed over the old one
    assert await store.get("api_token") == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.json"]


async def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.set("api_token", "kept")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        await store.set("api_token", "lost")
    monkeypatch.undo()
    assert await store.get("api_token") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.json"]


async def test_delete_rewrites_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.update({"a": "1", "b": "2"})
    await store.delete("a")
    assert json.loads(path.read_text()) == {"b": "2"}
    assert mode_of(path) == 0o600


async def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = FileCredentialStore(tmp_path / "credentials.json")
    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(store.set, f"key{i}", f"value{i}")
    assert sorted(await store.keys()) == sorted(f"key{i}" for i in range(20))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"api_token": 42}', 'the value of "api_token" is not a string'),
        ('{"a": ' * 2000 + "1" + "}" * 2000, "it is nested too deeply"),
        ("[" * 2000 + "]" * 2000, "it is nested too deeply"),
    ],
    ids=["not-json", "array", "not-a-string", "deep-object", "deep-array"],
)
async def test_unusable_file_is_a_clear_error_without_values(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(MaxError) as caught:
        await FileCredentialStore(path).get("api_token")
    assert ErrCredentialsFileInvalid.matches(caught.value)
    assert reason in caught.value.message
    assert str(path) in caught.value.message
    # The value never shows (the path may hold any digits: pytest numbers its directories).
    assert "42" not in caught.value.message.replace(str(path), "")


@pytest.mark.parametrize(
    ("mode", "access"),
    [(0o644, "readable"), (0o666, "readable"), (0o604, "readable"), (0o620, "writable")],
)
async def test_a_file_others_may_access_is_refused_like_ssh_does(
    tmp_path: Path, mode: int, access: str
) -> None:
    path = tmp_path / "credentials.json"
    store = FileCredentialStore(path)
    await store.set("api_token", "s3cret-token")
    path.chmod(mode)
    for call in (store.get("api_token"), store.keys(), store.set("other", "value")):
        with pytest.raises(MaxError) as caught:
            await call
        assert ErrCredentialsFileExposed.matches(caught.value)
        assert caught.value.message == f"credentials file {path} is {access} by others"
        assert caught.value.data["hint"] == f"chmod 600 {path}"
        assert "s3cret" not in str(caught.value.data)
    assert json.loads(path.read_text()) == {"api_token": "s3cret-token"}  # nothing rewritten
    path.chmod(0o600)
    assert await store.get("api_token") == "s3cret-token"


# -- provider: string credentials ----------------------------------------------------------


async def test_string_handle_reads_the_store_on_every_call() -> None:
    store = InMemoryCredentialStore({"api_token": "first"})
    handle = CredentialProvider(store).get(Credential.string("api_token"))
    assert await handle.get() == "first"
    await store.set("api_token", "rotated")
    assert await handle.get() == "rotated"


async def test_string_handle_of_a_missing_credential_fails_on_get_not_before() -> None:
    handle = CredentialProvider(InMemoryCredentialStore()).get(Credential.string("api_token"))
    with pytest.raises(MaxError) as caught:
        await handle.get()
    assert ErrCredentialNotFound.matches(caught.value)


def test_unknown_ref_kind_is_an_invariant_error() -> None:
    with pytest.raises(MaxError) as caught:
        CredentialProvider(InMemoryCredentialStore()).get("api_token")  # type: ignore[arg-type]
    assert ErrUnknownCredentialRef.matches(caught.value)


# -- provider: OAuth ------------------------------------------------------------------------


class TokenServer:
    """A refresh endpoint stand-in: counts calls, rotates refresh tokens when asked."""

    def __init__(self, *, rotate: bool = False, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.rotate = rotate
        self.fail = fail

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        self.calls.append(refresh_token)
        await trio.sleep(0.1)
        if self.fail:
            raise RuntimeError("token endpoint said no")
        n = len(self.calls)
        return OAuthTokens(f"access-{n}", f"refresh-{n}" if self.rotate else None)


async def test_oauth_access_token_is_cached_until_it_expires(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = TokenServer()
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=60,
        refresh=server.refresh,
    )
    store = InMemoryCredentialStore({"refresh_token": "r0"})
    handle = CredentialProvider(store, [credential]).get(credential.access_token)
    assert await handle.get() == "access-1"
    await trio.sleep(30)
    assert await handle.get() == "access-1"
    assert len(server.calls) == 1
    await trio.sleep(31)
    assert await handle.get() == "access-2"
    assert server.calls == ["r0", "r0"]


async def test_concurrent_gets_share_one_refresh(autojump_clock: trio.abc.Clock) -> None:
    server = TokenServer()
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=60,
        refresh=server.refresh,
    )
    handle = CredentialProvider(InMemoryCredentialStore({"refresh_token": "r0"}), [credential]).get(
        credential
    )
    results: list[str] = []

    async def get() -> None:
        results.append(await handle.get())

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(get)
    assert results == ["access-1"] * 10
    assert len(server.calls) == 1


async def test_rotated_refresh_tokens_are_persisted(autojump_clock: trio.abc.Clock) -> None:
    server = TokenServer(rotate=True)
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=10,
        refresh=server.refresh,
    )
    store = InMemoryCredentialStore({"refresh_token": "r0"})
    handle = CredentialProvider(store, [credential]).get(credential.access_token)
    await handle.get()
    assert await store.get("refresh_token") == "refresh-1"
    await trio.sleep(11)
    await handle.get()
    assert server.calls == ["r0", "refresh-1"]


async def test_unregistered_oauth_access_token_fails_at_once() -> None:
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=10,
        refresh=TokenServer().refresh,
    )
    with pytest.raises(MaxError) as caught:
        CredentialProvider(InMemoryCredentialStore()).get(credential.access_token)
    assert ErrOAuthNotRegistered.matches(caught.value)
    assert caught.value.message == 'No OAuth credential registered for access token "access_token"'


async def test_failed_refresh_is_a_max_error_with_the_cause(autojump_clock: trio.abc.Clock) -> None:
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=10,
        refresh=TokenServer(fail=True).refresh,
    )
    provider = CredentialProvider(InMemoryCredentialStore({"refresh_token": "r0"}), [credential])
    with pytest.raises(MaxError) as caught:
        await provider.get(credential).get()
    assert ErrOAuthRefreshFailed.matches(caught.value)
    assert caught.value.cause is not None
    assert "token endpoint said no" in caught.value.cause.message


async def test_refresh_schedulers_refresh_at_90_percent_and_stop_on_cancel(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = TokenServer()
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=100,
        refresh=server.refresh,
    )
    provider = CredentialProvider.for_credentials(
        InMemoryCredentialStore({"refresh_token": "r0"}),
        [Credential.string("api_token"), credential],
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(provider.run_refresh_schedulers)
        await trio.sleep(89)
        assert server.calls == []
        await trio.sleep(2)  # 90 s + the refresh call's 0.1 s
        assert len(server.calls) == 1
        await trio.sleep(90)
        assert len(server.calls) == 2
        nursery.cancel_scope.cancel()
    await trio.sleep(1000)
    assert len(server.calls) == 2


async def test_scheduler_survives_a_failed_refresh(autojump_clock: trio.abc.Clock) -> None:
    server = TokenServer(fail=True)
    credential = Credential.oauth(
        access_token="access_token",
        refresh_token="refresh_token",
        expires_in=10,
        refresh=server.refresh,
    )
    provider = CredentialProvider(InMemoryCredentialStore({"refresh_token": "r0"}), [credential])
    with trio.move_on_after(30):
        await provider.run_refresh_schedulers()
    assert len(server.calls) == 3  # at 9, 18 and 27 s: failures are logged, not fatal


def test_credential_names_lists_both_oauth_names() -> None:
    credential = Credential.oauth(
        access_token="a", refresh_token="r", expires_in=1, refresh=TokenServer().refresh
    )
    assert credential_names([Credential.string("api_token"), credential]) == ["api_token", "a", "r"]


def test_oauth_needs_a_positive_lifetime() -> None:
    with pytest.raises(ValueError, match="expires_in"):
        Credential.oauth(
            access_token="a", refresh_token="r", expires_in=0, refresh=TokenServer().refresh
        )

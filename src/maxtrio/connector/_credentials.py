"""Credentials: declarations, the per-installation store, and the provider connectors read.

=======================  =========================================================================
thing                    job
=======================  =========================================================================
``Credential.string``    declares an API key/token stored under a name (``api_token``)
``Credential.oauth``     declares an access/refresh token pair with a lifetime and a refresh call
``CredentialStore``      dumb async key → string store, one per installation
``FileCredentialStore``  ``<installation dir>/credentials.json``: flat JSON, mode 0600 in 0700
                         directories, atomic replace (temp file + ``os.replace``) on every write;
                         a file others may read (0644, 0666…) is refused, as ssh refuses a key
``CredentialProvider``   what a connector sees: ``get(ref)`` returns a *handle* whose async
                         ``get()`` yields the secret when needed (string: read the store every
                         time; OAuth: a cached access token, refreshed when it expires)
=======================  =========================================================================

Secret values never appear in errors, reprs or logs: a store's repr shows its location only.
The OAuth access-token cache lives in memory and runs on ``trio.current_time()``, so tests drive
expiry with a ``MockClock``. :meth:`CredentialProvider.run_refresh_schedulers` refreshes every
OAuth credential at 90 % of its lifetime until cancelled — run it in the installation's nursery.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol, TypeAlias

import attrs
import trio

from maxtrio.core import MaxError

from ._errors import (
    ErrCredentialNotFound,
    ErrCredentialsFileExposed,
    ErrCredentialsFileInvalid,
    ErrInvalidCredentialValue,
    ErrOAuthNotRegistered,
    ErrOAuthRefreshFailed,
    ErrUnknownCredentialRef,
)

log = logging.getLogger("maxtrio.connector")

FILE_MODE = 0o600
DIR_MODE = 0o700

# -- declarations ------------------------------------------------------------------------------


@attrs.frozen
class StringCredential:
    """An API key or token stored under ``name``."""

    name: str
    kind: Literal["string"] = "string"


@attrs.frozen
class OAuthAccessRef:
    name: str
    kind: Literal["oauth-access"] = "oauth-access"


@attrs.frozen
class OAuthRefreshRef:
    name: str
    kind: Literal["oauth-refresh"] = "oauth-refresh"


@attrs.frozen(repr=False)
class OAuthTokens:
    """What a refresh call returns; a new ``refresh_token`` replaces the stored one."""

    access_token: str
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return "OAuthTokens(<redacted>)"


@attrs.frozen(eq=False)
class OAuthCredential:
    """An access token valid for ``expires_in`` seconds, renewed with ``refresh(refresh_token)``."""

    access_token: OAuthAccessRef
    refresh_token: OAuthRefreshRef
    expires_in: float
    refresh: Callable[[str], Awaitable[OAuthTokens]] = attrs.field(repr=False)
    kind: Literal["oauth"] = "oauth"


AnyCredential: TypeAlias = StringCredential | OAuthCredential
CredentialRef: TypeAlias = StringCredential | OAuthAccessRef | OAuthCredential


class Credential:
    """Constructors: ``Credential.string("api_token")``, ``Credential.oauth(...)``."""

    @staticmethod
    def string(name: str) -> StringCredential:
        return StringCredential(name)

    @staticmethod
    def oauth(
        *,
        access_token: str,
        refresh_token: str,
        expires_in: float,
        refresh: Callable[[str], Awaitable[OAuthTokens]],
    ) -> OAuthCredential:
        if not expires_in > 0:
            raise ValueError("expires_in must be a positive number of seconds")
        return OAuthCredential(
            OAuthAccessRef(access_token), OAuthRefreshRef(refresh_token), expires_in, refresh
        )


def credential_names(credentials: Iterable[AnyCredential]) -> list[str]:
    """The store keys a list of declarations uses (an OAuth credential uses two)."""
    names: list[str] = []
    for c in credentials:
        if isinstance(c, OAuthCredential):
            names += [c.access_token.name, c.refresh_token.name]
        else:
            names.append(c.name)
    return names


# -- stores ------------------------------------------------------------------------------------


class CredentialStore(Protocol):
    """A per-installation key → secret store. Missing keys raise ``credential_not_found``."""

    async def get(self, name: str) -> str: ...

    async def set(self, name: str, value: str) -> None: ...

    async def has(self, name: str) -> bool: ...

    async def delete(self, name: str) -> None:
        """Remove ``name``; removing a missing key is fine."""
        ...

    async def keys(self) -> list[str]:
        """Names in insertion order."""
        ...


def _check_value(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ErrInvalidCredentialValue(credential=name)
    return value


class InMemoryCredentialStore:
    """A store in a dict: onboarding collects into one, tests use it directly."""

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = {}
        for name, value in (initial or {}).items():
            self._values[name] = _check_value(name, value)

    def __repr__(self) -> str:
        return f"InMemoryCredentialStore(keys={list(self._values)})"

    async def get(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise ErrCredentialNotFound(credential=name) from None

    async def set(self, name: str, value: str) -> None:
        self._values[name] = _check_value(name, value)

    async def has(self, name: str) -> bool:
        return name in self._values

    async def delete(self, name: str) -> None:
        self._values.pop(name, None)

    async def keys(self) -> list[str]:
        return list(self._values)

    def to_dict(self) -> dict[str, str]:
        """A copy of every credential (to hand over to the installation's persistent store)."""
        return dict(self._values)


class FileCredentialStore:
    """``credentials.json`` of one installation: re-read on every call, replaced atomically.

    The format is the reference's (a flat JSON object, 2-space indent, no trailing newline), so
    either implementation reads the other's files. A missing file is an empty store. Writes
    create missing parent directories with mode 0700 and the file with mode 0600; a crash
    mid-write leaves the old file intact. File work runs in a worker thread.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = trio.Lock()

    def __repr__(self) -> str:
        return f"FileCredentialStore({str(self.path)!r})"

    async def get(self, name: str) -> str:
        values = await trio.to_thread.run_sync(self._read)
        try:
            return values[name]
        except KeyError:
            raise ErrCredentialNotFound(credential=name) from None

    async def set(self, name: str, value: str) -> None:
        _check_value(name, value)
        await self.update({name: value})

    async def update(self, values: Mapping[str, str]) -> None:
        """Write several credentials in one atomic replace."""
        checked = {name: _check_value(name, value) for name, value in values.items()}
        async with self._lock:
            await trio.to_thread.run_sync(self._merge, checked, ())

    async def has(self, name: str) -> bool:
        return name in await trio.to_thread.run_sync(self._read)

    async def delete(self, name: str) -> None:
        async with self._lock:
            await trio.to_thread.run_sync(self._merge, {}, (name,))

    async def keys(self) -> list[str]:
        return list(await trio.to_thread.run_sync(self._read))

    # -- blocking helpers (worker thread) --------------------------------------------------------

    def _read(self) -> dict[str, str]:
        try:
            check_private_file(self.path)
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ErrCredentialsFileInvalid(path=str(self.path), reason=exc.strerror) from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else ""
            raise ErrCredentialsFileInvalid(
                path=str(self.path),
                reason=reason or "it is not valid JSON",
                hint=f"fix the file, or remove it and connect again (max connect): {self.path}",
            ) from None
        if not isinstance(data, dict):
            raise ErrCredentialsFileInvalid(path=str(self.path), reason="it is not a JSON object")
        for key, value in data.items():
            if not isinstance(value, str):
                reason = f'the value of "{key}" is not a string'
                raise ErrCredentialsFileInvalid(path=str(self.path), reason=reason)
        return data

    def _merge(self, updates: Mapping[str, str], removals: Sequence[str]) -> None:
        values = self._read()
        if not updates and not any(name in values for name in removals):
            return
        values.update(updates)
        for name in removals:
            values.pop(name, None)
        write_private_file(self.path, json.dumps(values, indent=2))


def check_private_file(path: Path) -> None:
    """Refuse a secrets file that group or others may access (what ssh does with a key):
    ``connector.credentials_file_exposed`` with a ``chmod 600`` hint. A missing file raises
    ``FileNotFoundError``."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        access = "readable" if mode & 0o044 else "writable" if mode & 0o022 else "accessible"
        raise ErrCredentialsFileExposed(
            path=str(path), access=access, mode=f"{mode:04o}", hint=f"chmod 600 {path}"
        )


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents with mode 0700 (existing ones are left alone)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        path.chmod(DIR_MODE)  # mkdir's mode is masked by the umask


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``; the file has mode 0600 from its first byte."""
    make_private_dirs(path.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# -- the provider ------------------------------------------------------------------------------


class CredentialHandle(Protocol):
    """A lazy secret: ``await handle.get()`` when the secret is needed (e.g. in ``start()``)."""

    async def get(self) -> str: ...


@attrs.frozen
class _StringHandle:
    store: CredentialStore
    name: str

    async def get(self) -> str:
        return await self.store.get(self.name)


class _OAuthHandle:
    """Caches the access token until it expires; concurrent callers share one refresh."""

    def __init__(self, credential: OAuthCredential, store: CredentialStore) -> None:
        self.credential = credential
        self._store = store
        self._token: str | None = None
        self._expires_at = float("-inf")
        self._lock = trio.Lock()

    def __repr__(self) -> str:
        return f"<OAuth handle {self.credential.access_token.name}>"

    async def get(self) -> str:
        if self._token is not None and trio.current_time() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token is not None and trio.current_time() < self._expires_at:
                return self._token
            return await self._refresh()

    async def refresh(self) -> str:
        """Refresh now, whatever the cache says."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> str:
        cred = self.credential
        refresh_token = await self._store.get(cred.refresh_token.name)
        try:
            tokens = await cred.refresh(refresh_token)
        except Exception as exc:
            raise ErrOAuthRefreshFailed(accessToken=cred.access_token.name, cause=exc) from exc
        if not isinstance(tokens, OAuthTokens) or not tokens.access_token:
            raise ErrOAuthRefreshFailed(
                accessToken=cred.access_token.name,
                context="the refresh call returned no access token",
            )
        self._token = tokens.access_token
        self._expires_at = trio.current_time() + cred.expires_in
        if tokens.refresh_token:
            await self._store.set(cred.refresh_token.name, tokens.refresh_token)
        return self._token


class CredentialProvider:
    """What ``initialise(config, platform)`` receives as ``platform.credentials``.

    ``oauth`` lists the OAuth credentials the connector declares (the platform registers the
    ``credentials`` of the ConnectorDef); asking for an access token that is not registered
    fails at once with ``connector.oauth_not_registered``.
    """

    def __init__(self, store: CredentialStore, oauth: Iterable[OAuthCredential] = ()) -> None:
        self.store = store
        self._oauth = {c.access_token.name: _OAuthHandle(c, store) for c in oauth}

    def __repr__(self) -> str:
        return f"CredentialProvider({self.store!r})"

    @classmethod
    def for_credentials(
        cls, store: CredentialStore, credentials: Iterable[AnyCredential]
    ) -> CredentialProvider:
        return cls(store, [c for c in credentials if isinstance(c, OAuthCredential)])

    def get(self, ref: CredentialRef) -> CredentialHandle:
        if isinstance(ref, StringCredential):
            return _StringHandle(self.store, ref.name)
        if isinstance(ref, OAuthCredential):
            ref = ref.access_token
        if isinstance(ref, OAuthAccessRef):
            handle = self._oauth.get(ref.name)
            if handle is None:
                raise ErrOAuthNotRegistered(accessToken=ref.name)
            return handle
        raise ErrUnknownCredentialRef(kind=getattr(ref, "kind", type(ref).__name__))

    async def run_refresh_schedulers(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Refresh each OAuth token every ``0.9 × expires_in`` seconds until cancelled.

        A failed refresh is logged and retried on the next tick (or by the next ``get()``).
        """
        async with trio.open_nursery() as nursery:
            for handle in self._oauth.values():
                nursery.start_soon(_refresh_forever, handle)
            task_status.started()


async def _refresh_forever(handle: _OAuthHandle) -> None:
    interval = 0.9 * handle.credential.expires_in
    while True:
        await trio.sleep(interval)
        try:
            await handle.refresh()
        except MaxError as err:
            log.warning("scheduled OAuth refresh failed: %s", err.message)

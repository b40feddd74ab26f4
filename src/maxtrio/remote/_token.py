"""The bearer token of ``max serve``: where it lives, how it is made, how it is checked.

A server always requires a token. Without ``--token-file`` it is ``<root>/.max/serve-token``,
generated (32 random bytes, URL-safe text) on the first start and kept for later starts, so
clients configured once keep working. ``--token-file F`` reads ``F`` — or creates it with a
fresh token when it does not exist. Files are written 0600, atomically.

:class:`ServeToken` compares what a request presents in constant time
(:func:`hmac.compare_digest`) and never shows its value: ``repr`` hides it, and no message of
this package contains it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from ._errors import ErrTokenFileUnusable

TOKEN_FILE_NAME = "serve-token"
#: Shortest token accepted from a file (a guessable token is no protection).
MIN_TOKEN_CHARS = 16
MAX_TOKEN_CHARS = 4096


class ServeToken:
    """The server's token (see the module docstring)."""

    def __init__(self, value: str, path: Path) -> None:
        self._value = value.encode("utf-8")
        self.path = path

    def __repr__(self) -> str:
        return f"ServeToken(<hidden>, path={str(self.path)!r})"

    def reveal(self) -> str:
        """The token itself — only for ``max serve -o json``, which prints it on purpose."""
        return self._value.decode("utf-8")

    def accepts(self, authorization: str | None) -> bool:
        """True iff ``authorization`` (an ``Authorization`` header value) is ``Bearer <token>``."""
        if authorization is None:
            return False
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credential.strip().encode("utf-8"), self._value)


def default_token_path(root: Path) -> Path:
    return root / ".max" / TOKEN_FILE_NAME


def load_or_create_token(path: Path) -> ServeToken:
    """The token in ``path``, or a fresh one written there (0600) when the file is missing.
    A file that cannot be read, is empty, too short or too long → ``remote.token_file_unusable``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ServeToken(_write_new_token(path), path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ErrTokenFileUnusable(path=str(path), reason=reason) from None
    value = text.strip()
    if len(value) < MIN_TOKEN_CHARS:
        raise ErrTokenFileUnusable(
            path=str(path),
            reason=f"a token needs at least {MIN_TOKEN_CHARS} characters",
            hint=f"delete it to have a new one generated, or write a longer one into {path}",
        )
    if len(value) > MAX_TOKEN_CHARS or any(c.isspace() for c in value):
        raise ErrTokenFileUnusable(
            path=str(path), reason="a token is one word of at most 4096 characters"
        )
    return ServeToken(value, path)


def _write_new_token(path: Path) -> str:
    value = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(value + "\n")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ErrTokenFileUnusable(path=str(path), reason=exc.strerror or str(exc)) from None
    return value

"""The error system: boundaries, error definitions, facets and the one ``MaxError`` type.

Errors are values with a code. A :class:`Boundary` owns a domain (``storage``, ``core``…) and
defines errors in it; each :class:`ErrorDef` creates :class:`MaxError` instances carrying a
code (``storage.entity_not_found``), structured ``data``, facet names for catch-site logic
(``NotFound``, ``BadInput``…), a one-line message and an optional cause (always a MaxError, also
set as Python's ``__cause__`` so tracebacks show the chain).

Errors cross process boundaries in two JSON forms: :meth:`MaxError.to_json` (logging) and
:meth:`MaxError.to_wire` / :meth:`MaxError.from_wire` (RPC, the daemon socket).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, overload

import attrs

P = ParamSpec("P")
T = TypeVar("T")

_EM_DASH_SEP = " \u2014 "


@attrs.frozen
class Facet:
    """A reusable trait of errors, identified by name; data facets declare the keys they carry."""

    name: str
    keys: tuple[str, ...] = ()

    @property
    def is_marker(self) -> bool:
        return not self.keys


NotFound = Facet("NotFound")
BadInput = Facet("BadInput")
NotImplementedFacet = Facet("NotImplemented")
NotSupported = Facet("NotSupported")
NotAvailable = Facet("NotAvailable")
InvariantViolated = Facet("InvariantViolated")
Retryable = Facet("Retryable")  # a transient failure (429, 5xx, dropped connection): try again
HasEntityRef = Facet("HasEntityRef", ("entityType", "entityId"))
HasEntityField = Facet("HasEntityField", ("entityType", "field"))
HasEntityType = Facet("HasEntityType", ("entityType",))
HasLoaderName = Facet("HasLoaderName", ("loaderName",))
HasConnector = Facet("HasConnector", ("connector",))


class MaxError(Exception):
    """The one error type of maxtrio. Create instances through an :class:`ErrorDef`."""

    code: str
    domain: str
    message: str
    context: str | None
    data: dict[str, Any]
    facet_names: tuple[str, ...]
    cause: MaxError | None

    def __init__(
        self,
        *,
        code: str,
        domain: str,
        message: str,
        data: Mapping[str, Any] | None = None,
        facet_names: Sequence[str] = (),
        context: str | None = None,
        cause: MaxError | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.domain = domain
        self.message = message
        self.context = context
        self.data = dict(data or {})
        self.facet_names = tuple(facet_names)
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    # -- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"MaxError[{self.code}]"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{self.name}({self.message!r})"

    def has(self, facet: Facet | str) -> bool:
        """True when this error carries ``facet`` (compared by name)."""
        name = facet if isinstance(facet, str) else facet.name
        return name in self.facet_names

    # -- discrimination helpers (static forms accept anything) -------------------------------

    @staticmethod
    def is_max_error(value: object) -> bool:
        return isinstance(value, MaxError)

    @staticmethod
    def has_facet(value: object, facet: Facet | str) -> bool:
        return isinstance(value, MaxError) and value.has(facet)

    @staticmethod
    def in_domain(value: object, domain: str) -> bool:
        return isinstance(value, MaxError) and value.domain == domain

    def enrich(self, facet: Facet, **partial: Any) -> MaxError:
        """Merge ``partial`` into ``data`` and add ``facet``; the one sanctioned mutation."""
        self.data.update(partial)
        if facet.name not in self.facet_names:
            self.facet_names = (*self.facet_names, facet.name)
        return self

    # -- conversion --------------------------------------------------------------------------

    @staticmethod
    def wrap(value: object) -> MaxError:
        """Convert anything into a MaxError without adding a layer."""
        if isinstance(value, MaxError):
            return value
        if isinstance(value, BaseException):
            err = MaxError(code=type(value).__name__, domain="uncaught", message=str(value))
            err.__cause__ = value
            err.__traceback__ = value.__traceback__
            return err
        return MaxError(code="uncaught", domain="uncaught", message=str(value))

    # -- serialisation -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The logging form: code, domain, message, data, facets, stack, context?, cause?."""
        out: dict[str, Any] = {
            "code": self.code,
            "domain": self.domain,
            "message": self.message,
            "data": _json_safe(self.data),
            "facets": list(self.facet_names),
            "stack": "".join(traceback.format_exception(self)),
        }
        if self.context is not None:
            out["context"] = self.context
        if self.cause is not None:
            out["cause"] = self.cause.to_json()
        return out

    def to_wire(self) -> dict[str, Any]:
        """The RPC form: ``{message, code, boundary, facets, data, cause?}``."""
        out: dict[str, Any] = {
            "message": self.message,
            "code": self.code,
            "boundary": self.domain,
            "facets": list(self.facet_names),
            "data": _json_safe(self.data),
        }
        if self.cause is not None:
            out["cause"] = self.cause.to_wire()
        return out

    @staticmethod
    def serialize(value: object) -> dict[str, Any]:
        """Wire form of any thrown value: a MaxError's full form, else just a message."""
        if isinstance(value, MaxError):
            return value.to_wire()
        return {"message": str(value)}

    @staticmethod
    def from_wire(wire: Mapping[str, Any]) -> MaxError:
        """Rebuild a MaxError from its wire form; missing parts get ``unknown`` defaults."""
        cause_wire = wire.get("cause")
        cause = MaxError.from_wire(cause_wire) if isinstance(cause_wire, Mapping) else None
        facets = wire.get("facets") or ()
        data = wire.get("data")
        return MaxError(
            code=str(wire.get("code") or "unknown"),
            domain=str(wire.get("boundary") or "unknown"),
            message=str(wire.get("message", "")),
            data=dict(data) if isinstance(data, Mapping) else {},
            facet_names=tuple(str(f) for f in facets if isinstance(f, str)),
            cause=cause,
        )

    # -- rendering ---------------------------------------------------------------------------

    def pretty(self, *, color: bool = False, include_stack: bool = False) -> str:
        """Multi-line debug rendering: header, data, cause chain, optional stack."""

        def red(s: str) -> str:
            return f"\x1b[31m{s}\x1b[0m" if color else s

        def dim(s: str) -> str:
            return f"\x1b[2m{s}\x1b[0m" if color else s

        lines = [f"MaxError[{red(self.code)}]: {self.message}"]
        depth = 0
        err: MaxError | None = self
        while err is not None:
            indent = "  " * (depth + 1)
            last = err.cause is None
            if err.data:
                lines.append(f"{indent}{dim('└' if last else '├')} data: {_render_data(err.data)}")
            if err.cause is not None:
                c = err.cause
                lines.append(f"{indent}{dim('└')} caused by: [{red(c.code)}]: {c.message}")
            err = err.cause
            depth += 1
        if include_stack:
            lines.append(dim("➝ Stack trace:"))
            lines.extend(
                "  " + ln.rstrip("\n") for ln in traceback.format_tb(self.__traceback__) if ln
            )
        return "\n".join(lines)


def _render_data(data: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k}: {v!r}" for k, v in data.items())
    return "{ " + inner + " }"


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return str(value)


MessageSpec = str | Callable[[Mapping[str, Any]], str]


def _format_message(spec: MessageSpec, data: Mapping[str, Any]) -> str:
    if callable(spec):
        return spec(data)
    try:
        return spec.format_map(_MissingAsBraces(data))
    except (ValueError, IndexError):
        return spec


class _MissingAsBraces(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@attrs.frozen(eq=False)
class ErrorDef:
    """One error kind: a full code, its domain, facets and a message template.

    The message is either a ``str.format`` template over the error's data
    (``"{entityType} not found: {entityId}"``) or a function of the data.
    """

    code: str
    domain: str
    facets: tuple[Facet, ...] = ()
    message: MessageSpec = ""

    def create(
        self,
        data: Mapping[str, Any] | None = None,
        context: str | None = None,
        cause: object = None,
    ) -> MaxError:
        payload = dict(data or {})
        text = _format_message(self.message, payload) or self.code
        if context:
            text = f"{text}{_EM_DASH_SEP}{context}"
        return MaxError(
            code=self.code,
            domain=self.domain,
            message=text,
            data=payload,
            facet_names=tuple(f.name for f in self.facets),
            context=context,
            cause=MaxError.wrap(cause) if cause is not None else None,
        )

    def __call__(self, context: str | None = None, cause: object = None, **data: Any) -> MaxError:
        """Shorthand: ``ErrEntityNotFound(entityType="T", entityId="1")``."""
        return self.create(data, context=context, cause=cause)

    def matches(self, value: object) -> bool:
        """True iff ``value`` is a MaxError with exactly this code."""
        return isinstance(value, MaxError) and value.code == self.code

    @contextlib.contextmanager
    def wrapping(self, data: Mapping[str, Any] | None = None) -> Iterator[None]:
        """Intent wrap: anything raised inside becomes this error, with the original as cause."""
        try:
            yield
        except Exception as exc:
            err = self.create(data, cause=exc)
            raise err from err.cause

    @overload
    def wrap(self, fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...
    @overload
    def wrap(self, fn: Callable[P, T]) -> Callable[P, T]: ...
    def wrap(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        """Decorator form of :meth:`wrapping` for sync and async functions."""
        return _decorate(fn, self.wrapping)


class Boundary:
    """A domain that owns a set of errors; its thin error is ``<domain>.error``."""

    def __init__(self, domain: str, custom_props: Sequence[str] = ()) -> None:
        self.domain = domain
        self.custom_props = tuple(custom_props)
        self.error = ErrorDef(code=f"{domain}.error", domain=domain, message=f"{domain} error")

    def __repr__(self) -> str:
        return f"Boundary({self.domain!r})"

    def define(
        self, code: str, *, facets: Sequence[Facet] = (), message: MessageSpec = ""
    ) -> ErrorDef:
        return ErrorDef(
            code=f"{self.domain}.{code}", domain=self.domain, facets=tuple(facets), message=message
        )

    def owns(self, value: object) -> bool:
        """True iff ``value`` is a MaxError of this boundary's domain."""
        return MaxError.in_domain(value, self.domain)

    @contextlib.contextmanager
    def wrapping(self, data: Mapping[str, Any] | None = None) -> Iterator[None]:
        """Domain entry: same-domain MaxErrors pass, anything else becomes ``<domain>.error``."""
        try:
            yield
        except MaxError as exc:
            if exc.domain == self.domain:
                raise
            raise self.error.create(data, cause=exc) from exc
        except Exception as exc:
            err = self.error.create(data, cause=exc)
            raise err from err.cause

    @overload
    def wrap(self, fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...
    @overload
    def wrap(self, fn: Callable[P, T]) -> Callable[P, T]: ...
    def wrap(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        return _decorate(fn, self.wrapping)


def define_error(code: str, *, facets: Sequence[Facet] = (), message: MessageSpec = "") -> ErrorDef:
    """A standalone error: the domain is the text before the first ``.`` (or the whole code)."""
    domain = code.split(".", 1)[0]
    return ErrorDef(code=code, domain=domain, facets=tuple(facets), message=message)


def _decorate(
    fn: Callable[P, Any], cm: Callable[[], contextlib.AbstractContextManager[None]]
) -> Callable[P, Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            with cm():
                return await fn(*args, **kwargs)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        with cm():
            return fn(*args, **kwargs)

    return wrapper

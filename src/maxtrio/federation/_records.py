"""The values the federation layer hands out and persists: workspace and installation records,
deployment configs, resolved targets, node health, sync summaries.

Records are frozen attrs classes. Their JSON form (camelCase keys, the reference's key order) is
defined once on the shared cattrs converter (``maxtrio.core.converter``), so files, RPC messages
and ``-o json`` output all read and write them the same way; structuring a malformed record
raises a ``core.invalid_wire_value`` naming the field.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from maxtrio.core import MaxLevel, MaxUrl, converter

from ._errors import ErrInvariant

if TYPE_CHECKING:
    from ._installation import InstallationMax
    from ._workspace import WorkspaceMax

T = TypeVar("T")

IN_PROCESS = "in-process"
IN_PROCESS_LOCATOR = '{"strategy":"in-process"}'


def now_iso() -> str:
    """Now as the reference writes it: ISO-8601 UTC with milliseconds, ``…T10:31:07.412Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


@attrs.frozen
class DeploymentConfig:
    """How and where a node is hosted: ``{"strategy": "in-process", "dataDir": …, …}``.

    ``data_dir`` is absolute in memory; the installation registry stores it relative to
    ``max.json``. ``store`` is the password-free label of the PostgreSQL store an installation
    keeps its data in (``postgresql://host:port/db``; None: its ``data.db``); the URL itself is
    a credential in the data directory (``_store_choice``). Keys this version does not know
    are kept in ``extra`` and written back.
    """

    strategy: str = IN_PROCESS
    data_dir: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    store: str | None = None

    @classmethod
    def in_process(
        cls, data_dir: str | os.PathLike[str], store: str | None = None
    ) -> DeploymentConfig:
        return cls(IN_PROCESS, os.fspath(data_dir), store=store)


@attrs.frozen
class WorkspaceSpec:
    name: str


@attrs.frozen
class WorkspaceInfo:
    """One entry of ``~/.max/workspaces.json``."""

    id: str
    name: str
    connected_at: str
    config: DeploymentConfig
    spec: WorkspaceSpec

    @property
    def data_dir(self) -> Path:
        """``<root>/.max``."""
        if self.config.data_dir is None:
            raise ErrInvariant(detail=f'workspace "{self.name}" has no dataDir')
        return Path(self.config.data_dir)

    @property
    def root(self) -> Path:
        """The project directory (the one holding ``max.json``)."""
        return self.data_dir.parent

    @property
    def url(self) -> MaxUrl:
        return MaxUrl.for_workspace(self.name)


@attrs.frozen
class InstallationSpec:
    """What to build: which connector, under which name, with which (non-secret) config."""

    connector: str
    name: str
    connector_config: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class InstallationInfo:
    """One entry of ``max.json``'s ``installations`` (keyed by ``name``)."""

    id: str
    connector: str
    name: str
    connected_at: str
    deployment: DeploymentConfig
    locator: str
    spec: InstallationSpec

    @property
    def data_dir(self) -> Path:
        """``<root>/.max/installations/<name>`` (absolute)."""
        if self.deployment.data_dir is None:
            raise ErrInvariant(detail=f'installation "{self.name}" has no dataDir')
        return Path(self.deployment.data_dir)

    @property
    def config(self) -> dict[str, Any]:
        """The connector config (the onboarding result)."""
        return dict(self.spec.connector_config)


@attrs.frozen(eq=False)
class ResolvedTarget:
    """A resolved Max URL: its level and the live nodes down to it."""

    url: MaxUrl
    level: MaxLevel
    workspace: WorkspaceMax | None = None
    installation: InstallationMax | None = None


# -- the JSON form, registered on the shared converter ------------------------------------------


def _unstructure_deployment(config: DeploymentConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"strategy": config.strategy}
    if config.data_dir is not None:
        out["dataDir"] = config.data_dir
    if config.store is not None:
        out["store"] = config.store
    out.update(config.extra)
    return out


def _structure_deployment(value: Any, _: type) -> DeploymentConfig:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    strategy = value.get("strategy")
    data_dir = value.get("dataDir")
    if not isinstance(strategy, str) or not strategy:
        raise ValueError('"strategy" must be a non-empty string')
    if data_dir is not None and (not isinstance(data_dir, str) or not data_dir):
        raise ValueError('"dataDir" must be a non-empty string')
    if data_dir is None and strategy == IN_PROCESS:
        raise ValueError('an in-process deployment needs a "dataDir"')
    store = value.get("store")
    if store is not None and (not isinstance(store, str) or not store):
        raise ValueError('"store" must be a non-empty string')
    extra = {k: v for k, v in value.items() if k not in ("strategy", "dataDir", "store")}
    return DeploymentConfig(strategy, data_dir, extra, store)


converter.register_unstructure_hook(DeploymentConfig, _unstructure_deployment)
converter.register_structure_hook(DeploymentConfig, _structure_deployment)


def camel_hooks(cls: type, **renames: str) -> None:
    overrides = {name: override(rename=key) for name, key in renames.items()}
    converter.register_unstructure_hook(
        cls,
        make_dict_unstructure_fn(cls, converter, **overrides),  # type: ignore[arg-type]
    )
    converter.register_structure_hook(
        cls,
        _objects_only(make_dict_structure_fn(cls, converter, **overrides)),  # type: ignore[arg-type]
    )


def _objects_only(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A structure hook that says "expected an object" for anything but a mapping."""

    def structure(value: Any, cls: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError("expected an object")
        return hook(value, cls)

    return structure


camel_hooks(WorkspaceSpec)
camel_hooks(WorkspaceInfo, connected_at="connectedAt")
camel_hooks(InstallationSpec, connector_config="connectorConfig")


def _unstructure_installation(info: InstallationInfo) -> dict[str, Any]:
    """The reference's key order; ``name`` is the entry's key in ``max.json``, not a field."""
    return {
        "id": info.id,
        "connector": info.connector,
        "connectedAt": info.connected_at,
        "deployment": converter.unstructure(info.deployment),
        "locator": info.locator,
        "spec": converter.unstructure(info.spec),
    }


converter.register_structure_hook(
    InstallationInfo,
    _objects_only(
        make_dict_structure_fn(
            InstallationInfo, converter, connected_at=override(rename="connectedAt")
        )
    ),
)
converter.register_unstructure_hook(InstallationInfo, _unstructure_installation)


class RecordProblem(ValueError):
    """Why a JSON value is not a valid record, as ``<json path>: <problem>`` lines."""


_JSON_NAMES = {"connected_at": "connectedAt", "connector_config": "connectorConfig"}
_TYPE_WORDS = {str: "a string", int: "an integer", bool: "true or false", dict: "an object"}


def structure_record(value: Any, cls: type[T]) -> T:
    """Structure a record from JSON, or raise :class:`RecordProblem` naming the JSON path
    (``spec.connectorConfig: expected an object``)."""
    if not isinstance(value, Mapping):
        raise RecordProblem("expected an object")
    try:
        return converter.structure(value, cls)
    except cattrs.BaseValidationError as exc:
        notes = cattrs.transform_error(exc, path="", format_exception=_format_problem)
        raise RecordProblem("; ".join(_json_path(note) for note in notes)) from None
    except (ValueError, TypeError) as exc:
        raise RecordProblem(str(exc)) from None


def _format_problem(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, AttributeError | TypeError) and getattr(type_, "__origin__", type_) in (
        dict,
        None,
    ):
        return "expected an object"
    if type_ in _TYPE_WORDS and isinstance(exc, ValueError | TypeError):
        return f"expected {_TYPE_WORDS[type_]}"
    if isinstance(exc, ValueError | TypeError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def _json_path(note: str) -> str:
    problem, _, path = note.rpartition(" @ ")
    parts = [_JSON_NAMES.get(p, p) for p in path.lstrip(".").split(".") if p]
    return f"{'.'.join(parts)}: {problem}" if parts else problem

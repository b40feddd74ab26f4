"""Entry points of installed distributions, read straight from their metadata folders.

What ``importlib.metadata.entry_points(group=…)`` answers, for the path-based distributions
every installer writes (``*.dist-info`` and ``*.egg-info`` folders on ``sys.path``), without
importing ``importlib.metadata`` (and the ``email``, ``zipfile`` and ``csv`` modules it brings)
or building a ``Distribution`` per installed package: each ``sys.path`` folder is listed once
and only the ``entry_points.txt`` files that exist are read. ``max ls`` and ``max status``
discover connectors this way on every run, so it is part of their start-up.

The same rules as ``importlib.metadata``: a distribution found in several ``sys.path`` entries
counts once, the first one (names compared normalised: lower case, runs of ``-_.`` as ``_``);
an ``''`` entry is the current directory. Entries that are files (zip archives) are read by
``importlib.metadata`` itself, imported only then.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import NamedTuple

_INFO_SUFFIXES = (".dist-info", ".egg-info")
_SEPARATORS = re.compile(r"[-_.]+")
#: ``module``, ``module:attr.sub`` with optional ``[extras]`` (the entry-point value syntax).
_VALUE = re.compile(r"\s*([\w.]+)\s*(?::\s*([\w.]+)\s*)?(?:\[.*\]\s*)?")


class EntryPointSpec(NamedTuple):
    """One entry point: ``name = value`` in ``[group]`` of ``dist``'s ``entry_points.txt``."""

    name: str
    value: str
    group: str
    dist: str

    def load(self) -> object:
        """Import the module and follow the attribute path (``ValueError`` on a bad value)."""
        return load_object(self.value, f"entry point {self.name!r}")


def load_object(value: str, what: str = "the reference") -> object:
    """The object ``value`` names in the entry-point syntax (``module:attr.sub``): the module
    imported, the attribute path followed (``ValueError`` naming ``what`` on a bad value)."""
    match = _VALUE.fullmatch(value)
    if match is None:
        raise ValueError(f"{what} has an unreadable value {value!r}")
    module, attribute = match.groups()
    loaded: object = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        loaded = getattr(loaded, part)
    return loaded


def entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPointSpec]:
    """Every entry point of ``group`` on ``path`` (default ``sys.path``), in discovery order."""
    found: list[EntryPointSpec] = []
    seen: set[str] = set()
    for entry in sys.path if path is None else path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            found += _from_archive(folder, group, seen)
            continue
        except OSError:
            continue
        for name in names:
            if not name.endswith(_INFO_SUFFIXES):
                continue
            dist = _normalised(name)
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError):
                continue
            found += parse_entry_points(text, group, dist)
    return found


def parse_entry_points(text: str, group: str, dist: str = "") -> list[EntryPointSpec]:
    """The ``group`` section of an ``entry_points.txt`` (INI: ``[group]``, ``name = value``)."""
    found: list[EntryPointSpec] = []
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            section = line[1:-1].strip()
            continue
        if section != group:
            continue
        name, sep, value = line.partition("=")
        if sep and name.strip():
            found.append(EntryPointSpec(name.strip(), value.strip(), group, dist))
    return found


def _normalised(info_folder: str) -> str:
    """``Foo.Bar-1.0.dist-info`` → ``foo_bar`` (the distribution name, normalised)."""
    stem = info_folder.rsplit(".", 1)[0]
    return _SEPARATORS.sub("_", stem.split("-", 1)[0]).lower()


def _from_archive(archive: str, group: str, seen: set[str]) -> list[EntryPointSpec]:
    """A zip archive on ``sys.path``: its distributions as ``importlib.metadata`` reads them."""
    import importlib.metadata

    found: list[EntryPointSpec] = []
    for distribution in importlib.metadata.distributions(path=[archive]):
        name = distribution.metadata["Name"] or ""
        dist = _SEPARATORS.sub("_", name).lower()
        if not dist or dist in seen:
            continue
        seen.add(dist)
        found += [
            EntryPointSpec(ep.name, ep.value, group, dist)
            for ep in distribution.entry_points
            if ep.group == group
        ]
    return found

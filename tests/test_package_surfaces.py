"""Every package's public surface resolves: each name of ``__all__`` can be taken from it.

The lazy surfaces (``maxtrio._lazy``) list their names three times — imports for the type
checker, ``name → module`` for the runtime, and ``__all__`` — and only the runtime list is
what ``from maxtrio.core import X`` uses, so a name in ``__all__`` that the runtime list lacks
(or names in the wrong module) type-checks and fails at the first import. This test catches
that for every package.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import maxtrio


def _packages() -> list[str]:
    found = ["maxtrio"]
    for module in pkgutil.walk_packages(maxtrio.__path__, "maxtrio."):
        if module.ispkg and not module.name.rsplit(".", 1)[-1].startswith("_"):
            found.append(module.name)
    return found


@pytest.mark.parametrize("name", _packages())
def test_every_public_name_resolves(name: str) -> None:
    package = importlib.import_module(name)
    public = list(getattr(package, "__all__", ()))
    for attribute in public:
        getattr(package, attribute)  # AttributeError: listed but not there
    lazy = getattr(package, "_SOURCES", None) or getattr(package, "_LAZY", None) or {}
    assert set(lazy) <= set(public), sorted(set(lazy) - set(public))
    assert len(public) == len(set(public)), "a name listed twice in __all__"

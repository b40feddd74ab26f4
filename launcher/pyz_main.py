"""``__main__.py`` of ``max.pyz`` (put there by ``build_pyz.py`` in place of shiv's own).

shiv's bootstrap extracts the zipapp's packages to ``~/.shiv/<name>_<build id>/`` (or
``$SHIV_ROOT``) on the first run; on every run it imports ``zipfile``, ``subprocess``,
``compileall``, ``hashlib`` and more before it reaches our entry point — about 25 ms, more than
the rest of a warm ``max`` command. This module takes the short way when the extracted copy
is already there: the build id comes from ``environment.json`` through the zip importer that
is running us (no ``zipfile``), the directory goes on ``sys.path`` the way shiv puts it (before
the interpreter's own site-packages), and the launcher runs. Anything else — the first run, or
one of shiv's ``SHIV_*`` switches — goes through shiv's bootstrap unchanged.
"""

import os
import sys

# Before anything else (shiv's bootstrap included), an older interpreter gets one clear line:
# this file itself parses on Python >= 3.6.
_OLDEST = (3, 11)
if sys.version_info < _OLDEST:
    _found = ".".join(str(part) for part in sys.version_info[:3])
    sys.stderr.write(
        f"Error: max needs Python 3.11 or newer (this is {_found})\n"
        f"Hint: run it with python3.11 or newer: python3.11 {os.path.basename(sys.argv[0])} ...\n"
    )
    sys.exit(1)

_SHIV_SWITCHES = (
    "SHIV_FORCE_EXTRACT",
    "SHIV_INTERPRETER",
    "SHIV_ENTRY_POINT",
    "SHIV_CONSOLE_SCRIPT",
    "SHIV_MODULE",
    "SHIV_PREPEND_PYTHONPATH",
    "SHIV_EXTEND_PYTHONPATH",
)


def _json_string(text, key):
    """The string value of ``"key": "..."`` in shiv's flat environment.json, or None."""
    marker = f'"{key}": "'
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return text[start : text.index('"', start)]


def _extracted_site_packages():
    if any(os.environ.get(name) for name in _SHIV_SWITCHES):
        return None
    loader = globals().get("__loader__")
    get_data = getattr(loader, "get_data", None)
    if get_data is None:
        return None
    archive = sys.argv[0]
    try:
        text = get_data(os.path.join(archive, "environment.json")).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    build_id = _json_string(text, "build_id")
    if not build_id:
        return None
    root = os.environ.get("SHIV_ROOT") or _json_string(text, "root")
    if root:
        if root.startswith("$"):
            root = os.environ.get(root[1:], root[1:])
        root = os.path.expanduser(root)
    else:
        root = os.path.expanduser("~/.shiv")
    name = os.path.basename(os.path.realpath(archive))
    site_packages = os.path.join(root, f"{name}_{build_id}", "site-packages")
    return site_packages if os.path.isdir(site_packages) else None


def _add_site_packages(site_packages):
    import site

    length = len(sys.path)
    index = next(
        (
            i
            for i, part in enumerate(sys.path)
            if os.path.basename(part) in ("site-packages", "dist-packages")
        ),
        length,
    )
    site.addsitedir(site_packages)
    sys.path = sys.path[:index] + sys.path[length:] + sys.path[index:length]


_site_packages = _extracted_site_packages()
if _site_packages is None:
    import _bootstrap

    _bootstrap.bootstrap()
else:
    _add_site_packages(_site_packages)
    from max_launcher import pyz_main

    sys.exit(pyz_main())

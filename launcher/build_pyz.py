"""Build ``dist/max.pyz``: maxtrio and every dependency in one file that any Python ≥ 3.11 runs.

::

    python launcher/build_pyz.py [-o dist/max.pyz] [--abi 3.12 --abi 3.13 …]

1. ``pip install --target <tmp>/site-packages <this checkout>`` — maxtrio, the stdlib launcher
   (``max_launcher``) and the runtime dependencies (no dev tools) at the versions of
   ``requirements.lock`` (its pins as constraints);
2. compiled dependencies (apsw, PyYAML's optional C part) exist once per CPython version: the
   wheels of the same release for the other versions named by ``--abi`` (default 3.12–3.14) are
   downloaded and their extension modules added beside the build interpreter's — each
   interpreter loads the ``*.cpython-3XY-*.so`` that matches it. A version whose wheels cannot
   be fetched is left out (with a line on stderr); the build interpreter's always works;
3. files only installers and type checkers read are left out (console scripts, ``*.pyi``,
   ``RECORD``…, trio's own test suite): fewer zip entries, a faster start;
4. ``shiv --site-packages <tmp>/site-packages -e max_launcher:pyz_main --compile-pyc
   -p "/usr/bin/env python3" -o dist/max.pyz``;
5. shiv's ``__main__.py`` is replaced by ``launcher/pyz_main.py``, which skips shiv's bootstrap
   (≈ 25 ms of imports) when the packages are already extracted and calls it otherwise.

At its first run, ``max.pyz`` extracts its packages to ``~/.shiv/max.pyz_<build id>/``
(``$SHIV_ROOT`` instead of ``~/.shiv``) and compiles them, which takes a few seconds once;
later runs — and the workspace daemons it starts — use the extracted copy.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT = "max_launcher:pyz_main"
#: The exact versions the tests ran with (``make lock``).
LOCK = "requirements.lock"
SHEBANG = "/usr/bin/env python3"
DEFAULT_ABIS = ("3.12", "3.13", "3.14")


def log(message: str) -> None:
    print(f"build_pyz: {message}", file=sys.stderr, flush=True)


def run(*command: str) -> None:
    subprocess.run(command, check=True)


def install(site_packages: Path, scratch: Path) -> None:
    """pip-install a copy of the sources (pip builds in the source tree; keep ours clean)."""
    source = scratch / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pins = re.findall(r"^([A-Za-z0-9._-]+==[^\s;\\]+)", (ROOT / LOCK).read_text(), re.MULTILINE)
    constraints = scratch / "constraints.txt"
    constraints.write_text("".join(f"{pin}\n" for pin in pins))
    log(f"installing maxtrio and its dependencies into {site_packages}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(*pip, "--no-compile", "-c", str(constraints), "--target", str(site_packages), str(source))


def replace_main(archive: Path) -> None:
    """Put ``pyz_main.py`` in as ``__main__.py`` (a fast start once extracted; shiv's
    bootstrap otherwise — see that file)."""
    data = archive.read_bytes()
    shebang = data[: data.index(b"\n") + 1]
    main = (Path(__file__).parent / "pyz_main.py").read_bytes()
    rewritten = archive.with_suffix(".tmp")
    with zipfile.ZipFile(archive) as old, rewritten.open("wb") as out:
        out.write(shebang)
        with zipfile.ZipFile(out, "w") as new:
            for info in old.infolist():
                fresh = zipfile.ZipInfo(info.filename, info.date_time)
                fresh.external_attr = info.external_attr
                fresh.compress_type = info.compress_type
                new.writestr(fresh, main if info.filename == "__main__.py" else old.read(info))
    rewritten.chmod(archive.stat().st_mode)
    rewritten.replace(archive)


def binary_distributions(site_packages: Path) -> list[tuple[str, str, str]]:
    """``(name, version, platform)`` of each installed distribution with compiled modules."""
    found = []
    for wheel in sorted(site_packages.glob("*.dist-info/WHEEL")):
        text = wheel.read_text()
        if "Root-Is-Purelib: true" in text:
            continue
        lines = text.splitlines()
        tags = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
        name, version = wheel.parent.name.removesuffix(".dist-info").rsplit("-", 1)
        for tag in tags:
            _python, abi, platform = tag.split("-", 2)
            if abi not in ("none", "abi3"):
                found.append((name, version, platform))
                break
    return found


def add_abis(site_packages: Path, abis: list[str], scratch: Path) -> list[str]:
    """Add the extension modules of other CPython versions; returns the versions covered."""
    covered = [f"{sys.version_info.major}.{sys.version_info.minor}"]
    for abi in abis:
        if abi in covered:
            continue
        complete = True
        for name, version, platform in binary_distributions(site_packages):
            target = scratch / abi
            command = [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--only-binary=:all:", "--python-version", abi,
                "--implementation", "cp", "--platform", platform.split(".")[0],
                "-d", str(target), f"{name}=={version}",
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            wheels = sorted(target.glob(f"{name.replace('-', '_')}-{version}-*.whl")) + sorted(
                target.glob(f"{name}-{version}-*.whl")
            )
            if done.returncode != 0 or not wheels:
                log(f"no {name} {version} wheel for Python {abi}: {done.stderr.strip()[-200:]}")
                complete = False
                continue
            with zipfile.ZipFile(wheels[0]) as wheel:
                for member in wheel.namelist():
                    if member.endswith(".so") and ".cpython-" in member:
                        wheel.extract(member, site_packages)
        if complete:
            covered.append(abi)
    return covered


#: ``*.dist-info`` files nothing reads at run time (metadata, entry points and licences stay).
_UNUSED_METADATA = ("RECORD", "INSTALLER", "REQUESTED", "WHEEL", "top_level.txt", "direct_url.json")


def prune(site_packages: Path) -> int:
    """Drop what only installers and type checkers read: every file is an entry of the zip,
    and Python reads the zip's whole directory at each start (≈ 5 µs an entry)."""
    removed = 0
    doomed: list[Path] = [site_packages / "bin"]
    doomed += site_packages.glob("**/*.pyi")
    doomed += site_packages.glob("**/py.typed")
    doomed += site_packages.glob("*/_tests")
    for name in _UNUSED_METADATA:
        doomed += site_packages.glob(f"*.dist-info/{name}")
    for path in doomed:
        if path.is_dir():
            removed += sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
        elif path.exists():
            removed += 1
            path.unlink()
    return removed


def build(output: Path, abis: list[str]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="max-pyz-") as tmp:
        site_packages = Path(tmp) / "site-packages"
        install(site_packages, Path(tmp))
        covered = add_abis(site_packages, abis, Path(tmp) / "wheels")
        log(f"compiled modules for Python {', '.join(covered)}")
        log(f"left out {prune(site_packages)} files nothing reads at run time")
        shiv = Path(sys.executable).parent / "shiv"
        run(
            str(shiv) if shiv.exists() else "shiv",
            "--site-packages", str(site_packages),
            "--entry-point", ENTRY_POINT,
            "--python", SHEBANG,
            "--compile-pyc",
            "--output-file", str(output),
        )  # fmt: skip
        replace_main(output)
    log(f"built {output} ({output.stat().st_size / 1e6:.1f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "dist" / "max.pyz")
    parser.add_argument(
        "--abi",
        action="append",
        default=None,
        metavar="X.Y",
        help=f"other CPython versions to include compiled modules for (default {DEFAULT_ABIS})",
    )
    args = parser.parse_args(argv)
    build(args.output, list(args.abi if args.abi is not None else DEFAULT_ABIS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

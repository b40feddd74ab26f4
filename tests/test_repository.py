"""The repository stands alone: no tracked file points outside it — at the notes that once
described the reference systems (a ``shared/`` directory beside the checkout, its ``spec/*.md``
files and their numbered sections) — so what the code relies on is written in ``docs/``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Each pattern with what it catches. Built from pieces so this file does not match itself.
SECTION = "\N{SECTION SIGN}"
FORBIDDEN = {
    "a path out of the repository into shared/": re.compile(r"\.\./shared\b|/work/shared\b"),
    "a spec/*.md file": re.compile(r"\bspec/[\w.-]*\.md\b|\bspec/\*\.md"),
    "the notes by name": re.compile(r"\b(?:cli-federation|sync-engine|acme-and-connectors)\.md\b"),
    "a numbered section of the notes": re.compile(rf"{SECTION}\s*\d|\bspec {SECTION}"),
    "the notes' design page": re.compile(r"\bDESIGN\.md\b"),
}


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    return [path for path in paths if path.is_file() and b"\0" not in path.read_bytes()]


def offences(text: str) -> list[tuple[int, str, str]]:
    """(line number, what, line) for every forbidden reference in ``text``."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append((number, what, line.strip()[:120]))
    return found


def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = tracked_text_files()
    assert len(files) > 300 and ROOT / "README.md" in files  # the listing is the real one
    this_file = Path(__file__).resolve()  # its own samples and patterns
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}: {line}"
        for path in files
        if path.resolve() != this_file
        for number, what, line in offences(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == [], "\n".join(found)


def test_the_check_catches_each_kind_of_reference() -> None:
    samples = {
        "see ../shared/DESIGN.md": 2,
        "the layout (spec/cli-federation.md)": 2,
        f"as the reference does (spec {SECTION}5.3)": 1,
        f"{SECTION}21 item 6.": 1,
        "read spec/*.md": 1,
        "sync-engine.md has it": 1,
    }
    for text, count in samples.items():
        assert len(offences(text)) == count, (text, offences(text))
    for fine in ("docs/architecture.md principle 3", "spec: InstallationSpec", "pathspec", ""):
        assert offences(fine) == [], fine


def test_the_package_carries_its_licence() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the maxtrio authors\n")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '\nlicense = "MIT"\n' in pyproject and 'license-files = ["LICENSE"]' in pyproject

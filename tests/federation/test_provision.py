"""Provisioners (reference ``provisioners.test.ts``)."""

from __future__ import annotations

from pathlib import Path

from maxtrio.federation import provision_installation, provision_workspace


def test_creates_the_data_dir_private(tmp_path: Path) -> None:
    report = provision_workspace(tmp_path)
    assert (tmp_path / ".max").is_dir()
    assert (tmp_path / ".max").stat().st_mode & 0o777 == 0o700
    assert report.created_config and report.gitignore_updated


def test_creates_max_json_as_empty_object_without_newline(tmp_path: Path) -> None:
    provision_workspace(tmp_path)
    assert (tmp_path / "max.json").read_bytes() == b"{}"


def test_never_overwrites_max_json(tmp_path: Path) -> None:
    original = b'{\n  "installations": {},\n  "mine": true\n}\n'
    (tmp_path / "max.json").write_bytes(original)
    report = provision_workspace(tmp_path)
    assert (tmp_path / "max.json").read_bytes() == original
    assert not report.created_config


def test_creates_gitignore(tmp_path: Path) -> None:
    provision_workspace(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == ".max\n"


def test_appends_to_an_existing_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules\n")
    provision_workspace(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "node_modules\n.max\n"


def test_inserts_a_newline_first_when_missing(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules")
    provision_workspace(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "node_modules\n.max\n"


def test_does_not_duplicate_the_line(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("dist\n  .max  \n")
    report = provision_workspace(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "dist\n  .max  \n"
    assert not report.gitignore_updated


def test_idempotent(tmp_path: Path) -> None:
    provision_workspace(tmp_path)
    second = provision_workspace(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == ".max\n"
    assert (tmp_path / "max.json").read_bytes() == b"{}"
    assert not second.created_config and not second.gitignore_updated


def test_an_unwritable_gitignore_is_not_fatal(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").mkdir()  # cannot be read as a file
    report = provision_workspace(tmp_path)
    assert not report.gitignore_updated
    assert (tmp_path / "max.json").exists()


def test_creates_missing_parents_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "project"
    provision_workspace(root)
    assert (root / ".max").is_dir()


def test_installation_provisioner(tmp_path: Path) -> None:
    data_dir = tmp_path / ".max" / "installations" / "acme-1"
    assert provision_installation(data_dir) == data_dir
    assert data_dir.is_dir()
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / ".max" / "installations").stat().st_mode & 0o777 == 0o700
    provision_installation(data_dir)  # idempotent
    assert data_dir.is_dir()

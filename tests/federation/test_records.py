"""Records' JSON form: read by hand (no cattrs on the registries' path), the same through the
shared converter, every problem named by its JSON path."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from maxtrio.core import converter
from maxtrio.federation import (
    DeploymentConfig,
    InstallationInfo,
    InstallationSpec,
    WorkspaceInfo,
    WorkspaceSpec,
)
from maxtrio.federation._records import RecordProblem, record_to_wire, structure_record

INSTALLATION = InstallationInfo(
    id="id-1",
    connector="acme",
    name="acme-1",
    connected_at="2026-03-12T10:35:44.901Z",
    deployment=DeploymentConfig("in-process", "/w/.max/installations/acme-1", {"x": 1}, None),
    locator='{"strategy":"in-process"}',
    spec=InstallationSpec("acme", "acme-1", {"baseUrl": "http://127.0.0.1:8080"}),
)
WORKSPACE = WorkspaceInfo(
    id="id-w",
    name="w",
    connected_at="2026-03-12T10:31:07.412Z",
    config=DeploymentConfig.in_process("/w/.max", store="postgresql://db:5432/max"),
    spec=WorkspaceSpec("w"),
)


def test_the_json_forms_keep_the_reference_keys_and_order() -> None:
    assert list(record_to_wire(INSTALLATION)) == [
        "id", "connector", "connectedAt", "deployment", "locator", "spec",
    ]  # fmt: skip
    assert record_to_wire(INSTALLATION)["deployment"] == {
        "strategy": "in-process",
        "dataDir": "/w/.max/installations/acme-1",
        "x": 1,
    }
    assert record_to_wire(WORKSPACE) == {
        "id": "id-w",
        "name": "w",
        "connectedAt": "2026-03-12T10:31:07.412Z",
        "config": {
            "strategy": "in-process",
            "dataDir": "/w/.max",
            "store": "postgresql://db:5432/max",
        },
        "spec": {"name": "w"},
    }


@pytest.mark.parametrize("record", [INSTALLATION, WORKSPACE, INSTALLATION.spec, WORKSPACE.spec])
def test_read_by_hand_and_through_the_converter_alike(record: Any) -> None:
    wire = record_to_wire(record)
    if isinstance(record, InstallationInfo):
        wire = {**wire, "name": record.name}
    assert structure_record(wire, type(record)) == record
    assert converter.structure(wire, type(record)) == record
    assert converter.unstructure(record) == record_to_wire(record)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([], "expected an object"),
        ({"id": 5}, "id: expected a string; connector: required field missing; name: required"),
        (
            {**record_to_wire(INSTALLATION), "name": "a", "spec": {"connector": "acme"}},
            "spec.name: required field missing",
        ),
        (
            {**record_to_wire(INSTALLATION), "name": "a", "deployment": {"strategy": ""}},
            'deployment: "strategy" must be a non-empty string',
        ),
        (
            {**record_to_wire(INSTALLATION), "name": "a", "deployment": "x", "locator": 1},
            "deployment: expected an object; locator: expected a string",
        ),
    ],
)
def test_every_problem_is_named_by_its_path(value: object, problem: str) -> None:
    with pytest.raises(RecordProblem) as caught:
        structure_record(value, InstallationInfo)
    assert str(caught.value).startswith(problem)


def test_reading_the_registries_does_not_import_cattrs(tmp_path: Any) -> None:
    (tmp_path / "max.json").write_text(
        '{"installations": {"acme-1": {"id": "i", "connector": "acme", "connectedAt": "t", '
        '"deployment": {"strategy": "in-process", "dataDir": ".max/installations/acme-1"}, '
        '"locator": "{}", "spec": {"connector": "acme", "name": "acme-1"}}}}'
    )
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from maxtrio.federation import FileInstallationRegistry\n"
        f"(info,) = FileInstallationRegistry(Path({str(tmp_path)!r})).list()\n"
        "assert info.name == 'acme-1', info\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cattrs'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

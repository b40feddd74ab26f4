"""The worked example of ``docs/flows.md`` runs to completion exactly as written — against a
server that requires an API key, so its scripts and ``max flows`` authenticate as documented."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import apsw

DOCS = Path(__file__).resolve().parents[2] / "docs" / "flows.md"
MAX = str(Path(sys.executable).parent / "max")
BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def test_docs_example_flow_runs_with_max_flows_serve(tmp_path: Path) -> None:
    files = {m["path"]: m["body"] for m in BLOCK.finditer(DOCS.read_text())}
    assert "flows/report/flow.sh" in files and len(files) == 6
    for relative, body in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        if path.suffix == ".sh":
            path.chmod(0o755)
    env = {**os.environ, "MAXQ_API_KEY": "docs-example-key"}
    server = subprocess.Popen(
        [MAX, "flows", "serve", "-p", "0", "-d", "./data", "-f", "./flows", "--log-level", "error"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("Server running on 127.0.0.1:")
        api = f"http://localhost:{line.strip().rsplit(':', 1)[1]}/api/v1"
        result = subprocess.run(
            [MAX, "flows", "run", "report", "--wait", "-o", "json", "--server", api],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        run = json.loads(result.stdout)
        assert (run["status"], run["flowTitle"]) == ("completed", "Word and line report")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=5) == 0
        if server.stdout is not None:
            server.stdout.close()
    db = apsw.Connection(str(tmp_path / "data" / "maxq.db"))
    steps = dict(db.execute("SELECT id, stdout FROM step WHERE run_id = ?", (run["id"],)))
    assert steps["publish"] == "report: 9 words on 3 lines\n"
    assert (steps["words"], steps["lines"]) == ("words: 9\n", "lines: 3\n")
    stages = db.execute("SELECT name, status FROM stage ORDER BY created_at").fetchall()
    assert stages == [("collect", "completed"), ("publish", "completed")]

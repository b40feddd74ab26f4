"""The test server itself: it runs, as an unprivileged user when the tests run as root, and
both of its logins work (the socket superuser; the password role over TCP)."""

from __future__ import annotations

import os

import psycopg

from .server import PASSWORD_USER, SUPERUSER, PgServer


def test_the_server_answers_as_version_15_or_later(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        user = conn.execute("SELECT current_user").fetchone()
        encoding = conn.execute("SHOW server_encoding").fetchone()
    assert version is not None and int(version[0]) >= 150000
    assert user == (SUPERUSER,)
    assert encoding == ("UTF8",)


def test_the_server_does_not_run_as_root(pg_server: PgServer) -> None:
    pid = int((pg_server.data / "postmaster.pid").read_text().splitlines()[0])
    assert os.stat(f"/proc/{pid}").st_uid != 0
    assert pg_server.root.stat().st_uid == os.stat(f"/proc/{pid}").st_uid


def test_the_password_role_logs_in_over_tcp(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.url()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (PASSWORD_USER,)
        assert conn.info.host == "127.0.0.1"

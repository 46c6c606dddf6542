"""What the real `fikafollow` command says when something is wrong: one line and an exit code
(1 for a database it cannot open, 2 for what the user can put right), never a traceback; and
`--help` works for every command."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fikafollow.commands import build_parser, main

# the console script installed beside the interpreter running the tests (the worktree's .venv)
FIKAFOLLOW = Path(sys.executable).parent / "fikafollow"
PG_ADMIN_DSN = os.environ.get(
    "FIKAFOLLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def fikafollow(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FIKAFOLLOW_")}
    environ["FIKAFOLLOW_DATABASE_URL"] = database_url
    return subprocess.run(
        [str(FIKAFOLLOW), *args],
        env=environ,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, so nobody else takes it, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_database_server_down_is_one_line_naming_the_setting_without_the_password(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql+asyncpg://fika:s3cret-word@127.0.0.1:{closed_port}/fika"
    done = fikafollow("tick", database_url=url, cwd=tmp_path)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "FIKAFOLLOW_DATABASE_URL" in line and f"127.0.0.1:{closed_port}/fika" in line
    assert "s3cret-word" not in line


def test_sqlite_in_a_missing_folder_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    done = fikafollow(
        "programme", "list", database_url=f"sqlite+aiosqlite:///{missing}/f.db", cwd=tmp_path
    )
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "FIKAFOLLOW_DATABASE_URL" in line and str(missing) in line
    assert not (tmp_path / "no").exists()


@pytest.mark.postgres
def test_a_database_that_does_not_exist_on_the_server_is_one_line(tmp_path: Path) -> None:
    host_port = PG_ADMIN_DSN.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        socket.create_connection((host, int(port or 5432)), timeout=2).close()
    except OSError as exc:
        if os.environ.get("FIKAFOLLOW_TEST_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL server at {host_port} ({exc})")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    name = f"fikafollow_missing_{uuid.uuid4().hex}"
    done = fikafollow("programme", "list", database_url=f"{base}/{name}", cwd=tmp_path)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "FIKAFOLLOW_DATABASE_URL" in line and name in line


def test_unknown_programme_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/f.db"
    done = fikafollow("export", "answers", "--programme", "nowhere", database_url=url, cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == "fikafollow: no programme 'nowhere'"


def test_unknown_coordinator_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/f.db"
    done = fikafollow(
        "coordinator", "remove", "--email", "nobody@example.org", database_url=url, cwd=tmp_path
    )
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("fikafollow: no coordinator")


def test_first_run_on_a_new_database_shows_no_alembic_lines(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/f.db"
    done = fikafollow("programme", "list", database_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    upgraded = fikafollow("db", "upgrade", database_url=url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stderr == ""


def _command_paths(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _command_paths(child, (*path, name))


COMMAND_PATHS = list(_command_paths(build_parser()))


def test_the_walk_finds_every_command_of_the_readme() -> None:
    names = {" ".join(path) for path in COMMAND_PATHS}
    for command in (
        "db upgrade",
        "import",
        "tick",
        "export answers",
        "serve",
        "apikey create",
        "programme set",
        "programme list",
        "mail poll",
        "links",
        "demo",
        "coordinator add",
        "coordinator list",
        "coordinator remove",
        "calls",
        "call record",
        "digest",
        "report",
    ):
        assert command in names


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(path) or "fikafollow")
def test_help_of_every_command_exits_0(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    assert "usage: fikafollow" in capsys.readouterr().out


def test_programme_set_help_in_the_real_command_shows_the_per_cent_sign(tmp_path: Path) -> None:
    done = fikafollow(
        "programme",
        "set",
        "--help",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/f.db",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "in %" in " ".join(done.stdout.split())

"""The container image's build, short of Docker itself (no daemon nor base image is reachable
here): the build stage's own steps from the Dockerfile — only the paths it COPYs, `pip wheel`
of them — then the run stage's install of that wheel into a fresh virtual environment, outside
any source tree. The installed service must run the demo, serve its pages, and pass the image's
HEALTHCHECK command as written. A package directory the Dockerfile forgets to copy, or a
template, translation or data file the wheel leaves out, fails here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build_stage_copies() -> list[str]:
    """The source paths the build stage copies into /src (the lines before the second FROM)."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    build = dockerfile.split("\nFROM ", 2)[1]
    paths: list[str] = []
    for line in build.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _target = line.split()[1:]
            paths.extend(sources)
    return paths


def healthcheck_command() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*? CMD (.+)$", dockerfile, re.MULTILINE)
    assert found, "the Dockerfile has a HEALTHCHECK"
    return shlex.split(found.group(1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(argv: list[str], timeout: float, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return done  # type: ignore[no-any-return]


def test_the_image_build_installs_a_service_that_runs_outside_the_source_tree(
    tmp_path: Path,
) -> None:
    copies = build_stage_copies()
    assert "pyproject.toml" in copies and "store" in copies
    source = tmp_path / "src"
    source.mkdir()
    for name in copies:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, source / name)

    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        600,
        cwd=source,
    )
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], 120)
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "--quiet", *map(str, wheels.glob("*.whl"))],
        900,
    )

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIKAFOLLOW_", "PYTHON"))}
    env.update(
        FIKAFOLLOW_DATABASE_URL=f"sqlite+aiosqlite:///{home / 'fikafollow.db'}",
        FIKAFOLLOW_PHOTO_DIR=str(home / "photos"),
        FIKAFOLLOW_SECRET_KEY="test-secret-key-0123456789",
        FIKAFOLLOW_QUIET_HOURS="00:00-00:01",
    )
    demo = run([str(venv / "bin" / "fikafollow"), "demo"], 300, cwd=home, env=env)
    assert "answers export:" in demo.stdout
    assert "languages shown: ar, en, fa, so, sv, ti, uk" in demo.stdout

    # the image serves on port 8000; here a free one, and the health check's URL to match
    port = free_port()
    env["FIKAFOLLOW_PORT"] = str(port)
    probe = [part.replace("8000", str(port)) for part in healthcheck_command()]
    assert probe[0] == "python"
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(venv / "bin" / "fikafollow"), "serve"],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            checked = subprocess.run(
                [str(python), *probe[1:]], capture_output=True, timeout=30, check=False
            )
            if checked.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                output = (tmp_path / "serve.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"no healthy service: {output}")
            time.sleep(0.2)
        # a page from a template and a translation only the wheel carries
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/coordinator/login") as page:
            assert page.status == 200
            assert "Logga in" in page.read().decode("utf-8")
    finally:
        server.terminate()
        server.wait(30)
        log.close()

"""The test session may connect to loopback only: anything else is refused at once, named."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import network_guard
from tests.support.network_guard import NonLoopbackConnection

# TEST-NET-1 (RFC 5737): routed nowhere, so without the guard a connect would hang until timeout
OUTSIDE = "192.0.2.1"


@pytest.fixture
def refused() -> Iterator[list[str]]:
    """What the guard refused during the test, emptied afterwards so that the root conftest does
    not fail the test for the refusals it provoked on purpose."""
    yield network_guard.REFUSED
    network_guard.REFUSED.clear()


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_connection_outside_loopback_is_refused_at_once_naming_the_address(
    refused: list[str],
) -> None:
    started = time.monotonic()
    with pytest.raises(NonLoopbackConnection, match=rf"refused {OUTSIDE}:80$"):
        socket.create_connection((OUTSIDE, 80), timeout=30)
    with socket.socket() as sock, pytest.raises(NonLoopbackConnection, match=OUTSIDE):
        sock.connect((OUTSIDE, 25))
    with socket.socket() as sock, pytest.raises(NonLoopbackConnection, match=OUTSIDE):
        sock.connect_ex((OUTSIDE, 143))
    with (
        socket.socket(socket.AF_INET6) as sock,
        pytest.raises(NonLoopbackConnection, match="2001:db8::1"),
    ):
        sock.connect(("2001:db8::1", 443))
    assert time.monotonic() - started < 5
    assert refused == [f"{OUTSIDE}:80", f"{OUTSIDE}:25", f"{OUTSIDE}:143", "2001:db8::1:443"]


def test_a_name_that_resolves_outside_loopback_is_refused(refused: list[str]) -> None:
    # the resolver reads a bare number as an IPv4 address without asking DNS: 192.0.2.1
    with socket.socket() as sock, pytest.raises(NonLoopbackConnection, match=rf"\({OUTSIDE}\)"):
        sock.connect(("3221225985", 80))
    with pytest.raises(NonLoopbackConnection, match="3221225985:80"):
        socket.create_connection(("3221225985", 80), timeout=30)


async def test_asyncio_and_httpx_are_refused_too(refused: list[str]) -> None:
    with pytest.raises(NonLoopbackConnection, match=OUTSIDE):
        await asyncio.open_connection(OUTSIDE, 80)
    async with httpx.AsyncClient(timeout=30) as client:
        with pytest.raises(Exception) as caught:
            await client.get(f"http://{OUTSIDE}/")
    # anyio tries the addresses in a task group, so the refusal may come inside a group
    assert caught.errisinstance(NonLoopbackConnection) or caught.group_contains(
        NonLoopbackConnection, match=OUTSIDE
    )


def test_a_refusal_the_code_swallows_is_still_recorded(refused: list[str]) -> None:
    # what a careless retry loop would do
    with contextlib.suppress(Exception):
        socket.create_connection((OUTSIDE, 80))
    # the root conftest's autouse fixture fails the test on this
    assert refused == [f"{OUTSIDE}:80"]


async def test_loopback_and_unix_sockets_connect(listener: int, tmp_path: Path) -> None:
    refused = network_guard.REFUSED
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection((host, listener), timeout=5):
            pass
    network_guard.check("127.1.2.3", 80)  # all of 127.0.0.0/8 is loopback
    network_guard.check("::1", 80)
    with socket.socket() as sock:
        assert sock.connect_ex(("2130706433", listener)) == 0  # 127.0.0.1 as a number
    _reader, writer = await asyncio.open_connection("127.0.0.1", listener)
    writer.close()
    await writer.wait_closed()
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
    assert refused == []

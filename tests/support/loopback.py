"""Run an ASGI app on a loopback port inside the test's event loop (uvicorn, the real server)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


def bound_socket() -> socket.socket:
    """A listening-ready socket on 127.0.0.1 with a free port, so its URL is known up front."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # made with protocol 0, asyncio does not set TCP_NODELAY on the accepted connections (they
    # inherit it from here), and every reused keep-alive request then stalls ~40 ms (Nagle and
    # delayed ACK): the fakes would be the slowest part of every test
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@asynccontextmanager
async def serving(app: Any, sock: socket.socket) -> AsyncIterator[str]:
    """Serve `app` on `sock` until the block ends; yields the root URL."""
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()

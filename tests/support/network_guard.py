"""The test session talks to loopback only: a connection anywhere else is refused at once.

The fakes of Telegram, Twilio, SMTP and IMAP all listen on 127.0.0.1, so a test that reaches for
another address has a settings mistake that would, on a developer's machine, send a real message
(or hang on a firewall). `install()` patches `socket.socket.connect`/`connect_ex` — which
`socket.create_connection`, asyncio's `sock_connect`/`create_connection` and so httpx, asyncpg,
aiosmtplib and aioimaplib all go through — and `socket.create_connection` itself, so that a
non-loopback address raises `NonLoopbackConnection` naming it. A host name is resolved first and
refused when any of its addresses is not loopback. Unix sockets and other families pass.

The error is not an `OSError` on purpose: code that retries network trouble would swallow an
`OSError` quietly; every refusal is also kept in `REFUSED`, and the root conftest fails the test
that caused one even where our code caught the error.

Subprocesses (the CLI and `serve` in the acceptance tests) are not patched.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

REFUSED: list[str] = []
"""Every address refused since the list was last emptied, as `host:port`."""


class NonLoopbackConnection(RuntimeError):
    """A test tried to connect to an address that is not loopback."""


_original: dict[str, Callable[..., Any]] = {}


def _is_loopback_ip(host: str) -> bool | None:
    """True or False for an IP literal, None for a name."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check(host: str, port: object) -> None:
    """Raise NonLoopbackConnection unless every address `host` stands for is loopback."""
    verdict = _is_loopback_ip(host)
    if verdict is None:
        if host == "localhost":
            return
        # resolved with the unpatched function so that the refusal can name what it would reach
        resolved = {
            str(info[4][0]) for info in _original["getaddrinfo"](host, port, 0, socket.SOCK_STREAM)
        }
        outside = sorted(address for address in resolved if not _is_loopback_ip(address))
        if not outside:
            return
        where = f"{host}:{port} ({', '.join(outside)})"
    elif verdict:
        return
    else:
        where = f"{host}:{port}"
    REFUSED.append(where)
    raise NonLoopbackConnection(f"tests connect to loopback only; refused {where}")


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        check(host, address[1])


def _connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _original["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    result: int = _original["connect_ex"](self, address)
    return result


def _create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
    check(str(address[0]), address[1])
    connection: socket.socket = _original["create_connection"](address, *args, **kwargs)
    return connection


def install() -> None:
    """Refuse non-loopback connections in this process until `uninstall()`."""
    if _original:
        return
    _original.update(
        connect=socket.socket.connect,
        connect_ex=socket.socket.connect_ex,
        create_connection=socket.create_connection,
        getaddrinfo=socket.getaddrinfo,
    )
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.create_connection = _create_connection  # type: ignore[assignment]


def uninstall() -> None:
    if not _original:
        return
    socket.socket.connect = _original["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _original["connect_ex"]  # type: ignore[method-assign]
    socket.create_connection = _original["create_connection"]
    _original.clear()

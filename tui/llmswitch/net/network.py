"""The sockets under llmswitch's own HTTP connections: httpcore's network backend on plain asyncio streams.

httpcore (h11) does all of HTTP for the relay's upstream pool and the probe; this only connects, reads, writes and
starts TLS, with the timeouts httpcore asks for. httpcore's own backend goes through anyio, whose cancel scope around
every read and write cost a relayed request more CPU than its HTTP parsing did; the event loop is asyncio's (uvloop
where installed) in any case, so nothing is lost by speaking to it directly.

Importing this module imports httpcore without loading trio: httpcore imports trio whenever it is installed (~5 MB and
~80 ms here, for a program that runs on asyncio). httpcore is given a stand-in that imports the real trio at the first
use of one of its names, so a program that does run httpcore on trio gets it the moment it asks.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import os
import socket
import ssl
import sys
import types
from typing import TYPE_CHECKING, Any


class _TrioOnFirstUse(types.ModuleType):
    """``trio`` as httpcore holds it when llmswitch imported httpcore: the real module, imported at the first use
    of one of its names (only a program running on trio uses them)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("trio"), name)


def _import_httpcore() -> None:
    """Import httpcore with a stand-in for trio (httpcore imports trio whenever it is installed; nothing of it is
    used on asyncio). The stand-in is in ``sys.modules`` only while httpcore is imported: ``import trio`` anywhere
    else, then or later, gets the real module."""
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    try:
        installed = importlib.util.find_spec("trio") is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        return
    stand_in = _TrioOnFirstUse("trio")
    sys.modules["trio"] = stand_in
    try:
        importlib.import_module("httpcore")
    finally:
        if sys.modules.get("trio") is stand_in:
            del sys.modules["trio"]


_import_httpcore()

import httpcore as httpcore  # noqa: E402 - imported just above, with trio left out (the explicit re-export: the probe's home for it)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from httpcore._backends.base import SOCKET_OPTION

__all__ = ["Backend", "Stream", "httpcore", "proxy_for", "ssl_context"]


def ssl_context() -> ssl.SSLContext:
    """The TLS context llmswitch verifies servers with, as httpx's clients build it: the CA file ``SSL_CERT_FILE``
    names, else the folder ``SSL_CERT_DIR`` names, else certifi's bundle; built once for the CA files named.

    Loading the CA bundle costs 30–300 ms (and ~2 MB); a re-probe, or each tool's check in ``connect --all``, should
    not pay it again, and a probe of plain-HTTP servers only does not pay it at all.
    """
    return _ssl_context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.cache
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    if cert_file:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``; ``NO_PROXY``
    honoured), as httpx's clients use it; None for a direct connection."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None  # what urllib reads is only such variables (urllib.request costs ~2 MB to import)
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class Stream(httpcore.AsyncNetworkStream):
    """One connection: bytes in and out, each wait bounded by httpcore's timeout for it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout(f"no answer within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> Stream:
        try:
            await self._writer.start_tls(ssl_context, server_hostname=server_hostname, ssl_handshake_timeout=timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from None
        except OSError as exc:  # ssl.SSLError included
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of an idle connection: the server closed it (or sent what nobody asked)
            return self._reader.at_eof() or self._writer.transport.is_closing()
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        return self._writer.get_extra_info(name)


class Backend(httpcore.AsyncNetworkBackend):
    """Opens :class:`Stream` connections on the running asyncio loop."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[SOCKET_OPTION] | None = None) -> Stream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await _open(host, port, local_address)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock: socket.socket | None = writer.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return Stream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SOCKET_OPTION] | None = None) -> Stream:
        raise httpcore.ConnectError("llmswitch connects over TCP only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _open(host: str, port: int, local_address: str | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the first of ``host``'s addresses that accepts one, each tried in turn as asyncio would.

    When none does, the error of each address is kept (asyncio's own joins them into one ``OSError`` whose kind
    is lost), so a refused ``localhost`` (both ``::1`` and ``127.0.0.1``) still reads as refused.
    """
    local = (local_address, 0) if local_address else None
    if _is_address(host):
        return await asyncio.open_connection(host, port, local_addr=local)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    errors: list[OSError] = []
    for family, _, _, _, address in dict.fromkeys(infos):
        try:
            return await asyncio.open_connection(str(address[0]), port, family=family, local_addr=local)
        except OSError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if not errors:
        raise OSError(f"no address found for {host}")
    raise OSError(f"no address of {host} accepted a connection: "
                  + "; ".join(str(e) for e in errors)) from ExceptionGroup("each address", errors)


def _is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return True
    return False

"""Servers the local stack runs in background threads: moto (AWS stand-in), uvicorn apps, the provider sandbox."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

log = logging.getLogger("local.stack")


class MotoServer:
    """moto's ThreadedMotoServer, quiet, with the bound port known (port 0 = any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request line per AWS call
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = port

    def start(self) -> str:
        from local.moto_atomic import make_dynamodb_atomic

        make_dynamodb_atomic()  # real DynamoDB applies a conditional write atomically; moto needs a lock
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        self._reset()  # moto's backends are process-wide: a new stack starts from nothing
        return self.url

    def _reset(self) -> None:
        import urllib.request

        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        try:
            self._reset()
        finally:
            self._server.stop()


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets whose proto is TCP; without it every keep-alive
    # response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class UvicornThread:
    """Serve an ASGI app from a background thread on an already bound socket."""

    def __init__(self, app: Any, sock: socket.socket, *, name: str, log_level: str = "warning") -> None:
        self.sock = sock
        self.host, self.port = sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False, loop="asyncio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError(f"{self.thread.name} did not start on {self.url}")
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()


class SandboxRunner:
    """The provider sandboxes (``local/sandbox``, written separately) when they are there; None otherwise.

    Prefers ``local.sandbox.server.SandboxServer(host=..., port=...)`` with ``start()``/``stop()``; falls back to
    serving ``local.sandbox.app.create_app()`` with uvicorn."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._uvicorn: UvicornThread | None = None
        self.app: Any = None
        self.url: str | None = None
        self.skipped_reason: str | None = None

    def start(self) -> str | None:
        try:
            from local.sandbox.server import SandboxServer
        except ModuleNotFoundError as exc:
            if exc.name not in ("local.sandbox", "local.sandbox.server"):
                raise
            return self._start_app(f"{exc.name} not found")
        self._server = SandboxServer(host=self.host, port=self.port)
        self._server.start()
        self.app = getattr(self._server, "app", None)
        self.url = _server_url(self._server, self.host, self.port)
        return self.url

    def _start_app(self, why_not_server: str) -> str | None:
        try:
            from local.sandbox.app import create_app
        except ModuleNotFoundError as exc:
            if exc.name not in ("local.sandbox", "local.sandbox.app"):
                raise
            self.skipped_reason = f"{why_not_server}; {exc.name} not found"
            log.warning("provider sandbox not started: %s", self.skipped_reason)
            return None
        self.app = create_app()
        self._uvicorn = UvicornThread(self.app, bind_socket(self.host, self.port), name="sandbox")
        self.url = self._uvicorn.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._uvicorn is not None:
            self._uvicorn.stop()


def sandbox_env(url: str, app: Any = None) -> dict[str, str]:
    """What each provider sandbox says a client needs to reach it at ``url`` (endpoints, local client id/secret).

    Asks the sandbox app (``app.sandbox.providers[*].env(url)``); builds one when none is running (``attach``)."""
    if app is None:
        try:
            from local.sandbox.app import create_app
        except ModuleNotFoundError as exc:
            if exc.name not in ("local.sandbox", "local.sandbox.app"):
                raise
            return {}
        app = create_app()
    core = getattr(app, "sandbox", None)
    env: dict[str, str] = {}
    for provider in getattr(core, "providers", {}).values():
        env.update(provider.env(url.rstrip("/")))
    return env


def _server_url(server: Any, host: str, port: int) -> str:
    url = getattr(server, "url", None) or getattr(server, "base_url", None)
    if isinstance(url, str):
        return url.rstrip("/")
    if hasattr(server, "get_host_and_port"):
        host, port = server.get_host_and_port()
    elif isinstance(getattr(server, "port", None), int) and server.port:
        port = server.port
    return f"http://{host}:{port}"

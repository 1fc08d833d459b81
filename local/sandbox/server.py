"""Run the sandbox with uvicorn in a background thread (tests, the local stack).

from local.sandbox.server import SandboxServer

with SandboxServer() as sandbox:          # 127.0.0.1, a free port
    sandbox.url                           # "http://127.0.0.1:54321"
    sandbox.env("quickbooks")             # {"QUICKBOOKS_API_URL": ..., ...}
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from local.sandbox.app import create_app
from local.sandbox.framework import SandboxCore, SandboxStarlette


class SandboxServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, app: SandboxStarlette | None = None) -> None:
        self.host = host
        self.app = app or create_app()
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def core(self) -> SandboxCore:
        """The shared state (clock, faults, log, providers). Prefer the HTTP control plane in tests."""
        return self.app.sandbox

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self, provider: str) -> dict[str, str]:
        """The environment variables a client needs for ``provider`` (endpoint URLs, local client id/secret)."""
        return self.core.providers[provider].env(self.url)

    def start(self, timeout: float = 10.0) -> SandboxServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto is TCP, and
        # without it every keep-alive response stalls ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(128)
        sock.set_inheritable(True)
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

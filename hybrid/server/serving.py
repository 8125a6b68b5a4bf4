"""Serving the emulator's app with uvicorn: the listening socket, the one uvicorn
configuration, and :class:`ServerThread` (the app in a daemon thread of this process).

``hybrid serve`` runs uvicorn in the main thread on :func:`listen`'s socket;
``hybrid.connect("local")`` and the tests run it in a :class:`ServerThread` on a free
loopback port. All three use :func:`uvicorn_config`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from hybrid.errors import UsageError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port); one clear line if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except socket.gaierror as exc:  # a host name that does not resolve
        sock.close()
        raise UsageError(
            f"Cannot listen on {host}: {exc.strerror}; give an address of this machine "
            "(127.0.0.1, 0.0.0.0) or a name that resolves to one."
        ) from exc
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror}; choose another --port "
            "(0 picks a free one)."
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, **extra: Any) -> Any:
    """uvicorn's configuration for the emulator: quiet, lifespan on, the keep-alive of
    the app's settings (longer than a client's poll interval)."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_keep_alive=app.state.settings.keep_alive_seconds,
        **extra,
    )


class ServerThread:
    """The app under uvicorn in a daemon thread, on a free 127.0.0.1 port.

    ``start()`` returns once uvicorn accepts connections; ``stop()`` asks it to exit and
    waits for the thread. Also a context manager.
    """

    def __init__(self, app: Any, *, name: str = "hybrid-server") -> None:
        import uvicorn

        self.app = app
        self._sock = listen("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn_config(app))
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, name=name, daemon=True
        )

    def start(self, *, timeout: float = 30.0) -> ServerThread:
        """Start serving; a UsageError if uvicorn is not up within ``timeout`` seconds."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise UsageError(
                    f"the emulator did not start on {self.url}; try 'hybrid serve' to see why"
                )
            time.sleep(0.02)
        return self

    def stop(self, *, timeout: float = 15.0) -> None:
        """Ask uvicorn to exit, wait up to ``timeout`` seconds, close the socket."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

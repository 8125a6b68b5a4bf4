"""``hybrid serve``: run the local openEO API 1.2 emulator.

Unchanged openeo client scripts work against it offline::

    hybrid serve --port 8080
    # then: openeo.connect("http://127.0.0.1:8080").authenticate_oidc()

Without ``--users``, one local user exists (``hybrid`` / password ``hybrid``); the OIDC
device flow logs in as that user at once, and the client ``hybrid-ci`` with secret
``hybrid-ci-secret`` works for ``OPENEO_AUTH_METHOD=client_credentials``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import math
import os
import re
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from hybrid.cli.options import add_stac_argument
from hybrid.errors import UsageError

DEFAULT_DATA_DIR = Path("hybrid-serve-data")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run a local openEO API 1.2 backend (the emulator)",
        description="Serve the openEO API 1.2 on this machine: batch jobs, synchronous "
        "results, SENTINEL2_L2A, basic auth and a built-in OIDC provider. Prints "
        "'hybrid serve: listening on URL' once it accepts connections; stop it with "
        "Ctrl-C or SIGTERM (running jobs resume at the next start).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on (0 = any free port)"
    )
    add_stac_argument(parser)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"job database, results and keys (default ./{DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--users",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML/JSON file of users and OIDC clients with hashed passwords "
        "(default: user 'hybrid', password 'hybrid')",
    )
    parser.add_argument("--workers", type=int, default=2, help="batch jobs run at once")
    _add_cluster_arguments(parser)
    parser.add_argument(
        "--udf-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="time limit of the UDFs of one process node, seconds",
    )
    parser.add_argument(
        "--udf-memory",
        type=int,
        default=4096,
        metavar="MIB",
        help="memory limit of a UDF worker process, MiB",
    )
    parser.add_argument(
        "--udf-nice",
        type=int,
        default=None,
        metavar="N",
        help="CPU priority of UDF worker processes, 0 (normal) to 19 (default: 19, the "
        "lowest; never above the server's own)",
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password on stdin, print its hash for the users file, and exit",
    )
    parser.set_defaults(handle=handle)


def _add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the jobs on an existing Dask cluster (tcp://HOST:PORT) "
        "(default: dask's threads in this process)",
    )
    parser.add_argument(
        "--dask-workers",
        type=int,
        default=None,
        metavar="N",
        help="run the jobs on a local Dask cluster of N single-threaded worker processes, "
        "started with the server (default: none)",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        default=None,
        help="memory of each --dask-workers worker, e.g. 2GiB (dask spills at 60 %%, "
        "pauses at 80 %%, restarts it at 95 %%) (default: dask's share of the RAM)",
    )


def _hash_password() -> int:
    from hybrid.server.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("Empty password: type one (or pipe it on stdin).")
    print(hash_password(password))
    return 0


def handle(args: argparse.Namespace) -> int:
    if args.hash_password:
        return _hash_password()
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, not {args.workers}.")
    if not 0 < args.udf_timeout < math.inf:  # inf and nan failed every UDF with a 500
        raise UsageError(
            f"--udf-timeout must be a positive number of seconds, not {args.udf_timeout}."
        )
    if args.udf_memory < 256:
        raise UsageError(f"--udf-memory must be at least 256 MiB, not {args.udf_memory}.")
    if args.udf_nice is not None and not 0 <= args.udf_nice <= 19:
        raise UsageError(f"--udf-nice must be between 0 and 19, not {args.udf_nice}.")
    if args.data_dir.exists() and not args.data_dir.is_dir():
        raise UsageError(
            f"--data-dir {args.data_dir} is a file; give a folder for the jobs and keys."
        )
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}.")
    if args.users is not None and not args.users.is_file():
        raise UsageError(f"Users file {args.users} not found: check the --users path.")
    _check_host(args.host)
    if args.users is None and not _is_loopback(args.host):
        raise UsageError(
            f"--host {args.host} would expose the default hybrid/hybrid login beyond this "
            "machine; pass --users FILE with your own users (see --hash-password)"
        )

    from hybrid.stac.source import check_source

    check_source(args.stac)  # a mistyped catalog path fails now, not at every request
    scheduler = _checked_scheduler(args)
    from hybrid.server.app import create_app
    from hybrid.server.serving import listen
    from hybrid.server.settings import ServerSettings

    sock = listen(args.host, args.port)
    settings = ServerSettings(data_dir=args.data_dir, users_file=args.users, workers=args.workers)
    with contextlib.ExitStack() as stack:
        try:
            app = create_app(settings, _engine(args, scheduler, stack))
        except BaseException:
            sock.close()
            raise
        return _serve(app, sock, before_exit=stack.close)


def _engine(args: argparse.Namespace, scheduler: str | None, stack: contextlib.ExitStack) -> Any:
    """The local engine the jobs run on; a LocalCluster on ``stack`` with --dask-workers."""
    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.local.udf.isolated import UdfSettings

    udf = UdfSettings(
        timeout=args.udf_timeout,
        memory_bytes=args.udf_memory * 1024**2,
        protected=(str(args.data_dir.resolve()),),
        **({} if args.udf_nice is None else {"nice": args.udf_nice}),
    )
    if args.dask_workers:
        from hybrid.backends.local.cluster import local_cluster

        scheduler = stack.enter_context(local_cluster(args.dask_workers, args.memory_limit))
    return LocalBackend(LocalSettings(stac=args.stac, udf=udf, scheduler=scheduler))


def _checked_scheduler(args: argparse.Namespace) -> str | None:
    """``--scheduler``'s address, checked now (syntax, and that it answers), so a wrong
    one fails at start-up in one line instead of in every job."""
    if args.dask_workers is not None and args.dask_workers < 1:
        raise UsageError(f"--dask-workers must be at least 1, not {args.dask_workers}.")
    from hybrid.backends.local.cluster import memory_limit

    if memory_limit(args.memory_limit) and not args.dask_workers:
        raise UsageError("--memory-limit applies to the workers of --dask-workers N.")
    if args.scheduler is None:
        return None
    if args.dask_workers is not None:
        raise UsageError("Give --scheduler or --dask-workers, not both.")
    from hybrid.backends.local.cluster import connect, scheduler_address

    address = scheduler_address(args.scheduler)
    if address is not None:
        connect(address).close()
    return str(args.scheduler)


def _serve(app: Any, sock: socket.socket, *, before_exit: Callable[[], None]) -> int:
    """Run uvicorn on ``sock`` until a signal; say when it listens and when it stopped."""
    import uvicorn

    from hybrid.server.serving import uvicorn_config

    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                print(f"hybrid serve: listening on {url}", flush=True)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Shut down gracefully and return (uvicorn would re-raise the signal after).
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    server = _Server(uvicorn_config(app, timeout_graceful_shutdown=5))
    server.run(sockets=[sock])
    sys.stdout.flush()
    sys.stderr.flush()
    if not server.started:
        return 1
    print("hybrid serve: stopped", file=sys.stderr, flush=True)
    if app.state.runner.busy():
        # Jobs still computing were put back to "queued" by the shutdown; their threads
        # (and dask's) cannot be interrupted, so leave without waiting for them.
        before_exit()
        os._exit(0)
    return 0


def _check_host(host: str) -> None:
    """A host written as an address must be one (999.1.1.1 is not); a name is left to
    the bind, which says when it does not resolve."""
    import ipaddress

    if re.fullmatch(r"[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*", host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise UsageError(
                f"--host {host} is not an IP address; give one such as 127.0.0.1, ::1 "
                "or 0.0.0.0 (every interface)"
            ) from None


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

"""Real local servers for the STAC tests.

- :func:`running_pgstac`: a real STAC API - stac-fastapi-pgstac on pypgstac, on Debian's
  PostgreSQL 15 + PostGIS - in a temporary PGDATA, on free ports of 127.0.0.1.
- :func:`static_catalog_json`: a static catalog's items with absolute hrefs, to load.

The servers and fixtures that need no database are in :mod:`tests.stac_fixtures`.

Nothing is mocked: these are the real programs the project talks to in production.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

#: seconds allowed for PostgreSQL and the API to come up
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL binaries with PostGIS available, or None."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        version = Path(candidate).parents[1].name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").is_file():
            return Path(candidate).parent
    return None


def missing_reason() -> str | None:
    """Why the pgstac server cannot run here, or None when it can."""
    if postgres_bin() is None:
        return (
            "PostgreSQL + PostGIS not installed: apt-get install postgresql-15 "
            "postgresql-15-postgis-3 (.ci/test.sh does it)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot run initdb as the postgres user"
    for module in ("pypgstac", "stac_fastapi.pgstac", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install stac-fastapi-pgstac pypgstac uvicorn)"
    return None


@dataclass(frozen=True)
class PgstacServer:
    #: STAC API root, e.g. http://127.0.0.1:PORT
    url: str
    #: libpq connection string of the database
    dsn: str


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _wait(check: Any, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {STARTUP_TIMEOUT} s: {log.read_text()[-2000:]}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def running_pgstac() -> Iterator[PgstacServer]:
    """PostgreSQL + pgstac schema + stac-fastapi-pgstac, torn down (and deleted) on exit.

    The server lives in its own ``/tmp/hybrid-pgstac-*`` folder, owned by the postgres
    user when running as root (initdb refuses root; pytest's temp folders are 0700).
    """
    import tempfile

    with _running_pgstac(Path(tempfile.mkdtemp(prefix="hybrid-pgstac-"))) as server:
        yield server


@contextlib.contextmanager
def _running_pgstac(workdir: Path) -> Iterator[PgstacServer]:
    import psycopg
    from pypgstac.db import PgstacDB
    from pypgstac.migrate import Migrate

    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError(missing_reason() or "PostgreSQL missing")
    pgdata, sockets = workdir / "pgdata", workdir / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (workdir, sockets):
            shutil.chown(path, "postgres", "postgres")
        workdir.chmod(0o700)
    password = "hybrid"
    pwfile = workdir / "pw"
    pwfile.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    init = subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "-A", "scram-sha-256",
             f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8", "--locale=C"]
        ),
        check=False,
        capture_output=True,
        text=True,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    pg_port = free_port()
    pg_log = workdir / "postgres.log"
    with open(pg_log, "wb") as log:
        postgres = subprocess.Popen(
            _as_postgres(
                [str(bindir / "postgres"), "-D", str(pgdata), "-p", str(pg_port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{pg_port}/postgres"
    api: subprocess.Popen[bytes] | None = None
    try:
        _wait(lambda: _pg_ready(bindir, pg_port), "postgres", postgres, pg_log)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        with PgstacDB(dsn=dsn) as db:
            Migrate(db).run_migration()
        api_port = free_port()
        env = dict(os.environ)
        env.update(
            PGUSER="postgres", PGPASSWORD=password, PGHOST="127.0.0.1", PGPORT=str(pg_port),
            PGDATABASE="postgres", ENABLE_TRANSACTIONS_EXTENSIONS="false",
            STAC_FASTAPI_TITLE="hybrid test pgstac",
        )  # fmt: skip
        api_log = workdir / "api.log"
        with open(api_log, "wb") as log:
            api = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app",
                 "--factory", "--host", "127.0.0.1", "--port", str(api_port),
                 "--log-level", "warning"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        url = f"http://127.0.0.1:{api_port}"
        _wait(lambda: _http_ok(f"{url}/_mgmt/ping"), "stac-fastapi-pgstac", api, api_log)
        yield PgstacServer(url=url, dsn=dsn)
    finally:
        for proc in (api, postgres):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_ready(bindir: Path, port: int) -> bool:
    done = subprocess.run(
        [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False
    )
    return done.returncode == 0


def load_into_pgstac(
    server: PgstacServer, collection: dict[str, Any], items: Iterable[dict[str, Any]]
) -> None:
    """Insert (or replace) a collection and its items."""
    from pypgstac.db import PgstacDB
    from pypgstac.load import Loader, Methods

    with PgstacDB(dsn=server.dsn) as db:
        loader = Loader(db=db)
        loader.load_collections(iter([collection]), Methods.upsert)
        loader.load_items(iter(list(items)), Methods.upsert)


def static_catalog_json(collection_json: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A static collection and its items as dicts, every href made absolute (``file://``).

    Items served by an API must not carry relative hrefs: a client resolves them
    against the API URL.
    """
    collection_json = collection_json.resolve()
    collection = json.loads(collection_json.read_text())
    items: list[dict[str, Any]] = []
    for link in collection.get("links", []):
        if link.get("rel") != "item":
            continue
        item_path = (collection_json.parent / unquote(link["href"])).resolve()
        item = json.loads(item_path.read_text())
        base = item_path.as_uri()
        for asset in item.get("assets", {}).values():
            if not urlparse(asset["href"]).scheme:
                asset["href"] = urljoin(base, asset["href"])
        item["links"] = [ln for ln in item.get("links", []) if ln.get("rel") not in {
            "self", "root", "parent", "collection"}]  # fmt: skip
        item["collection"] = collection["id"]
        items.append(item)
    collection["links"] = []
    return collection, items

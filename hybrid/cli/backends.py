"""``hybrid backends``: which execution backends exist and whether they can run here."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

#: modules the local backend needs (import name, distribution name)
LOCAL_REQUIREMENTS = (
    ("openeo_processes_dask", "openeo-processes-dask"),
    ("openeo_pg_parser_networkx", "openeo-pg-parser-networkx"),
    ("odc.stac", "odc-stac"),
    ("rasterio", "rasterio"),
    ("dask", "dask"),
    ("xarray", "xarray"),
    ("pystac", "pystac"),
)
#: seconds the reachability check of a remote backend may take
CHECK_TIMEOUT = 2.0


@dataclass(frozen=True)
class BackendStatus:
    name: str
    url: str | None
    #: True: can run here; False: cannot; None: not checked
    available: bool | None
    detail: str


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backends",
        help="list the execution backends and whether they are available here",
        description="List the backends 'hybrid run --backend' accepts - local, the named "
        "remote ones, any openEO URL - and check each: the local one for its Python "
        f"packages, remote ones with one HEAD request ({CHECK_TIMEOUT:.0f} s timeout).",
    )
    p.add_argument("urls", nargs="*", metavar="URL", help="also check these openEO URLs")
    p.add_argument("--offline", action="store_true", help="do not contact remote backends")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handle=handle)


def local_status() -> BackendStatus:
    """The local backend: available when its packages can be imported."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    missing, found = [], []
    for module, dist in LOCAL_REQUIREMENTS:
        try:
            spec = find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            missing.append(dist)
            continue
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            found.append(dist)
    if missing:
        detail = f"missing Python packages: {', '.join(missing)} (pip install them)"
        return BackendStatus("local", None, False, detail)
    return BackendStatus("local", None, True, "; ".join(found[:2]) + "; data: --stac or sample")


def remote_status(name: str, url: str, *, timeout: float = CHECK_TIMEOUT) -> BackendStatus:
    """A remote backend: available when ``HEAD url/`` answers (any HTTP status < 500)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url.rstrip("/") + "/", method="HEAD")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            code = int(response.status)
    except urllib.error.HTTPError as exc:
        code = int(exc.code)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return BackendStatus(name, url, False, f"unreachable: {reason}")
    seconds = time.monotonic() - started
    if code >= 500:
        return BackendStatus(name, url, False, f"HTTP {code} ({seconds:.2f} s): server error")
    return BackendStatus(name, url, True, f"reachable: HTTP {code} ({seconds:.2f} s)")


def statuses(urls: list[str], *, offline: bool) -> list[BackendStatus]:
    from hybrid.backends.names import REMOTE_ALIASES

    rows = [local_status()]
    remotes = [(name, url) for name, url in REMOTE_ALIASES.items()]
    remotes += [("url", u.rstrip("/")) for u in urls]
    for name, url in remotes:
        if not url.startswith(("http://", "https://")):
            from hybrid.errors import UsageError

            raise UsageError(f"'{url}' is not an openEO URL; give http://... or https://...")
        if offline:
            rows.append(BackendStatus(name, url, None, "not checked (--offline)"))
        else:
            rows.append(remote_status(name, url))
    return rows


def format_statuses(rows: list[BackendStatus]) -> str:
    marks = {True: "yes", False: "no", None: "?"}
    width = max(len(r.url or "(this machine)") for r in rows)
    lines = [f"{'backend':<11} {'where':<{width}} {'available':<9} detail"]
    for r in rows:
        where = r.url or "(this machine)"
        lines.append(f"{r.name:<11} {where:<{width}} {marks[r.available]:<9} {r.detail}")
    lines.append("any openEO URL works too: hybrid run --backend https://...")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    rows = statuses(list(args.urls), offline=args.offline)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(format_statuses(rows))
    return 0

"""Which URLs are this server's: the one rule for every URL a process graph may name.

Two kinds of URL in a graph point back at the server: a ``load_stac`` of a job's results
(:mod:`hybrid.server.job_stac`) and the ``namespace`` of a published user-defined process
(:mod:`hybrid.server.udp_sharing`). Offline, only this server's URLs can be read, so both
ask :func:`own_path` the same question against the server's root URL as the client
reached it (:func:`hybrid.server.payload.base_url`; a batch job keeps the root it was
created through, :attr:`hybrid.server.jobs.Job.root_url`).

A URL is this server's when its scheme, host and port are the root's (a missing port is
the scheme's default) and its path lies below the root's path. The loopback names
(``127.0.0.1``, ``localhost``, ``::1``, ``0.0.0.0``) are one host: a client on the server's
machine reaches the same server by any of them. Another port is another server; any
other host is another server, whose URLs the caller reads over HTTP or refuses with its
own 4xx (the engine's load_stac fetches them, "cannot read" when it cannot;
``ProcessNamespaceInvalid`` for a namespace).

Copernicus fetches both kinds over HTTP, except that ``load_stac`` of a ``.../jobs/ID/results``
URL naming one of the user's own jobs is read from the job whatever its host
(openeo-geopyspark-driver ``openeogeotrellis/load_stac.py`` ``extract_own_job_info``
L2463-2479); job ids being random, the host check here refuses only URLs Copernicus would
fetch from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: host names that all reach the machine the server runs on
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, loopback names as one; None otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # a port out of range or not a number
        return None
    return scheme, "loopback" if host in LOOPBACK else host, port


def own_path(url: str, root: str | None) -> str | None:
    """The path of ``url`` below the server's ``root`` (``/jobs/ID/results``,
    ``/processes/u:alice/f``), or None when ``url`` is not this server's.

    ``root`` None: no URL to compare with (a batch job stored by a version that did not
    keep it); any http(s) URL is then taken as this server's."""
    origin = _origin(url)
    if origin is None:
        return None
    path = urlsplit(url).path
    if root is None:
        return path
    prefix = urlsplit(root).path.rstrip("/")
    if origin != _origin(root) or not path.startswith(f"{prefix}/"):
        return None
    return path[len(prefix) :]

"""Publicly shared user-defined processes, as the Copernicus backend offers them.

A process stored with ``"public": true`` (the client's ``save_user_defined_process(...,
public=True)``) gets a ``canonical`` link, ``{root}/processes/u:{user}/{id}``, readable
without authentication (openeo-python-driver ``openeo_driver/views.py``
``processes_details`` L822-843, ``_add_udp_canonical_link`` L2152-2157). Any user can call
it by giving that URL as a node's ``namespace``; Copernicus fetches the URL and runs the
process graph it finds there, a single process or a listing holding it
(``openeo_driver/processgraph/evaluator.py`` L334-339, ``evaluate_process_from_url``
L398-411; ``processgraph/definitions.py`` ``get_process_definition_from_url`` L55-120).

This server's own URLs (:mod:`hybrid.server.own_urls`) are looked up in the store
directly; one naming no public process is refused with ``ProcessNamespaceInvalid`` (400).
Any other URL is fetched as Copernicus fetches it (:mod:`hybrid.server.remote_processes`).
:func:`resolve` inlines a graph's own and published processes before the engine runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any
from urllib.parse import quote, unquote

from hybrid.backends.base import DescribesProcesses
from hybrid.server.errors import ProcessNamespaceInvalid
from hybrid.server.graph_limits import check_graph
from hybrid.server.own_urls import own_path
from hybrid.server.remote_processes import pick, remote_process
from hybrid.server.udp_expansion import expand
from hybrid.server.udp_store import UdpStore

#: the namespace prefix of a user's published processes (views.py L831)
USER_PREFIX = "u:"


def is_url(namespace: str | None) -> bool:
    return isinstance(namespace, str) and namespace.lower().startswith(("http://", "https://"))


def canonical_link(root: str, user_id: str, process_id: str) -> dict[str, str]:
    """The link Copernicus adds to a public process (views.py L2152-2157)."""
    return {
        "rel": "canonical",
        "href": f"{root}/processes/{USER_PREFIX}{quote(user_id, safe='')}/{process_id}",
        "title": f"Public URL for user-defined process {process_id!r}",
    }


def as_shown(process: dict[str, Any], root: str, user_id: str) -> dict[str, Any]:
    """A stored process as its owner or the public sees it: without ``public`` when it is
    false, with the canonical link when it is true (``UserDefinedProcessMetadata.to_api_dict``
    in openeo_driver/backend.py L713-723)."""
    shown = {key: value for key, value in process.items() if key != "public"}
    if process.get("public") is True:
        links = [link for link in process.get("links") or [] if link.get("rel") != "canonical"]
        shown["links"] = [*links, canonical_link(root, user_id, process["id"])]
        shown["public"] = True
    return shown


def public_process(store: UdpStore, user_id: str, process_id: str) -> dict[str, Any] | None:
    found = store.find(user_id, process_id)
    return found if found is not None and found.get("public") is True else None


def public_processes(store: UdpStore, user_id: str) -> list[dict[str, Any]]:
    return [p for p in store.of_user(user_id) if p.get("public") is True]


def _own_path(url: str, own_root: str | None) -> str | None:
    """The part of ``url`` after ``{own_root}/processes/``, None for another server's URL
    (:func:`hybrid.server.own_urls.own_path`)."""
    path = own_path(url, own_root)
    if path is None or not path.startswith("/processes/"):
        return None
    return path[len("/processes/") :]


def process_from_url(
    store: UdpStore | None, process_id: str, url: str, own_root: str | None
) -> dict[str, Any]:
    """The public process ``process_id`` that ``url`` (a node's namespace) names: this
    server's document read from the store, another's fetched; either picked as
    Copernicus picks from the document (:func:`hybrid.server.remote_processes.pick`)."""
    path = _own_path(url, own_root)
    if path is None:
        return remote_process(process_id, url)
    if store is None:
        raise ProcessNamespaceInvalid(f"Namespace '{url}' cannot be resolved here.")
    return pick(process_id, url, _own_document(store, process_id, url, path, own_root))


def _own_document(
    store: UdpStore, process_id: str, url: str, path: str, own_root: str | None
) -> dict[str, Any]:
    """What this server answers at ``url`` (``path`` after /processes/): a user's public
    process, or the listing of their public processes (only the one asked for: the rest
    cannot match)."""
    namespace, _, named = path.partition("/")
    if not namespace.startswith(USER_PREFIX) or "/" in named:
        raise ProcessNamespaceInvalid(
            f"Process '{process_id}' specified with invalid namespace '{url}': this server "
            f"publishes processes at {own_root or ''}/processes/u:USER/ID."
        )
    owner = unquote(namespace[len(USER_PREFIX) :])
    if not named:  # a listing (definitions.py L97-107)
        found = public_process(store, owner, process_id)
        return {"processes": [] if found is None else [found], "links": []}
    found = public_process(store, owner, unquote(named))
    if found is None:
        raise ProcessNamespaceInvalid(
            f"Process '{process_id}' specified with invalid namespace '{url}': no public "
            f"process '{unquote(named)}' of user '{owner}'."
        )
    return found


class PredefinedIds(Container[str]):
    """The ids of ``engine``'s predefined processes (``GET /processes``) that Copernicus's
    process registry also holds, read on first use (the engine's process catalogue is
    imported by the first graph, not at start-up). A process Copernicus lacks
    (:data:`~hybrid.backends.local.copernicus_registry.NOT_ON_COPERNICUS`) is looked up
    among the user's first, as there."""

    def __init__(self, engine: DescribesProcesses) -> None:
        self._engine = engine
        self._ids: frozenset[str] | None = None

    def __contains__(self, process_id: object) -> bool:
        if self._ids is None:
            from hybrid.backends.local.copernicus_registry import NOT_ON_COPERNICUS

            ids = {spec["id"] for spec in self._engine.process_specs()}
            self._ids = frozenset(ids - NOT_ON_COPERNICUS)
        return process_id in self._ids


def calls_predefined(process_id: str, namespace: str | None, predefined: Container[str]) -> bool:
    """Whether a node calls the predefined process rather than a user's stored one of the
    same id: without a namespace a predefined process wins, as Copernicus looks in its
    process registry first and in the user's processes only when the registry lacks the
    id (openeo-python-driver ``processgraph/evaluator.py`` ``apply_process`` L347-368)."""
    return namespace is None and process_id in predefined


def lookup(
    store: UdpStore | None,
    user_id: str | None,
    own_root: str | None,
    *,
    fetch: bool = True,
    predefined: Container[str] = (),
) -> Callable[[str, str | None], dict[str, Any] | None]:
    """The expansion's lookup: the user's own processes (namespace ``user`` or none), a
    published one by URL; inside the latter, names are again the caller's
    (evaluator.py ``_evaluate_process_graph_process`` keeps the caller's environment).

    Without a namespace a ``predefined`` process wins over a stored one of the same id, as
    Copernicus looks in its process registry first and in the user's processes only when
    the registry lacks the id (openeo-python-driver ``processgraph/evaluator.py``
    ``apply_process`` L347-368): a stored ``ndvi`` is called with namespace ``user``."""

    def find(process_id: str, namespace: str | None) -> dict[str, Any] | None:
        if calls_predefined(process_id, namespace, predefined):
            return None
        if is_url(namespace):
            url = str(namespace)
            if not fetch and _own_path(url, own_root) is None:
                return None  # another server's: read when the graph runs
            return process_from_url(store, process_id, url, own_root)
        if namespace in (None, "user") and store is not None and user_id is not None:
            return store.find(user_id, process_id)
        return None

    return find


def resolve(
    store: UdpStore | None,
    graph: dict[str, Any],
    user_id: str | None,
    own_root: str | None = None,
    predefined: Container[str] = (),
) -> dict[str, Any]:
    """``graph`` with ``user_id``'s user-defined processes and the published processes its
    URL namespaces name inlined, within the graph limits. ``own_root`` is the server's URL
    as the client reached it (None: URLs were checked against it before); ``predefined``
    the ids a node without namespace calls before the user's (:func:`lookup`)."""
    expanded = expand(graph, lookup(store, user_id, own_root, predefined=predefined))
    if store is not None:
        check_graph(expanded)
    return expanded

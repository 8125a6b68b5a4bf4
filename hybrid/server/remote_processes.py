"""A user-defined process that a node's URL ``namespace`` names on another server.

Copernicus fetches the URL when it evaluates the node and runs the process graph it finds
(openeo-python-driver ``openeo_driver/processgraph/definitions.py``
``get_process_definition_from_url`` L55-120, called from ``evaluator.py`` L338-343 and
``evaluate_process_from_url`` L398-410): the document is either one process (``id`` and
``process_graph``, as ``GET /process_graphs/{id}`` gives it; its id must be the node's)
or a listing (``processes`` and ``links``, as ``GET /process_graphs``) holding exactly one
process of that id with a graph. The published processes of the ESA APEx catalogue
(raw.githubusercontent.com JSON files) are called this way. A URL that cannot be read is
a 400 ``ProcessNamespaceInvalid`` with the cause, as there.
"""

from __future__ import annotations

from typing import Any

from hybrid.server.errors import ProcessIdMismatch, ProcessNamespaceInvalid, ProcessNotFound

#: (connect, read) seconds for the fetch
TIMEOUT = (10, 60)


def remote_process(process_id: str, url: str) -> dict[str, Any]:
    """The process ``process_id`` defined at ``url`` (see the module doc)."""
    try:
        document = _fetched(url)
    except Exception as exc:
        raise ProcessNamespaceInvalid(
            f"Process '{process_id}' specified with invalid namespace '{url}': {exc!r}"
        ) from None
    return pick(process_id, url, document)


def _fetched(url: str) -> dict[str, Any]:
    import requests

    answer = requests.get(url, timeout=TIMEOUT)
    answer.raise_for_status()
    document = answer.json()
    if not isinstance(document, dict):
        raise ValueError(
            f"Process definition should be a JSON object, but got {type(document).__name__}."
        )
    return document


def pick(process_id: str, url: str, document: dict[str, Any]) -> dict[str, Any]:
    """The process of ``document`` (one process or a listing) that the node calls."""
    if "id" in document and "process_graph" in document:
        if document["id"] != process_id:
            raise ProcessIdMismatch(
                f"Mismatch between expected process '{process_id}' and process "
                f"'{document['id']}' defined at '{url}'."
            )
        return document
    if "processes" in document and "links" in document:
        found = [
            p
            for p in document["processes"] or []
            if isinstance(p, dict) and p.get("id") == process_id and p.get("process_graph")
        ]
        if len(found) != 1:
            raise ProcessNotFound(
                f"Process '{process_id}' not found in process listing at '{url}'."
            )
        return found[0]
    raise ProcessNotFound(f"No valid process definition for '{process_id}' found at '{url}'.")

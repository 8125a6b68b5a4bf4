"""A user's process graph from a JSON file, in any of the shapes openEO tools write it.

- the flat graph ``{"node": {"process_id": ...}, ...}`` (``hybrid graph``, the client's
  ``DataCube.flat_graph()``),
- ``{"process_graph": {...}}`` (the client's ``print_json``/``to_json``, a stored
  user-defined process, ``GET /process_graphs/{id}``),
- ``{"process": {"process_graph": {...}}}`` (a ``POST /result`` or ``POST /jobs`` body,
  ``GET /jobs/{id}``).

``hybrid run --graph`` and ``hybrid record --graph`` read it here, so the graph a test
records on Copernicus and the graph it runs locally are the same JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybrid.errors import UsageError

#: the name that reads the graph from standard input
STDIN = "-"


def read_graph(source: str | Path) -> dict[str, Any]:
    """The flat process graph held by the file ``source`` (``-``: standard input)."""
    return flat_graph(_load(str(source)), source=_name(source))


def flat_graph(document: Any, *, source: str) -> dict[str, Any]:
    """The flat graph of a parsed graph document (the module docstring's shapes)."""
    if isinstance(document, Mapping) and isinstance(document.get("process"), Mapping):
        document = document["process"]
    if isinstance(document, Mapping) and "process_graph" in document:
        document = document["process_graph"]
    if not isinstance(document, Mapping) or not document:
        raise UsageError(
            f"{source} holds no process graph: expected a JSON object of nodes, or one "
            "with 'process_graph' (e.g. from 'hybrid graph' or the client's print_json)"
        )
    for node_id, node in document.items():
        if not isinstance(node, Mapping) or not isinstance(node.get("process_id"), str):
            raise UsageError(
                f"{source}: node '{node_id}' has no 'process_id'; every node of a flat "
                "process graph is an object with 'process_id' and 'arguments'"
            )
    results = [node_id for node_id, node in document.items() if node.get("result") is True]
    if len(results) != 1:
        found = f"{len(results)} ({', '.join(results)})" if results else "none"
        raise UsageError(
            f'{source}: a process graph has exactly one node with "result": true; found {found}'
        )
    return dict(document)


def _name(source: str | Path) -> str:
    return "standard input" if str(source) == STDIN else str(source)


def _load(source: str) -> Any:
    """The JSON document of ``source``."""
    try:
        if source == STDIN:
            return json.load(sys.stdin)
        with Path(source).open(encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise UsageError(f"graph file not found: {source}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the graph file {source}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{_name(source)} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise UsageError(f"{_name(source)} nests JSON too deeply to be a process graph") from None

"""A user's process graph from a JSON file, in any of the shapes openEO tools write it.

- the flat graph ``{"node": {"process_id": ...}, ...}`` (``hybrid graph``, the client's
  ``DataCube.flat_graph()``),
- ``{"process_graph": {...}}`` (the client's ``print_json``/``to_json``, a stored
  user-defined process, ``GET /process_graphs/{id}``),
- ``{"process": {"process_graph": {...}}}`` (a ``POST /result`` or ``POST /jobs`` body,
  ``GET /jobs/{id}``).

``hybrid run --graph`` and ``hybrid record --graph`` read it here
(:func:`hybrid.cli.run_graph.user_graph`), so the graph a test records on Copernicus and
the graph it runs locally are the same JSON: standard JSON only (``NaN`` and
``Infinity`` are refused, as a remote backend's client refuses to send them).
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


def read_document(source: str | Path) -> Any:
    """The JSON document of the graph file ``source`` (``-``: standard input); a regular
    file of standard JSON (no ``NaN`` or ``Infinity``, which a remote backend refuses)."""
    text = str(source)
    if not text:
        raise UsageError("--graph needs a file name (or - for standard input)")
    try:
        if text == STDIN:
            return json.load(sys.stdin, parse_constant=_refuse_constant)
        path = Path(text)
        if path.exists() and not path.is_file():
            raise UsageError(f"graph file {text} is not a regular file (a folder or a device)")
        with path.open(encoding="utf-8") as stream:
            return json.load(stream, parse_constant=_refuse_constant)
    except FileNotFoundError:
        raise UsageError(f"graph file not found: {text}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read the graph file {text}: {reason}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{_name(text)} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting, a number beyond Python's limit
        raise UsageError(f"{_name(text)} is not a readable process graph: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (write null, or a number)")


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
                f"{source}: node '{node_id}' needs a 'process_id' text; every node of a "
                "flat process graph is an object with 'process_id' and 'arguments'"
            )
    results = [node_id for node_id, node in document.items() if node.get("result") is True]
    if len(results) != 1:
        found = f"{len(results)} ({', '.join(results)})" if results else "none"
        raise UsageError(
            f'{source}: a process graph has exactly one node with "result": true; found {found}'
        )
    return dict(document)


def parameters(document: Any) -> list[Mapping[str, Any]]:
    """The parameters a user-defined process document declares (none for a graph)."""
    if isinstance(document, Mapping) and isinstance(document.get("process"), Mapping):
        document = document["process"]
    declared = document.get("parameters") if isinstance(document, Mapping) else None
    if not isinstance(declared, list):
        return []
    return [p for p in declared if isinstance(p, Mapping) and isinstance(p.get("name"), str)]


def _name(source: str) -> str:
    return "standard input" if source == STDIN else source

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
from hybrid.limits import MAX_GRAPH_BYTES, MAX_JSON_DEPTH

#: the name that reads the graph from standard input
STDIN = "-"


def read_document(source: str | Path, *, what: str = "graph file") -> Any:
    """The JSON document of the graph file ``source`` (``-``: standard input); a regular
    file of standard JSON (no ``NaN`` or ``Infinity``, which a remote backend refuses)
    of at most :data:`MAX_GRAPH_BYTES` (:func:`flat_graph` refuses one nested deeper than
    :data:`MAX_JSON_DEPTH`, the emulator's limit of a request)."""
    text = str(source)
    if not text:
        raise UsageError(f"the {what} needs a name (or - for standard input)")
    try:
        document = _parsed(_text(text, what), text)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {text}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read the {what} {text}: {reason}") from None
    return document


def _text(source: str, what: str) -> str:
    """The file's (or standard input's) text, at most :data:`MAX_GRAPH_BYTES`."""
    if source == STDIN:
        text = sys.stdin.read(MAX_GRAPH_BYTES + 1)
    else:
        path = Path(source)
        if path.exists() and not path.is_file():
            raise UsageError(f"{what} {source} is not a regular file (a folder or a device)")
        with path.open(encoding="utf-8") as stream:
            text = stream.read(MAX_GRAPH_BYTES + 1)
    if len(text) > MAX_GRAPH_BYTES:
        raise UsageError(
            f"{display_name(source)} is larger than {MAX_GRAPH_BYTES // 2**20} MiB: no graph is"
        )
    return text


def _parsed(text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{display_name(source)} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting, a number beyond Python's limit
        reason = str(exc).split(";")[0]
        raise UsageError(
            f"{display_name(source)} is not a readable process graph: {reason}"
        ) from None


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a number: 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list):
            deepest = max(deepest, depth)
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, Mapping) else item)
            )
    return deepest


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
    if json_depth(document) > MAX_JSON_DEPTH:  # counted once: files and dicts alike
        raise UsageError(
            f"{source} is nested deeper than {MAX_JSON_DEPTH} levels, more than any process "
            "graph needs (the emulator refuses such a request too)"
        )
    for node_id, node in document.items():
        if not isinstance(node_id, str):
            raise UsageError(f"{source}: node id {node_id!r} is no text; node ids are texts")
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


def display_name(source: str) -> str:
    """How messages name a graph source (``-``: standard input)."""
    return "standard input" if source == STDIN else source

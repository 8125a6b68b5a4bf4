"""Limits on what the emulator accepts as a process graph, checked before any engine sees it.

A hostile or broken request must cost a 4xx, never a ``RecursionError`` (500): the JSON
nesting depth is checked on the raw bytes before parsing, then the graph is walked without
recursion for its node count, its callback depth and cycles between ``from_node`` references.
:func:`check_graph` runs on every graph of ``POST /validation``, ``POST /result``,
``POST /jobs``, ``PATCH /jobs/{id}`` and ``PUT /process_graphs/{id}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from hybrid.server.errors import BadRequest, GraphCycle, ProcessGraphComplexity

#: deepest JSON nesting of a request body (a callback adds about 4 levels)
MAX_JSON_DEPTH = 200
#: most nodes in one graph, callbacks included
MAX_NODES = 1000
#: deepest nesting of callbacks (``process_graph`` inside an argument)
MAX_CALLBACK_DEPTH = 16

_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_json_depth(body: bytes) -> None:
    """Refuse a body nested deeper than :data:`MAX_JSON_DEPTH` (strings are skipped)."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(
                    f"The request body is nested deeper than {MAX_JSON_DEPTH} levels "
                    "(limit MAX_JSON_DEPTH): send a flatter document."
                )
        elif token in (b"]", b"}"):
            depth -= 1


def _callbacks(value: Any) -> Iterator[Mapping[str, Any]]:
    """The ``process_graph`` objects anywhere inside an argument value (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            graph = item.get("process_graph")
            if isinstance(graph, Mapping):
                yield graph
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _from_nodes(value: Any) -> Iterator[str]:
    """The ``from_node`` references of one node's arguments (not inside callbacks)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if isinstance(item.get("from_node"), str) and len(item) == 1:
                yield item["from_node"]
            elif "process_graph" not in item:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_acyclic(graph: Mapping[str, Any]) -> None:
    """Kahn's algorithm over the ``from_node`` edges of one (sub)graph."""
    needs = {
        node_id: {ref for ref in _from_nodes(node.get("arguments", {})) if ref in graph}
        for node_id, node in graph.items()
        if isinstance(node, Mapping)
    }
    ready = [node_id for node_id, refs in needs.items() if not refs]
    users: dict[str, list[str]] = {}
    for node_id, refs in needs.items():
        for ref in refs:
            users.setdefault(ref, []).append(node_id)
    done = 0
    while ready:
        node_id = ready.pop()
        done += 1
        for user in users.get(node_id, ()):
            needs[user].discard(node_id)
            if not needs[user]:
                ready.append(user)
    if done < len(needs):
        stuck = sorted(node_id for node_id, refs in needs.items() if refs)
        raise GraphCycle(
            "Invalid process graph specified: it has a cycle through the nodes "
            f"{', '.join(stuck[:5])} (from_node references must not loop).",
            node=stuck[0],
        )


def check_graph(graph: Mapping[str, Any]) -> None:
    """Refuse graphs over :data:`MAX_NODES` or :data:`MAX_CALLBACK_DEPTH`, or with a cycle."""
    stack: list[tuple[Mapping[str, Any], int]] = [(graph, 1)]
    nodes = 0
    while stack:
        current, depth = stack.pop()
        if depth > MAX_CALLBACK_DEPTH:
            raise ProcessGraphComplexity(
                f"The process graph nests callbacks deeper than {MAX_CALLBACK_DEPTH} levels "
                "(limit MAX_CALLBACK_DEPTH)."
            )
        nodes += len(current)
        if nodes > MAX_NODES:
            raise ProcessGraphComplexity(
                f"The process graph has more than {MAX_NODES} nodes, callbacks included "
                "(limit MAX_NODES): split it into several jobs."
            )
        _check_acyclic(current)
        for node in current.values():
            if isinstance(node, Mapping):
                stack.extend((cb, depth + 1) for cb in _callbacks(node.get("arguments", {})))

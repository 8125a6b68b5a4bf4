"""The shape of a flat process graph: its callbacks, its ``from_node`` edges, its cycles.

Walked without recursion, so a hostile or broken graph costs an error, never a
``RecursionError``: the emulator's limits (:mod:`hybrid.server.graph_limits`) and the
local engine's check of a graph file (:meth:`hybrid.backends.local.LocalBackend.validate`)
both read a graph through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hybrid.limits import MAX_CALLBACK_DEPTH, MAX_NODES


def callback_graph(value: Any) -> Mapping[str, Any] | None:
    """The nodes of a callback argument (``{"process_graph": {...}}``); None when
    ``value`` is no callback."""
    graph = value.get("process_graph") if isinstance(value, Mapping) else None
    return graph if isinstance(graph, Mapping) else None


def nodes_reading(callback: Any, parameter: str) -> list[dict[str, Any]]:
    """The nodes of a callback applied to its ``parameter`` itself."""
    nodes = callback_graph(callback)
    if nodes is None:
        return []
    return [
        node
        for node in nodes.values()
        if isinstance(node, dict)
        and (node.get("arguments") or {}).get(parameter) == {"from_parameter": parameter}
    ]


def lone_process(callback: Any, parameter: str) -> dict[str, Any] | None:
    """The one node of a callback whose graph is that node applied to ``parameter``."""
    nodes, reading = callback_graph(callback), nodes_reading(callback, parameter)
    return reading[0] if nodes is not None and len(nodes) == 1 and reading else None


def callbacks(value: Any) -> Iterator[Mapping[str, Any]]:
    """The ``process_graph`` objects anywhere inside an argument value (not nested ones)."""
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


def from_nodes(value: Any) -> Iterator[str]:
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


def cyclic_nodes(graph: Mapping[str, Any]) -> list[str]:
    """The nodes of one (sub)graph on a ``from_node`` loop, sorted; empty when it has
    none (Kahn's algorithm, then the nodes that only wait on a loop left out)."""
    needs = {
        node_id: {ref for ref in from_nodes(node.get("arguments", {})) if ref in graph}
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
    stuck = {node_id for node_id, refs in needs.items() if refs}
    while True:  # the nodes downstream of a loop wait too: keep the loop's own
        on_loop = stuck & {ref for node_id in stuck for ref in needs[node_id]}
        if on_loop == stuck:
            return sorted(stuck)
        stuck = on_loop


def subgraphs(graph: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], int]]:
    """``graph`` and every callback in it, at any depth, with its depth (``graph``: 1)."""
    stack: list[tuple[Mapping[str, Any], int]] = [(graph, 1)]
    while stack:
        current, depth = stack.pop()
        yield current, depth
        for node in current.values():
            if isinstance(node, Mapping):
                stack.extend((cb, depth + 1) for cb in callbacks(node.get("arguments", {})))


@dataclass(frozen=True)
class ShapeProblem:
    """Why a graph is refused before any parser walks it: ``depth`` (callbacks nested
    deeper than :data:`MAX_CALLBACK_DEPTH`), ``nodes`` (more than allowed, callbacks
    included), ``cycle`` (``nodes`` then names the loop's nodes) or ``reference`` (a
    ``from_node``/``from_parameter`` object other than the API's one key with a string;
    ``nodes`` names the node, ``detail`` the object)."""

    kind: Literal["depth", "nodes", "cycle", "reference"]
    nodes: tuple[str, ...] = ()
    detail: str = ""


def shape_problem(graph: Mapping[str, Any], *, max_nodes: int = MAX_NODES) -> ShapeProblem | None:
    """The first problem of ``graph``'s shape, walking it and its callbacks once; the
    emulator's limits (:mod:`hybrid.server.graph_limits`) and the local engine's check
    raise their own error for it."""
    nodes = 0
    for current, depth in subgraphs(graph):
        if depth > MAX_CALLBACK_DEPTH:
            return ShapeProblem("depth")
        nodes += len(current)
        if nodes > max_nodes:
            return ShapeProblem("nodes")
        malformed = malformed_reference(current)
        if malformed is not None:
            return ShapeProblem("reference", (malformed[0],), malformed[1])
        stuck = cyclic_nodes(current)
        if stuck:
            return ShapeProblem("cycle", tuple(stuck))
    return None


_REFERENCE_KEYS = ("from_node", "from_parameter")


def malformed_reference(graph: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first node of one graph level (not its callbacks) holding a reference object
    the openEO API does not allow, with that object as JSON text; None when there is none.

    API 1.2 (openapi.yaml ``process_argument_value``): a result reference is exactly
    ``{"from_node": "<node id>"}`` and a parameter reference ``{"from_parameter":
    "<name>"}`` (``type: string``, ``additionalProperties: false``), and no other object
    may hold either key. Refused here, every reader of ``from_node`` sees only those."""
    for node_id, node in graph.items():
        if not isinstance(node, Mapping):
            continue
        stack = [node.get("arguments")]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, Mapping) and "process_graph" not in item:
                keys = [key for key in _REFERENCE_KEYS if key in item]
                if keys and (len(item) != 1 or not isinstance(item[keys[0]], str)):
                    return str(node_id), _json_text(item)
                stack.extend(item.values())
    return None


def reference_message(problem: ShapeProblem) -> str:
    """The one line that refuses a ``reference`` problem, and how to write it instead."""
    return (
        f"invalid process graph: node '{problem.nodes[0]}' has the argument value "
        f'{problem.detail}, which is no reference: write {{"from_node": "<node id>"}} '
        'or {"from_parameter": "<name>"} with nothing else in that object'
    )


def _json_text(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."

"""Process graphs written as elements of an array inside a callback, as Copernicus reads
them: inline, each the value of its element.

Copernicus runs a callback (``apply``, ``apply_dimension``, ``reduce_dimension``, ...)
through its tile script builder, fed by openeo-geopyspark-driver
``processgraphvisiting.py`` ``GeotrellisTileProcessGraphVisitor``: an array element that
is an object without ``from_node``/``from_parameter``/``process_id`` goes to
``_accept_dict`` (L72-74), which visits its ``process_graph`` in place (the openeo
client's ``ProcessGraphVisitor._accept_argument_list``), so ``{"process_graph": {"eq1":
{"process_id": "eq", "arguments": {"x": {"from_parameter": "data"}, "y": 10}}}}`` is
``eq(data, 10)`` on the callback's own ``data``. APEx ``vito/worldcover_statistics``
builds its eleven class masks so, in ``array_create`` over bands. Here such an element
became a function, not a value (``array_create`` gave an array of eleven functions).

:func:`inline_element_graphs` rewrites each such element of a callback into nodes of
that callback (ids prefixed, unique) and a ``from_node`` reference to its result node;
its parameter references then read the callback's parameters, as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hybrid.graph_structure import callback_graph


def inline_element_graphs(graph: Mapping[str, Any]) -> dict[str, Any]:
    """``graph`` (a flat graph) with every array element of a callback that is a process
    graph inlined into that callback."""
    return {nid: _with_callbacks(node) for nid, node in graph.items()}


def _with_callbacks(node: Any) -> Any:
    """A top-level node with its callbacks rewritten (its own lists left as they are)."""
    if not isinstance(node, Mapping) or not isinstance(node.get("arguments"), Mapping):
        return node
    arguments = {
        name: {**value, "process_graph": _callback(value["process_graph"])}
        if callback_graph(value) is not None
        else value
        for name, value in node["arguments"].items()
    }
    return {**node, "arguments": arguments}


def _callback(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A callback's graph with its nodes' process-graph array elements inlined."""
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for nid, node in graph.items():
        out[nid] = _callback_node(node, nid, extra)
    return {**out, **extra}


def _callback_node(node: Any, nid: str, extra: dict[str, Any]) -> Any:
    if not isinstance(node, Mapping) or not isinstance(node.get("arguments"), Mapping):
        return node
    arguments: dict[str, Any] = {}
    for name, value in node["arguments"].items():
        if callback_graph(value) is not None:
            arguments[name] = {**value, "process_graph": _callback(value["process_graph"])}
        elif isinstance(value, list):
            arguments[name] = [_element(v, extra, f"{nid}~{name}{i}~") for i, v in enumerate(value)]
        else:
            arguments[name] = value
    return {**node, "arguments": arguments}


def _element(element: Any, extra: dict[str, Any], prefix: str) -> Any:
    """An array element; one that is a process graph (nothing else) becomes a reference
    to its result node, its nodes added to ``extra`` with ids prefixed."""
    if not (callback_graph(element) is not None and set(element) == {"process_graph"}):
        return element
    inner = _callback(element["process_graph"])
    results = [nid for nid, n in inner.items() if isinstance(n, Mapping) and n.get("result")]
    if len(results) != 1:
        return element
    for nid, node in inner.items():
        extra[prefix + nid] = _renamed(node, prefix)
    return {"from_node": prefix + results[0]}


def _renamed(node: Any, prefix: str) -> Any:
    """An inlined node, not a result, its references to its graph's nodes prefixed."""
    if not isinstance(node, Mapping):
        return node
    arguments = {k: _references(v, prefix) for k, v in (node.get("arguments") or {}).items()}
    return {**node, "arguments": arguments, "result": False}


def _references(value: Any, prefix: str) -> Any:
    if isinstance(value, Mapping):
        if "from_node" in value:
            return {**value, "from_node": prefix + str(value["from_node"])}
        if "process_graph" in value:  # a callback's own nodes
            return value
        return {k: _references(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [_references(v, prefix) for v in value]
    return value

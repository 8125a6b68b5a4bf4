"""User-defined processes inlined into the graph before any engine sees it.

A node calling a user-defined process (namespace ``user``, or no namespace and a process of
that id stored by the user - the openEO API prefers user-defined processes then - or an
http(s) URL namespace naming a published process, :mod:`hybrid.server.udp_sharing`) is replaced
by the process's own nodes, renamed ``<node>:<inner node>``, with every
``{"from_parameter": name}`` replaced by the node's argument (or the parameter's default).
References to the calling node then point at the process's result node. The engine thus
only runs predefined processes, whichever backend it is.

Parameters of callbacks shadow the process's parameters of the same name; the callback
parameters are recognised by their standard names (:data:`CALLBACK_PARAMETERS`).

Copernicus does not substitute a process's parameters inside the callbacks its script
builder compiles (apply, reduce_dimension, ...): the builder reads the data there
instead (:func:`hybrid.backends.local.callback_support.parameters_out_of_reach`). The
expansion substitutes them all the same and writes a warning for each such parameter
(the job's log when a job runs).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from hybrid.errors import ProcessGraphInvalid, ProcessUnsupported
from hybrid.server.errors import ApiError

#: deepest chain of user-defined processes calling each other
MAX_UDP_DEPTH = 8
#: parameter names the predefined processes give their callbacks
CALLBACK_PARAMETERS = frozenset({"x", "y", "data", "context", "value", "index", "label"})

#: ``(process_id, namespace)`` -> the user-defined process the node calls, None for a
#: predefined one; it raises for a namespace that names nothing it can find
Lookup = Callable[[str, "str | None"], "dict[str, Any] | None"]


class ProcessParameterRequired(ApiError):
    code = "ProcessParameterRequired"


class ProcessParameterUnsupported(ApiError):
    code = "ProcessParameterUnsupported"


def expand(graph: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    """``graph`` with every call of a user-defined process inlined (callbacks included)."""
    return _expand(graph, lookup, ())


def _expand(graph: Mapping[str, Any], lookup: Lookup, stack: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    redirect: dict[str, str] = {}
    for node_id, node in graph.items():
        node = {**node, "arguments": _in_callbacks(node.get("arguments", {}), lookup, stack)}
        udp = lookup(node["process_id"], node.get("namespace"))
        if udp is None:
            if node.get("namespace") == "user":
                raise ProcessUnsupported(
                    f"Process with identifier '{node['process_id']}' is not available in "
                    "namespace 'user': save it first (PUT /process_graphs/{id}).",
                    node=node_id,
                )
            out[node_id] = node
            continue
        inner, result_id = _inline(node_id, node, udp, lookup, stack)
        out.update(inner)
        redirect[node_id] = result_id
    return {node_id: _redirected(node, redirect) for node_id, node in out.items()}


def _inline(
    node_id: str,
    node: Mapping[str, Any],
    udp: Mapping[str, Any],
    lookup: Lookup,
    stack: tuple[str, ...],
) -> tuple[dict[str, Any], str]:
    """The nodes replacing ``node`` (a call of ``udp``) and the id of their result node."""
    pid = str(node["process_id"])
    if pid in stack or len(stack) >= MAX_UDP_DEPTH:
        chain = " -> ".join((*stack, pid))
        raise ProcessGraphInvalid(
            f"User-defined processes call each other too deeply or in a loop: {chain}.",
            node=node_id,
        )
    body = _expand(udp["process_graph"], lookup, (*stack, pid))
    values = _parameter_values(udp, node.get("arguments", {}), node_id)
    _note_parameters_in_callbacks(pid, body, set(values) - CALLBACK_PARAMETERS)
    prefix = f"{node_id}:"
    renamed = {
        prefix + inner_id: _redirected(inner, {k: prefix + k for k in body})
        for inner_id, inner in body.items()
    }
    results = [inner_id for inner_id, inner in renamed.items() if inner.get("result")]
    if len(results) != 1:
        raise ProcessGraphInvalid(
            f"User-defined process '{pid}' needs exactly one result node.", node=node_id
        )
    inlined = {}
    for inner_id, inner in renamed.items():
        inner = {**inner, "arguments": _substituted(inner.get("arguments", {}), values)}
        inner.pop("result", None)
        inlined[inner_id] = inner
    if node.get("result"):
        inlined[results[0]]["result"] = True
    return inlined, results[0]


def _parameter_values(
    udp: Mapping[str, Any], arguments: Mapping[str, Any], node_id: str
) -> dict[str, Any]:
    declared = udp.get("parameters")
    if declared is None:  # no declaration: the arguments are the parameters
        return dict(arguments)
    names = {p["name"] for p in declared}
    unknown = sorted(set(arguments) - names)
    if unknown:
        raise ProcessParameterUnsupported(
            f"Process '{udp['id']}' does not support parameter '{unknown[0]}'.", node=node_id
        )
    values: dict[str, Any] = {}
    for parameter in declared:
        name = parameter["name"]
        if name in arguments:
            values[name] = arguments[name]
        elif "default" in parameter:
            values[name] = parameter["default"]
        elif not parameter.get("optional", False):
            raise ProcessParameterRequired(
                f"Process '{udp['id']}' parameter '{name}' is required.", node=node_id
            )
    return values


def _note_parameters_in_callbacks(pid: str, body: Mapping[str, Any], names: set[str]) -> None:
    """A warning per parameter of process ``pid`` that a callback of ``body`` reads where
    Copernicus's callback builder cannot resolve it."""
    from hybrid.backends.local.callback_support import parameters_out_of_reach
    from hybrid.run_warnings import warn

    for inner in body.values():
        for name in parameters_out_of_reach(inner, names):
            warn(
                f"the callback of {inner['process_id']} in user-defined process '{pid}' "
                f"reads its parameter '{name}', which Copernicus's callback builder does "
                "not receive: it computes with the data there instead, so the result may "
                "differ; write the value into the callback to get the same result on both"
            )


def _in_callbacks(value: Any, lookup: Lookup, stack: tuple[str, ...]) -> Any:
    """``value`` with user-defined processes inlined in the callbacks it holds."""
    if isinstance(value, Mapping):
        if isinstance(value.get("process_graph"), Mapping):
            return {**value, "process_graph": _expand(value["process_graph"], lookup, stack)}
        return {key: _in_callbacks(item, lookup, stack) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_callbacks(item, lookup, stack) for item in value]
    return value


def _redirected(node: Mapping[str, Any], redirect: Mapping[str, str]) -> dict[str, Any]:
    """``node`` with its ``from_node`` references (not those inside callbacks) renamed."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            if set(value) == {"from_node"} and value["from_node"] in redirect:
                return {"from_node": redirect[value["from_node"]]}
            if "process_graph" in value:
                return value
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return {**node, "arguments": walk(node.get("arguments", {}))}


def _substituted(
    value: Any, values: Mapping[str, Any], shadowed: frozenset[str] = frozenset()
) -> Any:
    """``value`` with ``{"from_parameter": name}`` of the process's parameters replaced."""
    if isinstance(value, Mapping):
        if set(value) == {"from_parameter"}:
            name = value["from_parameter"]
            if name in values and name not in shadowed:
                return copy.deepcopy(values[name])
            return dict(value)
        if isinstance(value.get("process_graph"), Mapping):
            inner = shadowed | CALLBACK_PARAMETERS
            graph = {
                node_id: {
                    **node,
                    "arguments": _substituted(node.get("arguments", {}), values, inner),
                }
                for node_id, node in value["process_graph"].items()
            }
            return {**value, "process_graph": graph}
        return {key: _substituted(item, values, shadowed) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, values, shadowed) for item in value]
    return value


def process_ids(graph: Mapping[str, Any]) -> set[str]:
    """Every process id a graph calls, callbacks included."""
    found: set[str] = set()
    stack: list[Any] = [graph]
    while stack:
        current = stack.pop()
        for node in current.values():
            found.add(str(node.get("process_id")))
            pending = [node.get("arguments", {})]
            while pending:
                value = pending.pop()
                if isinstance(value, Mapping):
                    if isinstance(value.get("process_graph"), Mapping):
                        stack.append(value["process_graph"])
                    else:
                        pending.extend(value.values())
                elif isinstance(value, list):
                    pending.extend(value)
    return found

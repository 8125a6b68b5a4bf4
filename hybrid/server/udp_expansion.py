"""User-defined processes inlined into the graph before any engine sees it.

A node calling a user-defined process (namespace ``user``, or no namespace and a process of
that id stored by the user - the openEO API prefers user-defined processes then - or an
http(s) URL namespace naming a published process, :mod:`hybrid.server.udp_sharing`) is replaced
by the process's own nodes, renamed ``<node>:<inner node>``, with every
``{"from_parameter": name}`` replaced by the node's argument (or the parameter's default).
References to the calling node then point at the process's result node. The engine thus
only runs predefined processes, whichever backend it is. What Copernicus decides from a
process's graph on its own, not inlined, is marked on the nodes before: which masks it
applies in the load (:func:`hybrid.backends.local.data_masks.decide`, for the job's graph
and each process's, not for callbacks).

Parameters of callbacks shadow the process's parameters of the same name; the callback
parameters are recognised by their standard names (:data:`CALLBACK_PARAMETERS`).

Inside the callbacks Copernicus's script builder compiles (apply, reduce_dimension, ...;
:mod:`hybrid.backends.local.callback_support`) it neither runs a user-defined process
(the builder has no case for it) nor substitutes a process's parameters (the builder
reads the data for them). The expansion inlines and substitutes all the same, as openEO
defines it, and writes one warning for each such process and parameter (to the job's log
when a job runs): once inlined, the engine cannot see them any more.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hybrid.errors import ProcessGraphInvalid, ProcessUnsupported
from hybrid.limits import MAX_UDP_DEPTH
from hybrid.server.errors import ApiError

#: parameter names the predefined processes give their callbacks
CALLBACK_PARAMETERS = frozenset({"x", "y", "data", "context", "value", "index", "label"})

#: ``(process_id, namespace)`` -> the user-defined process the node calls, None for a
#: predefined one; it raises for a namespace that names nothing it can find
Lookup = Callable[[str, "str | None"], "dict[str, Any] | None"]


class ProcessParameterRequired(ApiError):
    code = "ProcessParameterRequired"


def expand(graph: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    """``graph`` with every call of a user-defined process inlined (callbacks included);
    what Copernicus would do otherwise goes to the run's warnings, once each."""
    from hybrid.run_warnings import warn

    notes: dict[str, None] = {}
    expanded = _expand(graph, _Walk(lookup, notes), ())
    for note in notes:
        warn(note)
    return expanded


@dataclass(frozen=True)
class _Walk:
    """What the expansion carries through the graph and its callbacks."""

    lookup: Lookup
    #: the warnings, in order, each once
    notes: dict[str, None]
    #: inside a callback Copernicus's script builder compiles: the process it belongs to
    builder: str | None = None
    #: inside a callback (any): no graph Copernicus evaluates as a process's own
    callback: bool = False

    def into(self, node: Mapping[str, Any]) -> _Walk:
        """The walk for ``node``'s callbacks."""
        from hybrid.backends.local.callback_support import compiled_callback

        builder = self.builder
        if builder is None and compiled_callback(node) is not None:
            builder = str(node["process_id"])
        return replace(self, builder=builder, callback=True)


def _expand(graph: Mapping[str, Any], walk: _Walk, stack: tuple[str, ...]) -> dict[str, Any]:
    if not walk.callback:
        graph = _masks_decided(graph, walk, stack[-1] if stack else None)
    out: dict[str, Any] = {}
    redirect: dict[str, str] = {}
    for node_id, node in graph.items():
        arguments = _in_callbacks(node.get("arguments", {}), walk.into(node), stack)
        node = {**node, "arguments": arguments}
        udp = walk.lookup(node["process_id"], node.get("namespace"))
        if udp is None:
            if node.get("namespace") == "user":
                raise ProcessUnsupported(
                    f"Process with identifier '{node['process_id']}' is not available in "
                    "namespace 'user': save it first (PUT /process_graphs/{id}).",
                    node=node_id,
                )
            out[node_id] = node
            continue
        if walk.builder is not None:
            _note_process_in_callback(str(node["process_id"]), walk)
        inner, result_id = _inline(node_id, node, udp, replace(walk, builder=None), stack)
        out.update(inner)
        redirect[node_id] = result_id
    return {node_id: _redirected(node, redirect) for node_id, node in out.items()}


def _inline(
    node_id: str,
    node: Mapping[str, Any],
    udp: Mapping[str, Any],
    walk: _Walk,
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
    body = _expand(udp["process_graph"], walk, (*stack, pid))
    values = _parameter_values(udp, node.get("arguments", {}), node_id)
    _note_parameters_in_callbacks(pid, body, set(values) - CALLBACK_PARAMETERS, walk)
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
        inner = {**inner, "arguments": substituted(inner.get("arguments", {}), values)}
        inner.pop("result", None)
        inlined[inner_id] = inner
    if node.get("result"):
        inlined[results[0]]["result"] = True
    return inlined, results[0]


def _parameter_values(
    udp: Mapping[str, Any], arguments: Mapping[str, Any], node_id: str
) -> dict[str, Any]:
    """The values of ``udp``'s parameters for a call with ``arguments``: an argument it
    does not declare is passed on too (Copernicus pushes every argument as a parameter
    and refuses none, openeo-python-driver processgraph/evaluator.py
    ``_evaluate_process_graph_process`` L373-388); a declared one missing takes its
    default, else is required."""
    declared = udp.get("parameters")
    if declared is None:  # no declaration: the arguments are the parameters
        return dict(arguments)
    names = {p["name"] for p in declared}
    values: dict[str, Any] = {k: v for k, v in arguments.items() if k not in names}
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


def _masks_decided(graph: Mapping[str, Any], walk: _Walk, process: str | None) -> dict[str, Any]:
    """``graph`` (a job's, or user-defined process ``process``'s own) with its masks marked
    applied in the load or not as Copernicus decides it for this graph alone, before
    inlining puts the process's nodes and the caller's together
    (:mod:`hybrid.backends.local.data_masks`)."""
    from hybrid.backends.local.data_masks import decide

    decided, notes = decide(graph, process)
    walk.notes.update(dict.fromkeys(notes))
    return decided


def _note_process_in_callback(pid: str, walk: _Walk) -> None:
    """Copernicus's builder has no case for a user-defined process (callback_support)."""
    from hybrid.backends.local.callback_support import outside_builder

    fix = "write the process's nodes into the callback"
    walk.notes[outside_builder(pid, str(walk.builder), fix)] = None


def _note_parameters_in_callbacks(
    pid: str, body: Mapping[str, Any], names: set[str], walk: _Walk
) -> None:
    """A note per parameter of process ``pid`` that a callback of ``body`` reads where
    Copernicus's callback builder cannot resolve it."""
    from hybrid.backends.local.callback_support import parameters_out_of_reach

    for inner in body.values():
        for name in parameters_out_of_reach(inner, names):
            note = (
                f"the callback of {inner['process_id']} in user-defined process '{pid}' "
                f"reads its parameter '{name}', which Copernicus's callback builder does "
                "not receive: it computes with the data there instead, so the result may "
                "differ; write the value into the callback to get the same result on both"
            )
            walk.notes[note] = None


def _in_callbacks(value: Any, walk: _Walk, stack: tuple[str, ...]) -> Any:
    """``value`` with user-defined processes inlined in the callbacks it holds."""
    if isinstance(value, Mapping):
        if isinstance(value.get("process_graph"), Mapping):
            return {**value, "process_graph": _expand(value["process_graph"], walk, stack)}
        return {key: _in_callbacks(item, walk, stack) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_callbacks(item, walk, stack) for item in value]
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


def substituted(
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
                    "arguments": substituted(node.get("arguments", {}), values, inner),
                }
                for node_id, node in value["process_graph"].items()
            }
            return {**value, "process_graph": graph}
        return {key: substituted(item, values, shadowed) for key, item in value.items()}
    if isinstance(value, list):
        return [substituted(item, values, shadowed) for item in value]
    return value

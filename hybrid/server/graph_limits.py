"""Limits on what the emulator accepts as a process graph, checked before any engine sees it.

A hostile or broken request must cost a 4xx, never a ``RecursionError`` (500): the JSON
nesting depth is checked on the raw bytes before parsing, then the graph is walked without
recursion for its node count, its callback depth, its reference objects and cycles between
``from_node`` references.
:func:`check_graph` runs on every graph of ``POST /validation``, ``POST /result``,
``POST /jobs``, ``PATCH /jobs/{id}`` and ``PUT /process_graphs/{id}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hybrid.graph_structure import reference_message, shape_problem
from hybrid.limits import MAX_CALLBACK_DEPTH, MAX_JSON_DEPTH, MAX_NODES
from hybrid.server.errors import BadRequest, GraphCycle, ProcessGraphComplexity

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


def check_graph(graph: Mapping[str, Any]) -> None:
    """Refuse graphs over :data:`MAX_NODES` or :data:`MAX_CALLBACK_DEPTH`, with a cycle or
    with a malformed ``from_node``/``from_parameter`` object (400 ``ProcessGraphInvalid``)."""
    problem = shape_problem(graph)
    if problem is None:
        return
    if problem.kind == "depth":
        raise ProcessGraphComplexity(
            f"The process graph nests callbacks deeper than {MAX_CALLBACK_DEPTH} levels "
            "(limit MAX_CALLBACK_DEPTH)."
        )
    if problem.kind == "nodes":
        raise ProcessGraphComplexity(
            f"The process graph has more than {MAX_NODES} nodes, callbacks included "
            "(limit MAX_NODES): split it into several jobs."
        )
    if problem.kind == "reference":
        raise GraphCycle(reference_message(problem), node=problem.nodes[0])
    raise GraphCycle(
        "Invalid process graph specified: it has a cycle through the nodes "
        f"{', '.join(problem.nodes[:5])} (from_node references must not loop).",
        node=problem.nodes[0],
    )

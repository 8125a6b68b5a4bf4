"""Parsing a process graph without re-typing its values.

openeo-pg-parser-networkx validates every node argument against a union that tries
``Year``, ``Date``, ``DateTime``, ``Duration``, ``TemporalInterval``, ``TemporalIntervals``
and ``Time`` before plain JSON (pg_schema.py ``ProcessNode.arguments``,
``union_mode='left_to_right'``, openeo-pg-parser-networkx 2025.x). So ``"2018-01-01T00:00:00Z"``
and ``"2018-01-01T00:00:00+00:00"`` become equal date-times (``eq`` on the texts must be
false), ``[]`` becomes an empty ``TemporalIntervals``, and ``["2020", "2021"]`` does not
parse at all (``TemporalInterval``'s validator compares two ``Year`` models, which have no
``>``: TypeError). :func:`parse_graph` validates with the same models minus those date
types, so every process gets the values the graph wrote (bounding boxes and references
are parsed as before); the processes that take dates read the text
(hybrid.backends.local.written_values for graphs parsed elsewhere).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any


@functools.cache
def _plain_graph_model() -> Any:
    """ProcessGraph with an argument union without the date and interval models."""
    from typing import Annotated, Union

    from openeo_pg_parser_networkx import pg_schema as s
    from pydantic import Field

    class PlainResultReference(s.ResultReference):  # model config inherited
        node: PlainProcessNode

    class PlainProcessNode(s.ProcessNode):
        arguments: dict[
            str,
            Annotated[
                Union[  # noqa: UP007 (pydantic tries the members left to right)
                    PlainResultReference,
                    s.ParameterReference,
                    PlainProcessGraph,
                    s.BoundingBox,
                    int,
                    float,
                    bool,
                    list,
                    dict,
                    str,
                    None,
                ],
                Field(union_mode="left_to_right"),
            ],
        ]

    class PlainProcessGraph(s.ProcessGraph):
        process_graph: dict[str, PlainProcessNode]

    for model in (PlainResultReference, PlainProcessNode, PlainProcessGraph):
        model.model_rebuild(_types_namespace=locals())
    return PlainProcessGraph


def parse_graph(flat_graph: Mapping[str, Any]) -> Any:
    """An ``OpenEOProcessGraph`` of ``{"process_graph": flat_graph}`` whose node arguments
    keep their JSON values (see the module docstring), its nodes validated one at a time
    (:func:`_validated_bottom_up`) and Python's recursion limit raised for its size
    (:func:`deep_enough`)."""
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    class PlainOpenEOProcessGraph(OpenEOProcessGraph):
        @staticmethod
        def _parse_datamodel(nested_graph: dict[str, Any]) -> Any:
            model = _plain_graph_model()
            _validated_bottom_up(nested_graph, model.model_fields["process_graph"])
            return model.model_validate(nested_graph, strict=True)

    deep_enough(flat_graph)
    return PlainOpenEOProcessGraph({"process_graph": dict(flat_graph)})


#: Python frames the parser and the run take per node of a chain, with room to spare
_FRAMES_PER_NODE = 24


def deep_enough(flat_graph: Mapping[str, Any]) -> None:
    """Raise (never lower) Python's recursion limit for a graph of this many nodes,
    callbacks included: openeo-pg-parser-networkx unflattens the graph and runs its
    nodes recursively, a few frames per node of the longest chain, so the default
    limit of 1000 breaks a chain of about 200 (Python 3.11 keeps those frames off the
    C stack)."""
    import sys

    from hybrid.graph_structure import subgraphs

    nodes = sum(len(graph) for graph, _depth in subgraphs(flat_graph))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000 + _FRAMES_PER_NODE * nodes))


def _validated_bottom_up(nested: Any, field: Any) -> None:
    """Validate the nested graph's nodes deepest first, each once, and put each model in
    place of its dict: validating the whole nesting at once stops at pydantic-core's
    recursion limit (255 levels: a chain of 255 nodes), after which a reference is no
    longer recognised as one (``add`` got the reference's dict as ``x``)."""
    import typing

    node_model = typing.get_args(field.annotation)[1]  # dict[str, PlainProcessNode]
    done: dict[int, Any] = {}
    entered: set[int] = set()
    stack: list[tuple[Any, bool]] = [(nested, False)]
    while stack:
        item, leaving = stack.pop()
        if isinstance(item, list):
            stack.extend((value, False) for value in item)
        elif isinstance(item, dict) and leaving:
            key = id(item["node"])
            if key not in done:
                done[key] = node_model.model_validate(item["node"], strict=True)
            item["node"] = done[key]
        elif isinstance(item, dict):
            reference = set(item) == {"from_node", "node"} and isinstance(item["node"], dict)
            if reference:
                stack.append((item, True))
                if id(item["node"]) in entered:
                    continue
                entered.add(id(item["node"]))
            stack.extend((value, False) for value in item.values())

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
    keep their JSON values (see the module docstring)."""
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    class PlainOpenEOProcessGraph(OpenEOProcessGraph):
        @staticmethod
        def _parse_datamodel(nested_graph: dict[str, Any]) -> Any:
            return _plain_graph_model().model_validate(nested_graph, strict=True)

    return PlainOpenEOProcessGraph({"process_graph": dict(flat_graph)})

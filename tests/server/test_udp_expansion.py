"""The expansion of user-defined processes (hybrid.server.udp_expansion) and its notes on
what Copernicus's callback builder would do otherwise (callback_support)."""

from __future__ import annotations

from typing import Any

from hybrid.backends.local.load_paths import IN_LOAD
from hybrid.run_warnings import warnings_to
from hybrid.server.udp_expansion import expand


def _node(process_id: str, result: bool = False, **arguments: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"process_id": process_id, "arguments": arguments}
    if result:
        node["result"] = True
    return node


def _callback(**nodes: dict[str, Any]) -> dict[str, Any]:
    return {"process_graph": nodes}


X = {"from_parameter": "x"}
EXTENT = {"from_parameter": "extent"}
#: triple(v) = v * 3; scaled(data, factor) = apply(data, x * factor)
PROCESSES: dict[str, dict[str, Any]] = {
    "triple": {
        "id": "triple",
        "parameters": [{"name": "v", "schema": {"type": "number"}}],
        "process_graph": {"m": _node("multiply", True, x={"from_parameter": "v"}, y=3)},
    },
    "scaled": {
        "id": "scaled",
        "parameters": [
            {"name": "data", "schema": {"type": "object", "subtype": "datacube"}},
            {"name": "factor", "schema": {"type": "number"}, "default": 2},
        ],
        "process_graph": {
            "a": _node(
                "apply",
                True,
                data={"from_parameter": "data"},
                process=_callback(m=_node("multiply", True, x=X, y={"from_parameter": "factor"})),
            )
        },
    },
    # load_b04(extent): its load; masked(extent): its load masked by its SCL load;
    # masked_by(data): data masked by its own SCL load
    "load_b04": {
        "id": "load_b04",
        "process_graph": {"l": _node("load_collection", True, id="S2", spatial_extent=EXTENT)},
    },
    "masked": {
        "id": "masked",
        "process_graph": {
            "l": _node("load_collection", id="S2", spatial_extent=EXTENT),
            "s": _node("load_collection", id="S2", spatial_extent=EXTENT, bands=["SCL"]),
            "m": _node("mask", True, data={"from_node": "l"}, mask={"from_node": "s"}),
        },
    },
    "masked_by": {
        "id": "masked_by",
        "process_graph": {
            "s": _node("load_collection", id="S2", bands=["SCL"]),
            "m": _node("mask", True, data={"from_parameter": "data"}, mask={"from_node": "s"}),
        },
    },
}


def _expanded(graph: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    with warnings_to(lambda message, **_: notes.append(message)):
        expanded = expand(graph, lambda pid, _namespace: PROCESSES.get(pid))
    return expanded, notes


def test_a_process_called_in_a_compiled_callback_is_inlined_with_one_note() -> None:
    """The builder has no case for a user-defined process ('Unsupported operation'):
    inlined here (the engine never sees its id, so the expansion writes the note),
    noted once however often it is called; in load_collection's property filter, which
    Copernicus evaluates itself, without a note."""
    call = _callback(t=_node("triple", True, v=X))
    cloud = _callback(t=_node("triple", True, v={"from_parameter": "value"}))
    graph = {
        "load": _node("load_collection", id="SENTINEL2_L2A", properties={"eo:cloud_cover": cloud}),
        "a": _node("apply", data={"from_node": "load"}, process=call),
        "b": _node("apply", True, data={"from_node": "a"}, process=call),
    }
    expanded, notes = _expanded(graph)
    inner = expanded["b"]["arguments"]["process"]["process_graph"]
    assert [n["process_id"] for n in inner.values()] == ["multiply"]
    assert inner["t:m"]["arguments"] == {"x": X, "y": 3}
    (note,) = notes
    assert note.startswith("the callback of apply uses 'triple'")
    assert "Unsupported operation: triple" in note


def test_a_parameter_read_in_a_compiled_callback_is_substituted_with_a_note() -> None:
    """Copernicus hands the callback to its builder without the process's parameters;
    here the argument is substituted (openEO) and the note says so; the parameter
    ``data``, given outside the callback, gives none."""
    graph = {
        "load": _node("load_collection", id="SENTINEL2_L2A"),
        "s": _node("scaled", True, data={"from_node": "load"}, factor=5),
    }
    expanded, notes = _expanded(graph)
    multiply = expanded["s:a"]["arguments"]["process"]["process_graph"]["m"]
    assert multiply["arguments"] == {"x": X, "y": 5}
    (note,) = notes
    assert "callback of apply in user-defined process 'scaled' reads its parameter 'factor'" in note
    _, no_notes = _expanded({"t": _node("triple", True, v=4)})
    assert no_notes == []


def test_an_argument_the_process_does_not_declare_is_passed_on() -> None:
    """``triple(v=2, colour="red")``: Copernicus refuses no argument of a user-defined
    process (python-driver evaluator.py ``_evaluate_process_graph_process`` pushes them
    all as parameters); it was a 400 ProcessParameterUnsupported here."""
    graph = {"t": _node("triple", True, v=2, colour="red")}
    expanded, notes = _expanded(graph)
    (node,) = expanded.values()
    assert node["process_id"] == "multiply" and node["arguments"] == {"x": 2, "y": 3}
    assert notes == []


def test_masks_are_marked_as_copernicus_decides_them_before_inlining() -> None:
    """Copernicus evaluates a call as a node of the process's id, not passed by its data
    mask optimization, and a process's graph on its own (python-driver evaluator.py
    L361-368, L373-395): the mask of ``load_b04``'s call is computed pixel by pixel,
    the one inside ``masked`` goes into its load, the one of ``masked_by``'s parameter
    (a KeyError there) is computed, with one note however often it is called."""
    scl = _node("load_collection", id="S2", bands=["SCL"])
    callback = _callback(m=_node("mask", True, data=X, mask=X))
    graph = {
        "b": _node("load_b04", extent={"west": 6}),
        "scl": scl,
        "m": _node("mask", data={"from_node": "b"}, mask={"from_node": "scl"}),
        "in": _node("masked", extent={"west": 6}),
        "by1": _node("masked_by", data={"from_node": "b"}),
        "by2": _node("masked_by", data={"from_node": "m"}),
        "a": _node("apply", True, data={"from_node": "by2"}, process=callback),
    }
    expanded, notes = _expanded(graph)
    marks = {k: v["arguments"].get(IN_LOAD) for k, v in expanded.items()}
    assert {k: v for k, v in marks.items() if v is not None} == {
        "m": False, "in:m": True, "by1:m": False, "by2:m": False,
    }  # fmt: skip
    assert expanded["by1:m"]["arguments"]["data"] == {"from_node": "b:l"}
    inner = expanded["a"]["arguments"]["process"]["process_graph"]
    assert IN_LOAD not in inner["m"]["arguments"]
    (note,) = notes
    assert note.startswith("the mask 'm' in user-defined process 'masked_by' reads a parameter")

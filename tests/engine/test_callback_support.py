"""A callback process Copernicus's script builder has no case for, and a process its
registry lacks, are computed here with one warning per process id
(hybrid.backends.local.callback_support, copernicus_registry)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from hybrid.backends.local.callback_support import warn_outside_builder
from hybrid.backends.local.copernicus_registry import NOT_ON_COPERNICUS, warn_not_on_copernicus
from hybrid.backends.local.registry import supported_process_ids
from hybrid.errors import HybridWarning


def _node(process_id: str, **arguments: Any) -> dict[str, Any]:
    return {"process_id": process_id, "arguments": arguments}


def _callback(*nodes: dict[str, Any]) -> dict[str, Any]:
    graph = {f"n{i}": dict(node) for i, node in enumerate(nodes)}
    graph[f"n{len(nodes) - 1}"]["result"] = True
    return {"process_graph": graph}


def _notes(graph: dict[str, Any], check: Callable[..., None] = warn_outside_builder) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check(graph)
    return [str(w.message) for w in caught if issubclass(w.category, HybridWarning)]


def test_a_process_without_a_builder_case_is_named_once() -> None:
    x = {"from_parameter": "x"}
    mod = _callback(_node("mod", x=x, y=7))
    graph = {
        "load": _node("load_collection", id="SENTINEL2_L2A"),
        "a": _node("apply", data={"from_node": "load"}, process=mod),
        "b": _node("apply", data={"from_node": "a"}, process=mod),
    }
    (note,) = _notes(graph)
    assert note.startswith("the callback of apply uses 'mod'")
    assert "Unsupported operation: mod" in note


def test_nested_callbacks_count_and_a_lone_udf_does_not() -> None:
    data = {"from_parameter": "data"}
    contains = _callback(_node("array_contains", data=data, value=3))
    nested = _callback(_node("array_apply", data=data, process=contains), _node("max", data=data))
    udf = _callback(_node("run_udf", data=data, udf="...", runtime="Python"))
    graph = {
        "r": _node("reduce_dimension", data=None, dimension="t", reducer=nested),
        "u": _node("reduce_dimension", data=None, dimension="t", reducer=udf),
    }
    (note,) = _notes(graph)
    assert "reduce_dimension uses 'array_contains'" in note


def test_the_builders_processes_and_other_parents_give_no_note() -> None:
    x = {"from_parameter": "x"}
    graph = {
        "a": _node("apply", process=_callback(_node("gt", x=x, y=0.1))),
        "m": _node("merge_cubes", overlap_resolver=_callback(_node("mod", x=x, y=2))),
    }
    assert _notes(graph) == []


@pytest.mark.parametrize("refused", ["sort", "order"])
def test_the_refused_ones_are_graphchecks(refused: str) -> None:
    graph = {"a": _node("apply_dimension", process=_callback(_node(refused, data={})))}
    assert _notes(graph) == []


def test_apply_neighborhoods_callback_is_compiled_too() -> None:
    data = {"from_parameter": "data"}
    graph = {"n": _node("apply_neighborhood", process=_callback(_node("cumsum", data=data)))}
    (note,) = _notes(graph)
    assert note.startswith("the callback of apply_neighborhood uses 'cumsum'")


def test_a_label_condition_on_t_beyond_date_comparisons_is_named_once() -> None:
    """FileLayerProvider.scala L1601-1606 runs the condition on each scene's date: only
    date_between and eq/neq/and/or against constants compute on a value there."""
    value = {"from_parameter": "value"}
    before = _callback(_node("lte", x=value, y="2023-06-15"))
    both = _callback(
        _node("date_between", x=value, min="2023-06-01T00:00:00Z", max="2023-07-01T00:00:00Z"),
        _node("text_begins", data=value, pattern="2023-06"),
        _node("and", x={"from_node": "n0"}, y={"from_node": "n1"}),
    )
    graph = {
        "a": _node("filter_labels", data=None, dimension="t", condition=before),
        "b": _node("filter_labels", data={"from_node": "a"}, dimension="t", condition=both),
        "c": _node("filter_labels", data={"from_node": "b"}, dimension="t", condition=before),
        "d": _node("filter_labels", data={"from_node": "c"}, dimension="bands", condition=before),
    }
    notes = _notes(graph)
    assert [n.split("'")[3] for n in notes] == ["lte", "text_begins"]
    assert all("compare dates with date_between" in n for n in notes)
    supported = _callback(
        _node("date_between", x=value, min="2023-06-01T00:00:00Z", max="2023-07-01T00:00:00Z"),
        _node("eq", x={"from_node": "n0"}, y=False),
    )
    assert _notes({"a": _node("filter_labels", dimension="t", condition=supported)}) == []


def test_date_between_bounds_without_a_time_and_zone_are_noted() -> None:
    """The builder parses date_between's bounds with ``ZonedDateTime.parse``
    (OpenEOProcessScriptBuilder.scala L829-831), which refuses a date or a date-time
    without an offset: the job fails there; a zoned date-time passes."""
    value = {"from_parameter": "value"}
    dates = _callback(_node("date_between", x=value, min="2023-06-01", max="2023-07-01"))
    zoned = _callback(
        _node("date_between", x=value, min="2023-06-01T00:00+02:00", max="2023-07-01T00:00:00Z")
    )
    graph = {
        "a": _node("filter_labels", data=None, dimension="t", condition=dates),
        "b": _node("filter_labels", data={"from_node": "a"}, dimension="t", condition=zoned),
    }
    (note,) = _notes(graph)
    assert "'2023-06-01', '2023-07-01' without a time and zone" in note
    assert "ZonedDateTime.parse and fails" in note


def test_a_label_condition_comparing_the_date_with_text_is_noted() -> None:
    """Copernicus hands the condition a date-time (FileLayerProvider.scala L1605): its
    ``eq`` with a text is never true, ``neq`` always; against a boolean it works."""
    value = {"from_parameter": "value"}
    day = _callback(_node("eq", x=value, y="2023-06-12T00:00:00Z"))
    other = _callback(_node("neq", x="2023-06-12T00:00:00Z", y=value))
    graph = {
        "a": _node("filter_labels", data=None, dimension="t", condition=day),
        "b": _node("filter_labels", data={"from_node": "a"}, dimension="t", condition=other),
    }
    eq_note, neq_note = _notes(graph)
    assert "compares the date with a text (eq)" in eq_note and "eq is false" in eq_note
    assert "(neq)" in neq_note and "neq is true" in neq_note


def test_a_parameter_read_in_a_compiled_callback_is_out_of_the_builders_reach() -> None:
    """Copernicus's builder gets none of a user-defined process's parameters; a lone UDF,
    a callback outside the builder (load_collection's properties) and a parameter given
    outside the callback (the parent's own arguments) are resolved there."""
    from hybrid.backends.local.callback_support import parameters_out_of_reach

    sigma = {"from_parameter": "sigma"}
    data = {"from_parameter": "data"}
    times = _callback(_node("median", data=data), _node("multiply", x=sigma, y={"from_node": "n0"}))
    reach = parameters_out_of_reach
    assert reach(_node("apply_dimension", dimension="t", process=times), {"sigma"}) == ["sigma"]
    nested = _callback(
        _node("array_apply", data=data, process=_callback(_node("add", x=1, y=sigma)))
    )
    assert reach(_node("reduce_dimension", dimension="t", reducer=nested), {"sigma", "k"}) == [
        "sigma"
    ]
    udf = _callback(_node("run_udf", data=data, udf="...", runtime="Python", context=sigma))
    assert reach(_node("apply", process=udf), {"sigma"}) == []
    cloud = _callback(_node("lte", x={"from_parameter": "value"}, y=sigma))
    assert reach(_node("load_collection", properties={"eo:cloud_cover": cloud}), {"sigma"}) == []
    assert (
        reach(
            _node("apply", process=_callback(_node("absolute", x=data)), context=sigma), {"sigma"}
        )
        == []
    )


# -- processes no Copernicus registry has (copernicus_registry) -----------------------------


def test_the_missing_processes_are_processes_the_engine_runs() -> None:
    assert not NOT_ON_COPERNICUS - set(supported_process_ids())


def test_each_missing_process_is_named_once_and_callbacks_are_the_builders() -> None:
    cumsum = _callback(_node("cumsum", data={"from_parameter": "data"}))
    graph = {
        "load": _node("load_collection", id="SENTINEL2_L2A"),
        "a": _node("resample_cube_temporal"),
        "b": _node("trim_cube"),
        "c": _node("trim_cube"),
        "d": _node("apply_dimension", process=cumsum),
        "e": _node("save_result"),
    }
    notes = _notes(graph, warn_not_on_copernicus)
    assert [n.split("'")[1] for n in notes] == ["resample_cube_temporal", "trim_cube"]
    assert all("fails there with ProcessUnsupported" in n for n in notes)
    kept = {k: v for k, v in graph.items() if k in ("load", "d", "e")}
    assert _notes(kept, warn_not_on_copernicus) == []


def test_a_callback_computing_with_its_context_is_noted_once_per_parent() -> None:
    """Copernicus's builder gets a map of values for the context, not the parameter
    (geopysparkdatacube.py L379, L414-418, L818; OpenEOProcessScriptBuilder.scala
    ``fromParameter`` L975-995): only a predict process's ``model`` reads it by design."""
    data = {"from_parameter": "data"}
    context = {"from_parameter": "context"}
    scaled = _callback(
        _node("mean", data=data), _node("multiply", x={"from_node": "n0"}, y=context)
    )
    nested = _callback(
        _node("array_apply", data=data, process=_callback(_node("add", x=1, y=context)))
    )
    model = _callback(_node("predict_random_forest", data=data, model=context))
    passed_on = _callback(_node("array_apply", data=data, process=_callback(_node("abs", x=1))))
    passed_on["process_graph"]["n0"]["arguments"]["context"] = {"k": 1}
    graph = {
        "r": _node("reduce_dimension", dimension="t", reducer=scaled, context=2),
        "s": _node("reduce_dimension", dimension="bands", reducer=scaled, context=2),
        "a": _node("apply_dimension", dimension="t", process=nested, context=2),
        "p": _node("reduce_dimension", dimension="bands", reducer=model, context={}),
        "q": _node("apply_dimension", dimension="t", process=passed_on),
    }
    notes = _notes(graph)
    assert [n.split(" computes")[0] for n in notes] == [
        "the callback of reduce_dimension",
        "the callback of apply_dimension",
    ]
    assert all("write the value into the callback" in n for n in notes)

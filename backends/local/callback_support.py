"""The processes Copernicus can compute inside a data cube callback, and a note on others.

Copernicus compiles the callback of ``apply``, ``apply_dimension``, ``apply_neighborhood``,
``reduce_dimension`` and ``aggregate_temporal(_period)``, nested callbacks such as
``array_apply``'s included, with its script builder, which has one case per process id
(openeo-geotrellis-extensions 2a25a26e OpenEOProcessScriptBuilder.scala ``expressionEnd``
L1086-1216; the visitor hands every node of the callback to it, openeo-geopyspark-driver
``processgraphvisiting.py``). Any other process - ``mod``, ``cumsum``,
``array_contains``, ``is_valid``, the text processes, a user-defined process - fails the
job there with "Unsupported operation: <id>". A callback that is a lone ``run_udf``
runs as a UDF instead (openeogeotrellis/backend.py ``accept_process_graph``, which
geopysparkdatacube.py ``apply_neighborhood`` calls too).

hybrid computes such a callback (the builder gains cases over time, and the local result
is still worth having) and says once per process id, in the run's warnings (a job's log
in the emulator), that the same graph may fail on Copernicus. ``sort``, ``order`` and
``rearrange`` are refused before the run instead (:mod:`hybrid.backends.local.graphcheck`).
A filter_labels condition on ``t`` is compiled by the same builder and run on each
scene's date, where fewer cases work (:data:`LABEL_CONDITION_PROCESSES`).

The builder gets none of a user-defined process's parameters either: a compiled callback
that reads one computes with the data there (:func:`parameters_out_of_reach`). hybrid
substitutes the parameter, as openEO defines it. The emulator inlines user-defined
processes before the run (:mod:`hybrid.server.udp_expansion`), so it writes the notes
on both (:func:`outside_builder` for a process called in a callback). The same holds
for the parent's ``context`` read as an operand (:func:`_context_notes`): hybrid hands
every callback its parent's context, as openEO defines it, and notes the difference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from hybrid.graph_structure import callback_graph

#: the process ids the script builder has a case for (``expressionEnd`` L1110-1214)
BUILDER_PROCESSES = frozenset(
    {
        "abs", "absolute", "add", "all", "and", "any", "arccos", "arcsin", "arctan",
        "array_append", "array_apply", "array_concat", "array_create", "array_element",
        "array_find", "array_interpolate_linear", "array_modify", "between", "ceil", "clip",
        "cos", "cosh", "count", "date_between", "date_difference", "date_replace_component",
        "date_shift", "divide", "eq", "exp", "first", "floor", "gt", "gte", "if", "inspect",
        "int", "is_nan", "is_nodata", "last", "linear_scale_range", "ln", "log", "lt", "lte",
        "max", "mean", "median", "min", "multiply", "neq", "normalized_difference", "not",
        "or", "power", "predict_catboost", "predict_probabilities", "predict_random_forest",
        "product", "quantiles", "round", "sd", "sin", "sinh", "sqrt", "subtract", "sum",
        "tan", "tanh", "variance", "xor",
    }
)  # fmt: skip
#: the processes whose callback the builder compiles, and the callback's argument
COMPILED_CALLBACKS = {
    "apply": "process",
    "apply_dimension": "process",
    "apply_neighborhood": "process",
    "reduce_dimension": "reducer",
    "aggregate_temporal": "reducer",
    "aggregate_temporal_period": "reducer",
}
#: processes refused before the run in these callbacks (graphcheck): the builder has no
#: case for them either ("Unsupported operation: sort", L1214), and outside callbacks
#: they are plain-value processes there (openeo-python-driver processgraph/registry.py
#: L77-78, openeo-processes-python)
REFUSED_IN_CALLBACKS = frozenset({"sort", "order", "rearrange"})
#: what the builder computes on a scene's date: Copernicus pushes a filter_labels
#: condition on ``t`` into the load, which hands each scene's date to the compiled
#: condition as a value (openeo-geotrellis-extensions FileLayerProvider.scala
#: L1601-1606); only ``date_between`` (L817-838) and ``eq``/``neq``/``and``/``or``
#: against constants (``xyConstantFunction`` L841-862) compute on a value, every other
#: case on tiles
LABEL_CONDITION_PROCESSES = frozenset({"date_between", "eq", "neq", "and", "or"})


def warn_outside_builder(graph: Mapping[str, Any]) -> None:
    """One warning per process id in a compiled callback of ``graph`` (flat) that the
    builder has no case for."""
    from hybrid.run_warnings import warn

    found: dict[str, str] = {}
    for node in graph.values():
        callback = compiled_callback(node)
        if callback is None:
            continue
        for pid in (str(inner.get("process_id")) for inner in _nested_nodes(callback)):
            if pid not in BUILDER_PROCESSES and pid not in REFUSED_IN_CALLBACKS:
                found.setdefault(pid, str(node["process_id"]))
    for pid, parent in found.items():
        warn(outside_builder(pid, parent, "compute it in a UDF (run_udf)"))
    for note in [*_label_condition_notes(graph), *_context_notes(graph)]:
        warn(note)


def _context_notes(graph: Mapping[str, Any]) -> list[str]:
    """A note per parent process whose compiled callback in ``graph`` (flat) reads the
    parent's ``context`` as an operand.

    Copernicus hands the builder a map of values, not the parameter: ``apply`` and a
    reduction over bands wrap a non-object context as ``{"context": value}``
    (geopysparkdatacube.py ``_apply_bands_dimension`` L414-418); a reduction or
    apply_dimension over ``t`` and aggregate_temporal(_period) pass an object only
    (L379, L818, L1004); apply_dimension over bands none (L389). ``fromParameter``
    (OpenEOProcessScriptBuilder.scala L975-995) reads the data tiles for a name not in
    the map, and a number found there is not the tiles ``xyFunction`` maps (L883-930;
    inferred, not seen running). Only the ``model`` of the predict processes is read
    from the map by design (``checkMlArguments`` L1593-1602)."""
    parents = {
        str(node["process_id"]): None
        for node in graph.values()
        if (callback := compiled_callback(node)) is not None and _reads_context(callback)
    }
    return [
        f"the callback of {parent} computes with its 'context': Copernicus's callback "
        "builder does not resolve the context as an operand (it computes with the data in "
        "its place, or fails on a number), so the same graph may differ there; write the "
        "value into the callback to get the same result on both"
        for parent in parents
    ]


def _reads_context(nodes: Mapping[str, Any]) -> bool:
    for inner in _nested_nodes(nodes):
        arguments = dict(inner.get("arguments") or {})
        if str(inner.get("process_id")).startswith("predict_"):
            arguments.pop("model", None)
        plain = [v for v in arguments.values() if callback_graph(v) is None]
        if "context" in _parameter_references(plain):
            return True
    return False


def _label_condition_notes(graph: Mapping[str, Any]) -> list[str]:
    """A note per process id of the filter_labels conditions on ``t`` in ``graph``
    (flat) that Copernicus's builder cannot compute on a date, and per ``eq``/``neq``
    that compares the date with a text: the builder hands the condition each scene's
    date as a date-time object (FileLayerProvider.scala L1605, ``fromParameter``
    L975-995), which ``xyConstantFunction`` (L852-853) compares with the text by
    equality: never equal."""
    notes: dict[str, None] = {}
    for inner in _label_condition_nodes(graph):
        pid = str(inner.get("process_id"))
        if pid not in LABEL_CONDITION_PROCESSES:
            notes[
                f"the condition of filter_labels on 't' uses '{pid}': Copernicus applies "
                "the condition to each scene's date when loading, where its callback "
                "builder compares dates only with date_between and eq/neq/and/or against "
                "constants; the same graph may fail there; compare dates with date_between"
            ] = None
        elif pid == "date_between" and (bounds := _unzoned_bounds(inner)):
            notes[
                f"the condition of filter_labels on 't' gives date_between the bound(s) "
                f"{', '.join(map(repr, bounds))} without a time and zone: Copernicus parses "
                "them with Java's ZonedDateTime.parse and fails (the job fails there); write "
                "date-times such as '2023-06-01T00:00:00Z'"
            ] = None
        elif pid in ("eq", "neq") and _date_against_text(inner):
            notes[
                f"the condition of filter_labels on 't' compares the date with a text "
                f"({pid}): Copernicus hands the condition each scene's date as a date-time, "
                f"which never equals a text there ({pid} is {str(pid == 'neq').lower()} for "
                "every scene); compare dates with date_between"
            ] = None
    return list(notes)


def _label_condition_nodes(graph: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for node in graph.values():
        nodes = _child_graph(node, "condition")
        if nodes is None or node.get("process_id") != "filter_labels":
            continue
        if (node.get("arguments") or {}).get("dimension") == "t":
            yield from _nested_nodes(nodes)


#: what Java's ZonedDateTime.parse reads (ISO_ZONED_DATE_TIME): a date-time with an offset
_ZONED = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)(\[[^]]+\])?",
    re.IGNORECASE,
)


def _unzoned_bounds(node: Mapping[str, Any]) -> list[str]:
    """date_between's literal min/max that ZonedDateTime.parse refuses (OpenEOProcessScript
    Builder.scala ``dateBetweenProcess`` L829-831)."""
    arguments = node.get("arguments") or {}
    values = [arguments.get(name) for name in ("min", "max")]
    return [v for v in values if isinstance(v, str) and not _ZONED.fullmatch(v)]


def _date_against_text(node: Mapping[str, Any]) -> bool:
    values = [(node.get("arguments") or {}).get(name) for name in ("x", "y")]
    return any(isinstance(v, str) for v in values) and any(map(_is_parameter, values))


def outside_builder(pid: str, parent: str, fix: str) -> str:
    """The note for process ``pid`` in a compiled callback of ``parent``, which the
    builder has no case for (a user-defined process among them: the emulator inlines it
    before the run, :mod:`hybrid.server.udp_expansion`, so the note is written there)."""
    return (
        f"the callback of {parent} uses '{pid}', which Copernicus's callback builder has "
        f"no case for: the same graph may fail there (Unsupported operation: {pid}); "
        f"{fix} to run it on both"
    )


def compiled_callback(node: Any) -> Mapping[str, Any] | None:
    """The nodes of ``node``'s callback that Copernicus's script builder compiles; None
    when ``node`` has no such callback or it is a lone run_udf (a UDF there)."""
    if not isinstance(node, Mapping) or node.get("process_id") not in COMPILED_CALLBACKS:
        return None
    nodes = _child_graph(node, COMPILED_CALLBACKS[str(node["process_id"])])
    if nodes is None:
        return None
    ids = [inner.get("process_id") for inner in nodes.values() if isinstance(inner, Mapping)]
    return None if ids == ["run_udf"] else nodes


def _child_graph(node: Any, argument: str) -> Mapping[str, Any] | None:
    """The nodes of the child process graph in ``node``'s ``argument``, if it holds one."""
    if not isinstance(node, Mapping):
        return None
    return callback_graph((node.get("arguments") or {}).get(argument))


def parameters_out_of_reach(node: Any, names: Iterable[str]) -> list[str]:
    """Which of ``names`` (a user-defined process's parameters) the compiled callback of
    ``node`` reads, although Copernicus's builder never gets them.

    Copernicus evaluates a user-defined process with its arguments as parameters of the
    evaluation (openeo-python-driver 9e5b49b2 processgraph/evaluator.py
    ``_evaluate_process_graph_process`` L373-388), but returns a callback unresolved
    (L229-230), and geopysparkdatacube.py hands it to the builder with no parameters but
    the parent's ``context`` (``_apply_bands_dimension`` L414-418, ``apply_dimension``
    L365-381, ``reduce_dimension`` L815-818). The builder's ``fromParameter`` reads the
    data tiles for a name it does not find (OpenEOProcessScriptBuilder.scala L975-995);
    a number it does find there (a key of a context object) is not a tile, which
    ``xyFunction`` (L883-930) expects (inferred from the code, not seen running). Only a
    constant in the callback is the same on both.
    """
    nodes = compiled_callback(node)
    if nodes is None:
        return []
    read = set(_parameter_references(nodes))
    return sorted(n for n in names if n in read)


def _is_parameter(value: Any) -> bool:
    """Whether ``value`` is a parameter reference, ``{"from_parameter": name}``."""
    return isinstance(value, Mapping) and set(value) == {"from_parameter"}


def _parameter_references(value: Any) -> Iterator[str]:
    if _is_parameter(value):
        yield str(value["from_parameter"])
        return
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _parameter_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _parameter_references(item)


def _nested_nodes(nodes: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    pending = [nodes]
    while pending:
        for node in pending.pop().values():
            if not isinstance(node, Mapping):
                continue
            yield node
            for value in (node.get("arguments") or {}).values():
                if (graph := callback_graph(value)) is not None:
                    pending.append(graph)

"""dask's fused tasks run in an order worked out once: the same results, no dask.order
per task, inner results dropped after their last use."""

from __future__ import annotations

from typing import Any

import dask
import dask.array as da
import dask.order
import numpy as np
import pytest
from dask._task_spec import DataNode, Task, TaskRef, _execute_subgraph

from hybrid.backends.local import fused_tasks


def _pipeline() -> Any:
    base = da.from_array(np.arange(64.0).reshape(8, 8), chunks=4)
    masked = da.where(base > 10, base * 2, np.nan)
    return (masked + 1).map_overlap(lambda b: b * 1.0, depth=1, boundary=0).sum(axis=0)


def _count_orders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = dask.order.order

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dask.order, "order", counting)
    return calls


def test_rewritten_graph_has_no_subgraph_tasks() -> None:
    array = _pipeline()
    plain = dask.array.optimization.optimize(dict(array.__dask_graph__()), array.__dask_keys__())
    rewritten = fused_tasks.optimize(dict(array.__dask_graph__()), array.__dask_keys__())
    fused = [n for n in plain.values() if isinstance(n, Task) and n.func is _execute_subgraph]
    assert fused, "the pipeline should have fused tasks to rewrite"
    funcs = {getattr(n, "func", None) for n in rewritten.values()}
    assert _execute_subgraph not in funcs and fused_tasks.run_steps in funcs


def test_same_result_and_no_order_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    want = _pipeline().compute(scheduler="synchronous")
    calls = _count_orders(monkeypatch)
    with dask.config.set(array_optimize=fused_tasks.optimize):
        got = _pipeline().compute(scheduler="synchronous")
    np.testing.assert_array_equal(got, want)
    assert len(calls) == 1  # the scheduler's order of the outer graph only
    calls.clear()
    _pipeline().compute(scheduler="synchronous")
    assert len(calls) > 1  # dask's own fused tasks order their inner graphs


def test_diamond_runs_inputs_first_and_drops_them() -> None:
    seen: list[str] = []

    def step(name: str, *args: float) -> float:
        seen.append(name)
        return sum(args) + 1

    inner = {
        "a": Task("a", step, "a", TaskRef("x")),
        "b": Task("b", step, "b", TaskRef("a")),
        "c": Task("c", step, "c", TaskRef("a"), TaskRef("b")),
        "out": Task("out", step, "out", TaskRef("c"), TaskRef("x")),
        "unused": Task("unused", step, "unused", TaskRef("x")),
    }
    fused = Task("out", _execute_subgraph, inner, "out", ("x",), TaskRef("x"))
    node = fused_tasks._rewritten(fused, Task, _execute_subgraph)
    assert node.func is fused_tasks.run_steps
    steps = node.args[0]
    assert [task.key for task, _ in steps] == ["a", "b", "c", "out"]
    assert dict((task.key, set(drop)) for task, drop in steps) == {
        "a": set(),
        "b": set(),
        "c": {"a", "b"},
        "out": {"c", "x"},
    }
    assert node({"x": 1.0}) == fused({"x": 1.0}) == 8.0
    assert seen[:4] == ["a", "b", "c", "out"]


def test_missing_input_is_an_error() -> None:
    inner = {"a": Task("a", float, TaskRef("x"))}
    with pytest.raises(ValueError, match="not given"):
        fused = Task("a", _execute_subgraph, inner, "a", (), DataNode(None, 1))
        fused_tasks._rewritten(fused, Task, _execute_subgraph)


def test_fusion_leaves_no_aliases_but_the_asked_keys() -> None:
    from dask._task_spec import Alias, execute_graph
    from dask.core import flatten

    array = _pipeline()
    keys = array.__dask_keys__()
    plain = dask.array.optimization.optimize(dict(array.__dask_graph__()), keys)
    assert sum(isinstance(n, Alias) for n in plain.values()) > 0  # dask's fusion makes them
    rewritten = fused_tasks.optimize(dict(array.__dask_graph__()), keys)
    aliases = {k for k, n in rewritten.items() if isinstance(n, Alias)}
    assert aliases <= set(flatten(keys))
    assert len(rewritten) < len(plain) - 16
    got = execute_graph(rewritten, keys=set(flatten(keys)))
    want = execute_graph(plain, keys=set(flatten(keys)))
    for key in flatten(keys):
        np.testing.assert_array_equal(got[key], want[key])

"""dask's fused tasks, run in an order worked out once when the graph is optimized.

dask's array optimization fuses a block's chain of tasks (read, mask, kernel, NDVI,
...) into one task whose function, ``_execute_subgraph``, runs the inner graph with
``execute_graph``: that calls ``dask.order`` on the inner graph every time the task
runs, and hands every inner task the whole dictionary of values computed so far
(each one turns it into a set to check its inputs). On the benchmark's 30 x 2048^2
graph that was 1647 ``order`` calls, about 1 s of 19 CPU s, and 3 s at 20 x 4096^2.

:func:`optimize` is dask's array optimization followed by a rewrite of every fused task
into :func:`run_steps` over a precomputed sequence: the inner graph's tasks in
depth-first post-order from its output (inputs before the tasks that use them; a
subtree is finished before the next one starts, which keeps few values alive in a
tree-shaped graph), each with the keys it is the last user of, so that they are
dropped as soon as possible. Each inner task gets only its own inputs. Nested fused
tasks are rewritten too. A graph dask did not materialize (low-level fusion switched
off) is left as it is.

The aliases that fusion leaves behind (a fused chain takes a new name, and its old key
stays as a task that passes the value on) are dropped and their users read the fused
task directly: they were 1845 of the 5115 tasks of a ``hybrid run`` at 30 x 2048^2
(``python -m benchmarks.timeline 30x2048`` before this), each a round trip through the
scheduler for nothing.

Used through ``dask.config.set(array_optimize=optimize)``, with threads and on a
dask.distributed cluster (the workers import this module to run the tasks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: one step of a fused task: the inner task, and the keys nothing needs after it
Step = tuple[Any, tuple[Any, ...]]


def optimize(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    """dask's array optimization, then every fused task rewritten to :func:`run_steps`."""
    from dask.array.optimization import optimize as array_optimize

    optimized = array_optimize(dsk, keys, **kwargs)
    try:
        from dask._task_spec import Task, _execute_subgraph  # dask's private API
    except ImportError:  # a dask without it: its fused tasks stay as they are
        return optimized
    if not isinstance(optimized, dict):
        return optimized
    rewritten = {key: _rewritten(node, Task, _execute_subgraph) for key, node in optimized.items()}
    return without_aliases(rewritten, keys)


def without_aliases(graph: dict[Any, Any], keys: Any) -> dict[Any, Any]:
    """``graph`` without its aliases (tasks that only pass on another key's value) but
    those asked for in ``keys``: their users read the aliased key itself."""
    from dask._task_spec import Alias
    from dask.core import flatten

    asked = set(flatten(keys)) if isinstance(keys, list) else {keys}
    target = {k: n.target for k, n in graph.items() if isinstance(n, Alias) and k not in asked}
    subs = {}
    for key, aliased in target.items():
        while aliased in target:
            aliased = target[aliased]
        subs[key] = aliased
    out = {}
    for key, node in graph.items():
        if key in subs:
            continue
        # a node's few dependencies looked up in subs (frozenset.isdisjoint(dict) walks
        # the whole dict, for every node)
        replaced = {d: subs[d] for d in node.dependencies if d in subs}
        if replaced:
            node = node.substitute(replaced)
        out[key] = node
    return out


def run_steps(steps: tuple[Step, ...], outkey: Any, inkeys: tuple[Any, ...], *inputs: Any) -> Any:
    """Run a fused task's inner tasks in the given order and return ``outkey``'s value."""
    values = dict(zip(inkeys, inputs, strict=True))
    for node, done in steps:
        values[node.key] = node({key: values[key] for key in node.dependencies})
        for key in done:
            del values[key]
    return values[outkey]


def _rewritten(node: Any, task: Any, fused: Any) -> Any:
    """``node`` rewritten to :func:`run_steps` when it is a ``task`` whose function is
    ``fused`` (dask's ``Task`` and ``_execute_subgraph``), else as it is."""
    if not (isinstance(node, task) and node.func is fused):
        return node
    inner, outkey, inkeys, *inputs = node.args
    if not isinstance(inner, Mapping) or node.kwargs:
        return node  # not the shape this module knows: leave it to dask
    graph = {key: _rewritten(sub, task, fused) for key, sub in inner.items()}
    return task(
        node.key,
        run_steps,
        _steps(graph, outkey, tuple(inkeys)),
        outkey,
        tuple(inkeys),
        *inputs,
        _data_producer=node.data_producer,
    )


def _steps(graph: Mapping[Any, Any], outkey: Any, inkeys: tuple[Any, ...]) -> tuple[Step, ...]:
    """``graph``'s tasks needed for ``outkey`` in depth-first post-order, each with the
    keys (inner results or inputs) whose last user it is."""
    order: list[Any] = []
    seen: set[Any] = set()
    stack: list[tuple[Any, bool]] = [(outkey, False)]
    while stack:
        key, expanded = stack.pop()
        if expanded:
            order.append(key)
            continue
        if key in seen or key not in graph:
            continue  # done already, or one of the fused task's inputs
        seen.add(key)
        stack.append((key, True))
        stack.extend((dep, False) for dep in sorted(graph[key].dependencies, key=str, reverse=True))
    last_user: dict[Any, int] = {}
    for position, key in enumerate(order):
        for dep in graph[key].dependencies:
            last_user[dep] = position
    done: list[list[Any]] = [[] for _ in order]
    for dep, position in last_user.items():
        if dep != outkey:
            done[position].append(dep)
    missing = set().union(*(graph[key].dependencies for key in order)) - set(graph) - set(inkeys)
    if missing:
        raise ValueError(f"fused task needs keys it is not given: {sorted(map(str, missing))}")
    return tuple((graph[key], tuple(drop)) for key, drop in zip(order, done, strict=True))

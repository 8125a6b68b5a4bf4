"""Pipeline (b): stock openeo-processes-dask executing the same process graph.

Every process is openeo-processes-dask's own implementation (apply_kernel, mask,
aggregate_temporal_period, ndvi, the comparisons), none of the project's overrides.
openeo-processes-dask has no load_collection and no save_result, so the project's
(:class:`hybrid.backends.local.run.Run`) are plugged in: the same lazy cube goes in, the same
NetCDF writer comes out, on dask's threaded scheduler. Month labels come out as
month ends (openeo-processes-dask's labelling); the values are comparable by position.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def stock_registry(implementations: Mapping[str, Any]) -> Any:
    """openeo-processes-dask's processes with their specs, plus ``implementations``."""
    from openeo_pg_parser_networkx import ProcessRegistry
    from openeo_pg_parser_networkx.process_registry import Process

    from hybrid.backends.local.registry import process_spec
    from hybrid.backends.local.stock import stock_implementations, stock_processes

    stock_implementations()  # quietly, before its core module imports the package
    from openeo_processes_dask.process_implementations.core import process

    registry = ProcessRegistry(wrap_funcs=[process])  # openeo-processes-dask's own wrapper
    for pid, spec, func in stock_processes():
        registry["predefined", pid] = Process(spec=spec, implementation=func)
    for pid, func in implementations.items():
        registry["predefined", pid] = Process(spec=process_spec(pid), implementation=func)
    return registry


def run_stock(graph: Mapping[str, Any], *, catalog: Path, out_dir: Path) -> list[Path]:
    """Run ``graph`` with stock openeo-processes-dask; returns the files written."""
    from openeo_pg_parser_networkx import OpenEOProcessGraph

    from hybrid.backends.local import LocalBackend, LocalSettings
    from hybrid.backends.local.run import Run

    settings = LocalSettings(stac=str(catalog))
    facts = LocalBackend(settings).validate(graph)
    run = Run(settings=settings, facts=facts, out_dir=Path(out_dir))
    registry = stock_registry(
        {"load_collection": run.load_collection, "save_result": run.save_result}
    )
    pg = OpenEOProcessGraph({"process_graph": dict(graph)})
    pg.to_callable(process_registry=registry)()
    return list(run.files)

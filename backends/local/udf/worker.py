"""The UDF worker: ``python -E -s -c ... FOLDER`` started by
:mod:`hybrid.backends.local.udf.isolated`.

It reads ``FOLDER/task.json`` and the input chunks (written by the server), confines
itself (:mod:`hybrid.backends.local.udf.sandbox`), then runs the UDF on every chunk with
``openeo.udf.run_udf_code``, as the Copernicus executors do
(openeo-geopyspark-driver ``openeogeotrellis/udf/__init__.py`` ``run_udf_code``), and
writes ``out-ID.*`` per chunk; or, for a table task, over an aggregate_spatial time
series (:mod:`hybrid.backends.local.udf.feature_tables`) and writes its JSON answer.
A failure is written to ``FOLDER/error.json`` as the
summary Copernicus gives (``GeoPySparkBackendImplementation.summarize_exception_static``
and ``extract_udf_stacktrace``, openeogeotrellis/backend.py:1049-1225).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

#: the prefix of Copernicus's job error for an exception raised in UDF code
UDF_EXCEPTION = (
    "UDF exception while evaluating processing graph. Please check your user defined "
    "functions. stacktrace:\n"
)
_MEMORY_HINT = (
    "Ran out of memory. If you run as a batch_job, consider increasing job_options > python-memory."
)
_STACK_WIDTH = 2000
#: the longest error a UDF gives its job (an exception's message is the UDF's to choose)
MAX_SUMMARY_CHARS = 8000


def shortened(text: str, limit: int = MAX_SUMMARY_CHARS) -> str:
    """``text``, cut after ``limit`` characters with a note saying how many more."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... ({len(text) - limit} characters more)"


def _collapse(stacktrace: str, width: int = _STACK_WIDTH) -> str:
    """Long stack traces keep their first and last five lines (as Copernicus)."""
    if len(stacktrace) > width - 150:
        lines = [line[:500] for line in stacktrace.split("\n")]
        collapsed = "\n".join([*lines[:5], "... skipped stack frames ...", *lines[-5:]])
        if len(collapsed) < len(stacktrace):
            return collapsed
    return stacktrace


def error_summary(exc: BaseException) -> str:
    """The job error Copernicus reports for ``exc`` raised while running a UDF."""
    full = "".join(traceback.format_exception(exc))
    needle = 'File "<string>",'
    index = full.find(needle)
    if index != -1:
        start = full.rfind("\n", 0, index) + 1
        summary = UDF_EXCEPTION + _collapse(full[start:].rstrip())
    else:
        name = type(exc).__module__ + "." + type(exc).__qualname__
        name = name.removeprefix("builtins.")
        summary = f"Python exception while evaluating processing graph: {name}: {exc}"
    summary = shortened(summary)
    if isinstance(exc, MemoryError):
        summary += "\n" + _MEMORY_HINT
    return summary


def _run(folder: Path, task: dict[str, Any]) -> None:
    if task.get("mode") == "table":
        _run_table(folder, task)
    elif task.get("mode") == "features":
        _run_features(folder, task)
    else:
        _run_chunks(folder, task)


def _run_features(folder: Path, task: dict[str, Any]) -> None:
    """The UDF on vector data, as Copernicus's run_udf gives it (``cubes.py`` L507-545):
    a ``FeatureCollection`` of geometries (a DelayedVector or GeoJSON there), or a JSON
    value as ``StructuredData`` (a vector cube's legacy JSON); its feature collection back
    as GeoJSON with its CRS, or its structured data."""
    import geopandas as gpd
    from openeo.udf import FeatureCollection, StructuredData, UdfData
    from openeo.udf.run_code import run_udf_code

    from hybrid.backends.local.udf.exchange import FEATURES, TABLE_RESULT
    from hybrid.backends.local.udf.user_logs import json_default

    proj = task.get("proj") or {}
    given = json.loads((folder / FEATURES).read_text(encoding="utf-8"))
    crs = f"EPSG:{proj['EPSG']}" if proj.get("EPSG") else None
    context = task.get("context") or {}
    structured = "structured" in given
    # as Copernicus: no proj with structured data
    data = UdfData(user_context=context) if structured else UdfData(proj, user_context=context)
    if structured:
        # as Copernicus: an array is "Data list", a vector cube's JSON "Dictionary data"
        kind = given.get("type", "dict")
        description = "Data list" if kind == "list" else "Dictionary data"
        value = given["structured"]
        data.set_structured_data_list(
            [StructuredData(description=description, data=value, type=kind)]
        )
    else:
        frame = gpd.GeoDataFrame.from_features(given["features"]["features"], crs=crs)
        data.set_feature_collection_list([FeatureCollection(id="VectorCollection", data=frame)])
    result = run_udf_code(code=task["code"], data=data)
    text = json.dumps(_answer(result, crs), default=json_default)
    (folder / TABLE_RESULT).write_text(text, encoding="utf-8")


def _answer(result: Any, crs: str | None) -> dict[str, Any]:
    """The first feature collection of ``result`` (GeoJSON, its CRS, the indexes of its
    invalid geometries), else its structured data."""
    import geopandas as gpd

    from hybrid.backends.local.udf.user_logs import json_default

    collections = result.get_feature_collection_list() or []
    structured = result.get_structured_data_list() or []
    if collections:
        answer = collections[0].data
        if isinstance(answer, gpd.GeoSeries):
            answer = gpd.GeoDataFrame(geometry=answer)
        return {
            "features": json.loads(answer.to_json(na="null", drop_id=True, default=json_default)),
            "crs": answer.crs.to_string() if answer.crs is not None else crs,
            "invalid": [int(i) for i, ok in enumerate(answer.is_valid) if not ok],
        }
    if structured:
        return {"structured": [s.data for s in structured]}
    raise ValueError(
        "The provided UDF should return exactly either a feature collection or a "
        f"structured result but got: {result}"
    )


def _run_table(folder: Path, task: dict[str, Any]) -> None:
    from hybrid.backends.local.udf.exchange import TABLE, TABLE_RESULT
    from hybrid.backends.local.udf.feature_tables import run_table
    from hybrid.backends.local.udf.user_logs import json_default

    table = json.loads((folder / TABLE).read_text(encoding="utf-8"))
    value = run_table(task["code"], table, task.get("context") or {})
    text = json.dumps(value, default=json_default)
    (folder / TABLE_RESULT).write_text(text, encoding="utf-8")


def _instant(text: str) -> Any:
    """A chunk's date as Copernicus gives it in ``attrs["t"]``: geopyspark's
    ``SpaceTimeKey.instant``, a naive ``datetime`` in UTC (geopysparkdatacube.py L897)."""
    import datetime

    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")


def _with_float32_grid(array: Any) -> Any:
    """``array`` with float32 ``x`` and ``y`` pixel centres, as Copernicus builds a UDF's
    chunk (geopysparkdatacube.py ``_numpy_to_xarraydatacube`` L600-601:
    ``np.linspace(..., dtype=np.float32)``): arithmetic on the coordinates in the UDF is
    float32 arithmetic there (the results are stitched by position, not by these)."""
    import numpy as np

    grid = {d: array[d].values.astype(np.float32) for d in ("x", "y") if d in array.coords}
    return array.assign_coords(grid)


def _run_chunks(folder: Path, task: dict[str, Any]) -> None:
    from openeo.udf import UdfData, XarrayDataCube
    from openeo.udf.run_code import run_udf_code

    from hybrid.backends.local.udf.exchange import read_chunk, write_chunk
    from hybrid.backends.local.udf.metadata import relabel, result_band_names

    names = None
    for index, chunk_id in enumerate(task["chunks"]):
        array = _with_float32_grid(read_chunk(folder, f"in-{chunk_id}"))
        if isinstance(array.attrs.get("t"), str):
            array.attrs["t"] = _instant(array.attrs["t"])
        context = task.get("context") or {}
        if index == 0 and "apply_metadata" in task["code"]:
            epsg = (task.get("proj") or {}).get("EPSG")
            names = result_band_names(task["code"], array, context, epsg)
        data = UdfData(
            proj=task.get("proj") or {},
            datacube_list=[XarrayDataCube(array)],
            user_context=context,
        )
        result = run_udf_code(code=task["code"], data=data)
        cubes = result.get_datacube_list() or []
        if len(cubes) != 1:
            raise ValueError(f"The provided UDF should return one datacube, but got: {cubes}")
        answer = cubes[0].get_array()
        if answer.dtype.kind not in "biuf":
            raise TypeError(f"The UDF returned {answer.dtype} values: a cube holds real numbers")
        write_chunk(folder, f"out-{chunk_id}", relabel(answer, names))


def _bound_tasks(tasks: dict[str, Any]) -> None:
    """Join the server's cgroup for this worker, and for a user other than uid 0 cap its
    tasks (:mod:`hybrid.backends.local.udf.task_limit`)."""
    from hybrid.backends.local.udf.task_limit import cap_user_tasks, join

    if tasks.get("cgroup"):
        join(tasks["cgroup"])
    cap_user_tasks(int(tasks["limit"]))


def end(code: int) -> None:
    """End the worker with ``code`` as soon as its results are written, as Copernicus takes
    a UDF's result when ``run_udf_code`` returns (geopyspark-driver 9baf2e10
    openeogeotrellis/geopysparkdatacube.py L905-913): nothing waits for threads the UDF
    left running, nor for the interpreter to free its modules (seconds of CPU at the
    worker's nice 19 (the default) on a busy machine). What was printed is flushed first; the UDF's
    log records are written as they come (:mod:`hybrid.backends.local.udf.user_logs`)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a UDF closed or replaced the stream
            stream.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    from hybrid.backends.local.udf.sandbox import (
        Limits,
        confine,
        die_with_parent,
        lower_priority,
        set_limits,
    )

    folder = Path(argv[1])
    task = json.loads((folder / "task.json").read_text(encoding="utf-8"))
    die_with_parent(int(task["server_pid"]))
    # everything the worker itself needs is imported before the file system closes
    import dask.array  # noqa: F401  (xarray imports it lazily on the first operation)
    import numpy
    import openeo.udf.run_code
    import pandas  # noqa: F401
    import xarray

    (xarray.DataArray(numpy.zeros(2), dims="t") * 1).mean()  # xarray's lazy imports

    import openeo.metadata  # noqa: F401

    if task.get("mode") == "features":
        import geopandas  # noqa: F401

    import hybrid.backends.local.udf.exchange
    import hybrid.backends.local.udf.feature_tables
    import hybrid.backends.local.udf.metadata  # noqa: F401
    from hybrid.backends.local.udf.user_logs import capture

    capture(folder)

    _bound_tasks(task["tasks"])
    set_limits(Limits(**task["limits"]))
    lower_priority(int(task["nice"]))
    confine(read=task["read"], write=[str(folder)])
    sys.path[:] = [p for p in sys.path if p and p not in task.get("hide", [])]
    (folder / "ready").touch()  # the server's time limit starts now
    try:
        _run(folder, task)
    except BaseException as exc:  # the summary goes to the job log, the worker ends
        summary = error_summary(exc)
        (folder / "error.json").write_text(json.dumps({"summary": summary}), encoding="utf-8")
        return 3
    return 0


if __name__ == "__main__":
    end(main(sys.argv))

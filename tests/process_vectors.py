"""Loader and runner for the official openEO process test vectors (JSON5).

The vectors live in ``../shared/openeo-spec/process-tests`` (upstream
Open-EO/openeo-processes ``tests/``; format in its README.upstream.md). Encoded
values are decoded as the local engine represents them:

- ``{"type": "nodata"}`` -> ``None`` (scalars) or NaN (inside a data cube);
- ``{"type": "datetime", ...}`` -> its RFC 3339 text;
- ``{"type": "labeled-array", ...}`` -> a 1-D ``xarray.DataArray`` on dimension ``labels``;
- ``{"type": "datacube", ...}`` -> an ``xarray.DataArray`` in float64, nodata as NaN,
  temporal labels as ``datetime64[ns]`` where they parse, text otherwise;
- ``{"$ref": "assets/..."}`` -> the referenced file, decoded the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: where the vectors are in a checkout next to ``../shared``
VECTOR_DIR = Path(__file__).resolve().parents[2] / "shared" / "openeo-spec" / "process-tests"


class MissingAsset(Exception):
    """A vector refers to an asset file that does not exist (upstream data bug)."""


@dataclass(frozen=True)
class Vector:
    """One test case of one process file."""

    process_id: str
    index: int
    arguments: dict[str, Any]
    returns: Any = None
    throws: str | None = None
    #: the case refers to an asset that is not in the folder (``arguments`` are then raw)
    missing_asset: str | None = None

    @property
    def name(self) -> str:
        return f"{self.process_id}[{self.index}]"


def read_json5(path: Path) -> Any:
    import json5

    with path.open(encoding="utf-8") as handle:
        return json5.load(handle)


def resolve_refs(value: Any, base: Path) -> Any:
    """Replace every ``{"$ref": path}`` by the referenced file's content."""
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            target = base / str(value["$ref"])
            if not target.is_file():
                raise MissingAsset(str(value["$ref"]))
            return resolve_refs(read_json5(target), target.parent)
        return {key: resolve_refs(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_refs(item, base) for item in value]
    return value


def load_vectors(process_id: str, *, folder: Path = VECTOR_DIR) -> list[Vector]:
    """All cases of ``<process_id>.json5``, with ``$ref`` resolved (not yet decoded)."""
    path = folder / f"{process_id}.json5"
    document = read_json5(path)
    cases = []
    for index, test in enumerate(document.get("tests", [])):
        missing = None
        try:
            arguments = resolve_refs(test.get("arguments", {}), folder)
            returns = resolve_refs(test.get("returns"), folder)
        except MissingAsset as exc:
            missing = str(exc)
            arguments, returns = test.get("arguments", {}), test.get("returns")
        cases.append(
            Vector(
                process_id=process_id,
                index=index,
                arguments=arguments,
                returns=returns,
                throws=test.get("throws"),
                missing_asset=missing,
            )
        )
    return cases


def _parse_time(labels: list[Any]) -> np.ndarray | None:
    try:
        parsed = [np.datetime64(str(label).rstrip("Z"), "ns") for label in labels]
    except ValueError:
        return None
    return np.array(parsed, dtype="datetime64[ns]")


def decode_datacube(cube: dict[str, Any]) -> Any:
    import xarray as xr

    order = list(cube["order"])
    coords: dict[str, Any] = {}
    for dim in order:
        meta = cube["dimensions"][dim]
        labels = list(meta.get("values", []))
        if meta.get("type") == "temporal":
            parsed = _parse_time(labels)
            coords[dim] = parsed if parsed is not None else np.array(labels, dtype=object)
        elif meta.get("type") == "spatial":
            coords[dim] = np.asarray(labels, dtype=np.float64)
        else:
            coords[dim] = np.asarray(labels)
    shape = tuple(len(coords[dim]) for dim in order)
    raw = cube.get("data")
    values: np.ndarray = (
        np.full(shape, np.nan) if raw is None else np.asarray(raw, dtype=np.float64)
    )
    nodata = cube.get("nodata")
    for marker in nodata if isinstance(nodata, list) else [nodata]:
        if marker is not None and not (isinstance(marker, float) and math.isnan(marker)):
            values = np.where(values == float(marker), np.nan, values)
    return xr.DataArray(values.reshape(shape), dims=order, coords=coords)


def decode(value: Any) -> Any:
    """A vector value as the local engine represents it."""
    import xarray as xr

    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "nodata":
            return None
        if kind == "datetime":
            return str(value["value"])
        if kind == "labeled-array":
            items = value["data"]
            return xr.DataArray(
                [decode(item["value"]) for item in items],
                dims=["labels"],
                coords={"labels": [item["key"] for item in items]},
            )
        if kind == "datacube":
            return decode_datacube(value)
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def label_text(value: Any) -> str:
    """A dimension label as text: time as RFC 3339 ``YYYY-MM-DDTHH:MM:SSZ``."""
    if isinstance(value, np.datetime64):
        return np.datetime_as_string(value.astype("datetime64[s]"), unit="s") + "Z"
    return str(value)


def assert_cube_equal(
    actual: Any,
    expected: Any,
    *,
    decimals: int = 10,
    labels: Callable[[str, list[str]], list[str]] | None = None,
) -> None:
    """``actual`` equals the decoded ``expected`` cube (dims, labels, values, NaN).

    ``labels(dim, expected_labels)`` may rewrite the expected labels of a dimension
    (used where Copernicus labels differ from the spec on purpose).
    """
    import xarray as xr

    assert isinstance(actual, xr.DataArray), f"expected a data cube, got {type(actual)}"
    assert set(actual.dims) == set(expected.dims), (actual.dims, expected.dims)
    actual = actual.transpose(*expected.dims)
    for dim in expected.dims:
        want = [label_text(v) for v in expected[dim].values]
        if labels is not None:
            want = labels(str(dim), want)
        got = [label_text(v) for v in actual[dim].values]
        if expected[dim].dtype.kind == "f":
            np.testing.assert_allclose(
                np.asarray(actual[dim].values, dtype=float), expected[dim].values, err_msg=dim
            )
        else:
            assert got == want, f"labels of '{dim}': {got} != {want}"
    got_values = np.asarray(actual.values, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got_values), np.isnan(expected.values))
    np.testing.assert_allclose(
        got_values, expected.values, rtol=0, atol=10.0**-decimals, equal_nan=True
    )


def assert_scalar_equal(actual: Any, expected: Any, *, decimals: int = 10) -> None:
    """Scalar results; nodata is ``None`` (NaN from numpy counts as nodata only if allowed)."""
    if isinstance(actual, np.ndarray) and actual.ndim == 0:
        actual = actual.item()
    if isinstance(actual, np.generic):
        actual = actual.item()
    if expected is None:
        assert actual is None, f"expected nodata, got {actual!r}"
        return
    if isinstance(expected, bool):
        assert isinstance(actual, bool | np.bool_), f"expected {expected}, got {actual!r}"
        assert bool(actual) is expected
        return
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), f"expected NaN, got {actual!r}"
        return
    if isinstance(expected, int | float):
        assert not isinstance(actual, bool), f"expected {expected}, got {actual!r}"
        assert actual == expected or (
            math.isfinite(expected) and abs(actual - expected) <= 10.0**-decimals
        ), f"expected {expected}, got {actual!r}"
        return
    assert actual == expected, f"expected {expected!r}, got {actual!r}"


def iter_files(folder: Path = VECTOR_DIR) -> Iterator[str]:
    for path in sorted(folder.glob("*.json5")):
        yield path.stem


def run_through_engine(process_id: str, arguments: dict[str, Any]) -> Any:
    """Run one process the way the local engine does: a flat graph, parsed as the engine
    parses it (hybrid.backends.local.graph_parsing) and executed with its registry.

    Data-cube arguments (already decoded to ``xarray``) come from ``load_collection``
    nodes that return them; callbacks (``{"process_graph": ...}``) and plain JSON
    values are passed through unchanged.
    """
    import xarray as xr

    from hybrid.backends.local.engine import _strict_nested_references
    from hybrid.backends.local.graph_parsing import parse_graph
    from hybrid.backends.local.registry import registry_for_run
    from hybrid.geometries import crs_members_as_text

    cubes: dict[str, Any] = {}
    graph: dict[str, Any] = {}
    node_args: dict[str, Any] = {}
    for name, value in arguments.items():
        if isinstance(value, xr.DataArray):
            cubes[name] = value
            graph[f"load_{name}"] = {
                "process_id": "load_collection",
                "arguments": {"id": name, "spatial_extent": None, "temporal_extent": None},
            }
            node_args[name] = {"from_node": f"load_{name}"}
        else:
            node_args[name] = value
    graph["process"] = {"process_id": process_id, "arguments": node_args, "result": True}

    def load_collection(id: str, **_: Any) -> Any:
        return cubes[id]

    def save_result(data: Any, **_: Any) -> Any:
        return data

    registry = registry_for_run({"load_collection": load_collection, "save_result": save_result})
    _strict_nested_references()
    return parse_graph(crs_members_as_text(graph)).to_callable(process_registry=registry)()


def to_raster(value: Any) -> Any:
    """A decoded scalar/array argument as a one-pixel raster sees it: numbers and
    booleans as float64 (true = 1, false = 0), nodata as NaN; text stays text."""
    import xarray as xr

    if isinstance(value, xr.DataArray):
        return value
    if value is None or isinstance(value, bool | int | float):
        return np.array([np.nan if value is None else float(value)])
    if isinstance(value, list):
        if all(v is None or isinstance(v, bool | int | float) for v in value):
            # a column: the values along axis 0 of a one-pixel cube
            column = [np.nan if v is None else float(v) for v in value]
            return np.array(column, dtype=np.float64).reshape(len(value), 1)
        return np.array(value)
    return value


def from_raster(value: Any, *, boolean: bool) -> Any:
    """The inverse of :func:`to_raster` for a result: NaN -> nodata (None)."""
    import xarray as xr

    if isinstance(value, xr.DataArray):
        value = value.values
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return value
        value = value.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if boolean and isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return value


def expected_in_raster(value: Any) -> Any:
    """A vector's expected scalar as a raster can hold it (NaN is nodata there)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

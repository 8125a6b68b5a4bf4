"""Chunks of a data cube as files: ``NAME.npy`` (values) and ``NAME.json`` (dims, coords);
a table task's time series and answer as JSON (:data:`TABLE`, :data:`TABLE_RESULT`).

Both directions use the same format: the server writes the input chunks into the
worker's exchange folder, the worker writes the UDF's results beside them. Reading
never unpickles (``allow_pickle=False``) and the JSON holds only dims, coordinate values
and attributes, so a hostile UDF's output cannot run code in the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

_DATETIME = "datetime64[ns]"
#: a table task's input (an aggregate_spatial time series) and the worker's JSON answer
TABLE = "table.json"
TABLE_RESULT = "result.json"
#: a features task's input (GeoJSON geometries, or a JSON value); its answer goes to
#: TABLE_RESULT
FEATURES = "features.json"


def _encode_values(values: np.ndarray) -> dict[str, Any]:
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values.astype(_DATETIME), unit="ns")
        return {"type": "datetime", "values": text.tolist()}
    if values.dtype.kind in "OSU":
        return {"type": "str", "values": [str(v) for v in values.tolist()]}
    return {"type": "number", "values": values.astype(np.float64).tolist()}


def _decode_values(encoded: dict[str, Any]) -> np.ndarray:
    kind = encoded.get("type")
    values = encoded.get("values", [])
    if kind == "datetime":
        return np.array([np.datetime64(str(v).rstrip("Z"), "ns") for v in values])
    if kind == "str":
        return np.array([str(v) for v in values], dtype=object)
    return np.asarray(values, dtype=np.float64)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def write_chunk(folder: Path, name: str, array: xr.DataArray) -> None:
    """``array`` (its 1-D coordinates and plain attributes) as ``folder/name.*``."""
    coords = {
        str(c): {"dims": [str(d) for d in array[c].dims], **_encode_values(array[c].values)}
        for c in array.coords
        if array[c].ndim == 1
    }
    meta = {
        "dims": [str(d) for d in array.dims],
        "coords": coords,
        "attrs": {str(k): _plain(v) for k, v in array.attrs.items()},
        "name": None if array.name is None else str(array.name),
    }
    np.save(folder / f"{name}.npy", np.ascontiguousarray(array.values), allow_pickle=False)
    (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")


def _load_numbers(path: Path) -> np.ndarray:
    """The array of a ``.npy`` file of booleans or numbers whose header agrees with its
    size: a UDF may write the file itself, and a header claiming 23 TiB made the
    server allocate them (a MemoryError, a 500)."""
    with path.open("rb") as file:
        major, _ = np.lib.format.read_magic(file)
        read_header = np.lib.format.read_array_header_1_0
        if major != 1:
            read_header = np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(file)
        if dtype.kind not in "biuf":
            raise ValueError(f"{path.name} holds {dtype} values, not real numbers")
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if size != path.stat().st_size - file.tell():
            raise ValueError(f"{path.name} does not hold the {shape} values it announces")
        file.seek(0)
        return np.asarray(np.load(file, allow_pickle=False))


def read_chunk(folder: Path, name: str) -> xr.DataArray:
    """The array :func:`write_chunk` wrote as ``folder/name.*``."""
    meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    values = _load_numbers(folder / f"{name}.npy")
    dims = [str(d) for d in meta["dims"]]
    coords = {
        str(c): (tuple(str(d) for d in spec["dims"]), _decode_values(spec))
        for c, spec in meta.get("coords", {}).items()
    }
    return xr.DataArray(
        values, dims=dims, coords=coords, attrs=dict(meta.get("attrs") or {}), name=meta.get("name")
    )
